"""The refresh's Dagster instance: storage kept open that Dagster's own reads, and no compute log capture."""
from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from orchestration.instance import PooledSqliteEventLogStorage, PooledSqliteRunStorage, refresh_overrides
from orchestration.refresh import INSTANCE_CONFIG, refresh_instance


@dg.asset
def numbers() -> None:
    """Stands in for a panel asset: a materialisation and a passing check are stored per run."""


@dg.asset_check(asset=numbers)
def numbers_are_fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


JOB = dg.Definitions(assets=[numbers], asset_checks=[numbers_are_fine],
                     jobs=[dg.define_asset_job("numbers_job")]).resolve_job_def("numbers_job")


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_refresh_instance_stores_events_that_dagster_s_own_storage_reads(dagster_home: Path):
    instance = refresh_instance()
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    assert isinstance(instance.run_storage, PooledSqliteRunStorage)
    runs = [JOB.execute_in_process(instance=instance).run_id for _ in range(2)]
    instance.dispose()

    stock = dg.DagsterInstance.get()  # what the webserver and the daemon open: dagster.yaml as written
    assert type(stock.event_log_storage) is not PooledSqliteEventLogStorage
    assert type(stock.run_storage) is not PooledSqliteRunStorage
    for run_id in runs:
        assert stock.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        types = {record.event_log_entry.dagster_event_type for record in stock.get_records_for_run(run_id).records}
        assert {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                dg.DagsterEventType.RUN_SUCCESS} <= types
    check = stock.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_are_fine")])
    assert check, "the check evaluation reached the cross-run index the UI reads"
    assert stock.get_latest_materialization_event(dg.AssetKey("numbers")).run_id == runs[-1]


def test_a_run_s_file_is_closed_and_checkpointed_when_the_run_ends(dagster_home: Path):
    instance = refresh_instance()
    run_id = JOB.execute_in_process(instance=instance).run_id
    storage = instance.event_log_storage
    assert run_id not in storage._engines, "the ended run's connection is closed"
    shard = Path(storage.path_for_shard(run_id))
    assert shard.exists()
    wal = shard.with_name(shard.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the run's events are in its database file, not only its log"
    instance.dispose()


def test_a_storage_or_compute_log_manager_named_in_dagster_yaml_is_kept(tmp_path: Path):
    pooled = {"custom": {"module": "orchestration.instance", "class": "PooledSqliteStorage",
                         "config": {"base_dir": str(tmp_path)}}}
    no_logs = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}
    assert refresh_overrides(tmp_path, {}) == {"storage": pooled, "compute_logs": no_logs}
    for setting in ("storage", "event_log_storage"):
        assert refresh_overrides(tmp_path, {setting: {"postgres": {}}}) == {"compute_logs": no_logs}
    assert refresh_overrides(tmp_path, {"compute_logs": {"module": "x", "class": "Y"}}) == {"storage": pooled}


def test_the_refresh_s_runs_capture_no_compute_logs(dagster_home: Path):
    from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager

    instance = refresh_instance()
    assert isinstance(instance.compute_log_manager, NoOpComputeLogManager)
    JOB.execute_in_process(instance=instance)
    assert not (dagster_home / "storage").exists(), "no step output copied under dagster_home"
    instance.dispose()


def test_the_refresh_keeps_an_instance_whose_dagster_yaml_names_a_storage(dagster_home: Path):
    dagster_home.mkdir()
    config = INSTANCE_CONFIG.read_text(encoding="utf-8")
    (dagster_home / "dagster.yaml").write_text(
        config + f"\nstorage:\n  sqlite:\n    base_dir: {dagster_home / 'elsewhere'}\n", encoding="utf-8")
    instance = refresh_instance()
    assert type(instance.event_log_storage) is not PooledSqliteEventLogStorage
    run_id = JOB.execute_in_process(instance=instance).run_id
    assert (dagster_home / "elsewhere").is_dir() and instance.get_run_by_id(run_id) is not None
    instance.dispose()
    shutil.rmtree(dagster_home)


def test_a_table_is_looked_up_until_it_is_there_then_remembered(tmp_path: Path):
    import sqlite3

    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    assert storage.has_table("asset_check_executions")
    assert not storage.has_table("added_by_a_later_migration")
    with sqlite3.connect(storage.path_for_shard("index")) as con:
        con.execute("create table added_by_a_later_migration (id integer)")
    assert storage.has_table("added_by_a_later_migration")
    with sqlite3.connect(storage.path_for_shard("index")) as con:
        con.execute("drop table added_by_a_later_migration")
    assert storage.has_table("added_by_a_later_migration"), "a table seen once is not looked up again"
    storage.dispose()


def test_a_new_run_s_file_is_a_copy_of_an_empty_initialised_one(tmp_path: Path):
    import sqlite3

    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    for run_id in ("first-run", "second-run"):
        with storage.run_connection(run_id) as conn:
            assert conn.exec_driver_sql("select count(*) from event_logs").scalar() == 0
    template = storage._template
    assert template is not None and template.parent != tmp_path / "runs"
    assert sorted(storage.get_all_run_ids()) == ["first-run", "second-run"], "nothing else looks like a run"
    with sqlite3.connect(storage.path_for_shard("second-run")) as con:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert con.execute("select count(*) from alembic_version").fetchone()[0] == 1, "stamped like Dagster's own"
    storage.dispose()
    assert not template.exists(), "the empty file goes with the storage"


def test_the_empty_run_file_goes_when_the_process_ends_even_without_dispose(tmp_path: Path):
    import subprocess
    import sys

    script = ("import sys; from orchestration.instance import PooledSqliteEventLogStorage as S; "
              "s = S(sys.argv[1]); s.run_connection('a-run').__enter__(); print(s._template.parent)")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "runs")], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    folder = Path(out.stdout.strip().splitlines()[-1])
    assert folder.name.startswith("panel-dagster-") and not folder.exists()
