"""Holding a broken partition back at its last good version, so one bad file does not stop a publication.

A wave or UDI snapshot whose ingest step or blocking ingest check failed is held back: its rows in the
build are replaced by those of the published warehouse (its last good version) or, if it never loaded
good, removed. Everything downstream then builds as usual. Each held-back partition is recorded in the
build's `audit.held_back_partitions`, which the publication copies into the release manifest (`held_back`).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb


HELD_BACK_TABLE = "audit.held_back_partitions"
HELD_BACK_DDL = f"""
create table if not exists {HELD_BACK_TABLE} (
    partition_kind varchar not null,
    partition_key varchar not null,
    reason varchar not null,
    kept varchar not null,
    kept_from_release varchar
)"""
HELD_BACK_COMMENTS = {
    "": "One row per broken partition held back in this build: its rows are those of its last good version, "
        "or it is left out if it never loaded good.",
    "partition_kind": "survey (a wave folder) or udi (a snapshot folder).",
    "partition_key": "Wave id or UDI snapshot date (the folder name under raw/).",
    "reason": "The failed ingest step or blocking check, with the file and what was wrong.",
    "kept": "last good version, or left out (never loaded good).",
    "kept_from_release": "The release whose rows were kept (none when left out).",
}
KEPT_LAST_GOOD, LEFT_OUT = "last good version", "left out (never loaded good)"
# Each partition family: its kind in the raw tables -> its ingest asset, whose job is `<asset>_job`.
INGEST_ASSET_OF_KIND = {"survey": "survey_wave", "udi": "udi_snapshot"}
KIND_OF_JOB = {f"{asset}_job": kind for kind, asset in INGEST_ASSET_OF_KIND.items()}


@dataclass(frozen=True)
class HeldBack:
    kind: str  # "survey" or "udi"
    partition: str  # wave id or snapshot date
    reason: str  # the failed check(s) or step(s), in words
    kept: str  # KEPT_LAST_GOOD or LEFT_OUT
    kept_from_release: str | None = None  # the release whose rows were kept

    def line(self) -> str:
        source = f" (from release {self.kept_from_release})" if self.kept_from_release else ""
        return f"{self.kind} partition [{self.partition}] held back: {self.kept}{source}; because {self.reason}"

    def as_dict(self) -> dict:
        return asdict(self)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")  # ATTACH takes no parameters; a data root may hold a quote


@contextmanager
def _published_attached(con: duckdb.DuckDBPyConnection, published: Path) -> Iterator[None]:
    """The published file attached as `published_warehouse` for the duration. Detached after: an attached
    database belongs to the build file's DuckDB instance, not to the connection, and the refresh keeps that
    instance open while it ingests (orchestration.refresh.build_file_kept_open), so the next attach of the
    same name would fail."""
    con.execute(f"ATTACH '{_quoted(published)}' AS published_warehouse (READ_ONLY)")
    try:
        yield
    finally:
        con.execute("DETACH published_warehouse")


def _in_keys(column: str) -> str:
    return f"CAST({column} AS VARCHAR) IN (SELECT unnest(?::VARCHAR[]))"


def _delete_partitions(con: duckdb.DuckDBPyConnection, kind: str, keys: list[str]) -> None:
    from panel_ingest.raw_tables import AUDIT_TABLES, PARTITION_COLUMN, RAW_TABLES_OF, SOURCE_PREFIX

    for table in RAW_TABLES_OF[kind]:
        con.execute(f"DELETE FROM {table} WHERE {_in_keys(PARTITION_COLUMN[kind])}", [keys])
    for table in AUDIT_TABLES:
        con.execute(f"DELETE FROM {table} WHERE {_in_keys('partition_key')} AND source_file LIKE ?",
                    [keys, SOURCE_PREFIX[kind]])


def _published_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{schema}.{name}" for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'published_warehouse'").fetchall()}


def _copy_last_good(con: duckdb.DuckDBPyConnection, kind: str, keys: list[str]) -> int:
    """Insert the attached published file's raw and audit rows of the partitions; returns the raw rows copied."""
    from panel_ingest.raw_tables import AUDIT_TABLES, PARTITION_COLUMN, RAW_TABLES_OF, SOURCE_PREFIX

    present = _published_tables(con)
    copied = 0
    for table in RAW_TABLES_OF[kind]:
        if table in present:
            copied += con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM published_warehouse.{table} "
                                  f"WHERE {_in_keys(PARTITION_COLUMN[kind])}", [keys]).fetchone()[0]
    if copied:
        for table in AUDIT_TABLES:
            if table in present:
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM published_warehouse.{table} "
                            f"WHERE {_in_keys('partition_key')} AND source_file LIKE ?", [keys, SOURCE_PREFIX[kind]])
    return copied


