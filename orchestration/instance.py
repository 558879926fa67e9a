"""Dagster's SQLite event log and run storage, with one open connection per database file instead of one
per event.

Dagster's `SqliteEventLogStorage` creates an SQLAlchemy engine for every event it stores and closes it
afterwards. Closing the last connection to a WAL database checkpoints it, so every event costs an engine,
a compiled statement, a commit and a checkpoint, each with its fsync: about 8 ms. A cold `make refresh`
stores some 1,500 events (every dbt test is an asset check, planned and then evaluated), so this was
seconds of each refresh. `PooledSqliteEventLogStorage` keeps one engine (and its pooled connection and
statement cache) per file and syncs the write-ahead log as SQLite advises for WAL mode
(`synchronous=NORMAL`: a power cut may lose the last events, never corrupts the file); about 1.2 ms per
event. The run storage (`runs.db`: a run's creation, status changes and tags) is kept open the same way.
A run's file is closed, and so checkpointed, as soon as the run has ended. And a new run's file is
a copy of an empty one made once per process, instead of being created and stamped by alembic each time
(about 150 ms for each of a cold refresh's 47 runs).

The refresh's instance also captures no compute logs: Dagster would start a `tail` and a Python watcher
process per run to copy each step's stdout and stderr into `dagster_home`, while the refresh already sends
all of its output (dbt's included) to its own log file under `logs/`.

Only `make refresh` uses these (`refresh_instance`, through `refresh_overrides`): the webserver and the
daemon keep Dagster's defaults, whose per-event checkpoint is what the UI's live view of a running run
watches for. The UI shows a refresh's runs once each has ended; their stdout and stderr are in the log file.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from dagster import DagsterEventType
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory, _runs_directory

RUN_ENDED = frozenset({DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED})
# The instance settings that choose a storage; when dagster.yaml names one, the refresh keeps it.
STORAGE_SETTINGS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
COMPUTE_LOGS_SETTING = "compute_logs"
NO_COMPUTE_LOGS = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def kept_engine(conn_string: str) -> sqlalchemy.Engine:
    """An engine whose pooled connection stays open between uses (a connection is handed to one thread at a
    time, so it may move between threads)."""
    engine = sqlalchemy.create_engine(
        conn_string, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
    sqlalchemy.event.listen(engine, "connect", _synchronous_normal)
    return engine


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """The stock SQLite event log (same files, same tables), with a kept engine per file."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        self._engines: dict[str, sqlalchemy.Engine] = {}
        self._engines_lock = threading.Lock()
        self._tables_present: set[str] = set()
        self._template: Path | None = None  # an empty, initialised run file, outside the runs folder
        self._template_dir: tempfile.TemporaryDirectory | None = None  # removed on dispose or at exit
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> sqlalchemy.Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = self._engines[shard] = kept_engine(self.conn_string_for_shard(shard))
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sqlalchemy.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._init_shard(shard, engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _init_shard(self, shard: str, engine: sqlalchemy.Engine) -> None:
        path = Path(self.path_for_shard(shard))
        if shard == INDEX_SHARD_NAME or path.exists():
            self._initdb(engine)  # an existing file is checked (and migrated) as Dagster does
            return
        partial = path.with_name(f".{path.name}.partial")  # not `*.db`: Dagster lists runs by that pattern
        shutil.copyfile(self._empty_run_file(), partial)
        os.replace(partial, path)

    def _empty_run_file(self) -> Path:
        if self._template is None:
            self._template_dir = tempfile.TemporaryDirectory(prefix="panel-dagster-")
            template = Path(self._template_dir.name) / "empty_run.db"
            engine = sqlalchemy.create_engine(f"sqlite:///{template}")
            self._initdb(engine)
            engine.dispose()  # the last connection closes: checkpointed, no log file beside it
            self._template = template
        return self._template

    def has_table(self, table_name: str) -> bool:
        """Asked before storing each asset check event; the stock storage opens a new engine every time.
        A table, once there, stays (migrations add tables), so only a yes is remembered."""
        if table_name in self._tables_present:
            return True
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            present = bool(engine.dialect.has_table(conn, table_name))
        if present:
            self._tables_present.add(table_name)
        return present

    def close_shard(self, shard: str) -> None:
        """Close the file's connection (the last one checkpoints it); the next use opens it again."""
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
        if engine is not None:
            engine.dispose()

    def store_event(self, event: Any) -> None:
        super().store_event(event)
        if event.is_dagster_event and event.dagster_event_type in RUN_ENDED:
            self.close_shard(event.run_id)

    def wipe(self) -> None:
        for shard in list(self._engines):
            self.close_shard(shard)
        super().wipe()

    def dispose(self) -> None:
        for shard in list(self._engines):
            self.close_shard(shard)
        if self._template_dir is not None:
            self._template_dir.cleanup()
            self._template, self._template_dir = None, None
        super().dispose()


class PooledSqliteRunStorage(SqliteRunStorage):
    """The stock SQLite run storage (same `runs.db`), with a kept engine."""

    def __init__(self, conn_string: str, inst_data: Any = None):
        super().__init__(conn_string, inst_data)
        self._engine: sqlalchemy.Engine | None = None
        self._engine_lock = threading.Lock()

    @contextmanager
    def connect(self) -> Iterator[sqlalchemy.Connection]:
        with self._engine_lock:
            if self._engine is None:
                self._engine = kept_engine(self._conn_string)
            engine = self._engine
        with engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()
        super().dispose()


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage under `base_dir`, with the pooled run storage and event log."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        super().__init__(base_dir, inst_data)
        self._run_storage = PooledSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> PooledSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)  # the parent's names its own class


def refresh_overrides(home: Path, config: Mapping[str, Any]) -> dict:
    """Instance overrides for the refresh: the pooled storage under `home` and no compute logs, each unless
    dagster.yaml (`config`) chose its own."""
    overrides: dict = {}
    if not any(setting in config for setting in STORAGE_SETTINGS):
        overrides["storage"] = {"custom": {"module": __name__, "class": PooledSqliteStorage.__name__,
                                           "config": {"base_dir": str(home)}}}
    if COMPUTE_LOGS_SETTING not in config:
        overrides[COMPUTE_LOGS_SETTING] = dict(NO_COMPUTE_LOGS)
    return overrides