def _keys_with_rows(con: duckdb.DuckDBPyConnection, kind: str, keys: list[str]) -> list[str]:
    """The keys the attached published file holds raw rows of."""
    from panel_ingest.raw_tables import PARTITION_COLUMN, RAW_TABLES_OF

    column, present = PARTITION_COLUMN[kind], _published_tables(con)
    selects = [f"SELECT DISTINCT CAST({column} AS VARCHAR) FROM published_warehouse.{table} WHERE {_in_keys(column)}"
               for table in RAW_TABLES_OF[kind] if table in present]
    if not selects:
        return []
    return sorted(row[0] for row in con.execute(" UNION ".join(selects), [keys] * len(selects)).fetchall())


def create_held_back_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists audit")
    con.execute(HELD_BACK_DDL)
    for column, comment in HELD_BACK_COMMENTS.items():
        target = f"TABLE {HELD_BACK_TABLE}" if not column else f"COLUMN {HELD_BACK_TABLE}.{column}"
        con.execute(f"COMMENT ON {target} IS '{comment}'")


def hold_back(build: Path, published: Path, kind: str, key: str, reason: str,
              release_id: str | None = None) -> HeldBack:
    """Replace the partition's rows in `build` by the published ones (or none) and record it as held back."""
    from panel_ingest.raw_tables import ensure_raw_tables  # pandas: loaded only when something is held back

    con = duckdb.connect(str(build))
    try:
        ensure_raw_tables(con)
        create_held_back_table(con)
        with _published_attached(con, published) if published.exists() else nullcontext():
            con.execute("BEGIN TRANSACTION")
            try:
                _delete_partitions(con, kind, [key])
                copied = _copy_last_good(con, kind, [key]) if published.exists() else 0
                held = HeldBack(kind, key, reason, KEPT_LAST_GOOD if copied else LEFT_OUT,
                                release_id if copied else None)
                con.execute(f"DELETE FROM {HELD_BACK_TABLE} WHERE partition_kind = ? AND partition_key = ?", [kind, key])
                con.execute(f"INSERT INTO {HELD_BACK_TABLE} VALUES (?, ?, ?, ?, ?)",
                            [held.kind, held.partition, held.reason, held.kept, held.kept_from_release])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return held
    finally:
        con.close()


def reuse_published(build: Path, published: Path, kind: str, keys: list[str]) -> list[str]:
    """Copy unchanged partitions' raw and audit rows from the published warehouse into `build` instead of
    ingesting their files again (orchestration.build_inputs says which are unchanged), in one transaction;
    returns the keys copied. A key the published file holds no raw rows of is not copied: the caller
    ingests it."""
    from panel_ingest.raw_tables import ensure_raw_tables

    if not keys:
        return []
    con = duckdb.connect(str(build))
    try:
        ensure_raw_tables(con)
        with _published_attached(con, published):
            reused = _keys_with_rows(con, kind, keys)
            if reused:
                con.execute("BEGIN TRANSACTION")
                try:
                    _delete_partitions(con, kind, reused)
                    _copy_last_good(con, kind, reused)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
        return reused
    finally:
        con.close()


def clear_held_back(con: duckdb.DuckDBPyConnection, kind: str, key: str) -> None:
    """The partition loaded good: it is no longer held back (under the daemon the build file persists)."""
    if not _held_back_table_exists(con):  # created once per build, not commented again for every partition
        create_held_back_table(con)
    con.execute(f"DELETE FROM {HELD_BACK_TABLE} WHERE partition_kind = ? AND partition_key = ?", [kind, key])


def _held_back_table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = 'audit' AND table_name = 'held_back_partitions'").fetchone()[0])


def held_back_partitions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The held-back partitions recorded in a build (or published) file, for the release manifest."""
    if not _held_back_table_exists(con):
        return []
    rows = con.execute(f"SELECT partition_kind, partition_key, reason, kept, kept_from_release FROM {HELD_BACK_TABLE} "
                       "ORDER BY partition_kind, partition_key").fetchall()
    return [HeldBack(*row).as_dict() for row in rows]
