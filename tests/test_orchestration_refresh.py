"""The refresh and summary CLIs: clear refusals before anything is built, and a summary that degrades."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.refresh import RefreshCannotStart, exclusive_refresh, release_stale_claims
from panel_ingest.secrets import ensure_local_key, key_file, load_hmac_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_module(module: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PANEL_HMAC_KEY", "PANEL_HMAC_KEY_FILE", "DAGSTER_HOME")}
    environment.update({"PANEL_DATA_DIR": str(data_dir), "XDG_CONFIG_HOME": str(data_dir.parent / "config"), **env})
    return subprocess.run([sys.executable, "-m", module], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env=environment, timeout=600)


def test_refresh_without_a_key_stops_with_the_way_to_set_it(tmp_path):
    (tmp_path / "raw" / "survey" / "w1_2022").mkdir(parents=True)
    result = run_module("orchestration.refresh", tmp_path)
    assert result.returncode == 2
    assert "PANEL_HMAC_KEY" in result.stderr and "PANEL_HMAC_KEY_FILE" in result.stderr
    assert "make demo" in result.stderr and str(tmp_path.parent / "config" / "ukraine-panel" / "keys") in result.stderr
    assert not (tmp_path / "build").exists() and not (tmp_path / "warehouse.duckdb").exists()


@pytest.mark.parametrize("where", ["legacy", "configured"])
def test_refresh_refuses_a_key_file_inside_the_data_root_without_printing_it(tmp_path, monkeypatch, where):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # as run_module sets it
    data = tmp_path / "data"
    (data / "raw" / "survey" / "w1_2022").mkdir(parents=True)
    secret = "do-not-print-this-key-0123456789"
    inside = data / (".hmac_key" if where == "legacy" else "keys/panel.key")
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_text(secret)
    env = {"PANEL_HMAC_KEY_FILE": str(inside)} if where == "configured" else {"PANEL_HMAC_KEY": secret}
    result = run_module("orchestration.refresh", data, **env)
    assert result.returncode == 2
    assert f"the key file {inside} lies inside the data root" in result.stderr
    assert f"mv {inside} {key_file(data)}" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert not (data / "build").exists()


def test_the_demo_key_lives_in_the_user_configuration_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for variable in ("PANEL_HMAC_KEY", "PANEL_HMAC_KEY_FILE"):
        monkeypatch.delenv(variable, raising=False)
    data = tmp_path / "data"
    (data / ".hmac_key").parent.mkdir(parents=True)
    (data / ".hmac_key").write_text("an-old-demo-key")  # where an older make demo put it
    path = ensure_local_key(data)
    assert path.is_relative_to(tmp_path / "config" / "ukraine-panel") and not path.is_relative_to(data)
    assert not (data / ".hmac_key").exists() and load_hmac_key(data) == b"an-old-demo-key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    other = ensure_local_key(tmp_path / "other-data")
    assert other != path and load_hmac_key(tmp_path / "other-data") != b"an-old-demo-key"
    assert ensure_local_key(data) == path and load_hmac_key(data) == b"an-old-demo-key"  # kept, never replaced


def test_refresh_without_raw_folders_shows_the_layout_and_make_generate(tmp_path):
    result = run_module("orchestration.refresh", tmp_path, PANEL_HMAC_KEY="k")
    assert result.returncode == 2
    assert str(tmp_path / "raw" / "survey") in result.stderr
    assert "survey/w<N>_<YYYY>/responses.(csv|xlsx|sav)" in result.stderr
    assert f"make generate PANEL_DATA_DIR={tmp_path}" in result.stderr


def test_bin_refresh_exits_with_the_refresh_status_where_make_says_2(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in ("PANEL_HMAC_KEY", "PANEL_HMAC_KEY_FILE")}
    environment.update({"PANEL_DATA_DIR": str(tmp_path), "PANEL_HMAC_KEY": "k"})
    script = subprocess.run([str(PROJECT_ROOT / "bin" / "refresh")], capture_output=True, text=True,
                            env=environment, timeout=600, cwd=tmp_path)
    assert script.returncode == 2 and "make generate" in script.stderr
    made = subprocess.run(["make", "-s", "-C", str(PROJECT_ROOT), "refresh"], capture_output=True, text=True,
                          env=environment, timeout=600)
    assert made.returncode == 2
    assert "the refresh exited with status 2" in made.stderr


def test_summary_without_a_published_warehouse_explains(tmp_path):
    result = run_module("orchestration.summary", tmp_path)
    assert result.returncode == 1
    assert "make refresh" in result.stderr


def test_summary_names_what_is_missing_and_prints_the_rest(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema audit")
    con.execute("create table audit.row_accounting as select 'survey/w1_2022/responses.csv' as source_file, "
                "10 as rows_in, 9 as rows_loaded, 1 as rows_quarantined")
    con.close()
    result = run_module("orchestration.summary", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 files, 10 rows in = 9 loaded + 1 quarantined" in result.stdout
    assert "not available" in result.stdout and "aspiration_by_wave" in result.stdout


def test_a_second_refresh_on_the_same_data_root_is_refused_while_one_runs(tmp_path):
    build = tmp_path / "build" / "warehouse.duckdb"
    with exclusive_refresh(build):
        with pytest.raises(RefreshCannotStart, match="another refresh is running"):
            with exclusive_refresh(build):
                pass
    with exclusive_refresh(build):  # released afterwards
        pass


def test_a_killed_refresh_leaves_no_slot_that_blocks_the_next(tmp_path):
    """The killed run's claim on the duckdb_build pool is freed and the run marked failed; a live
    daemon run keeps its slot."""
    import dagster as dg
    from dagster._core.test_utils import create_run_for_test

    import yaml

    settings = yaml.safe_load((PROJECT_ROOT / "orchestration" / "dagster.yaml").read_text())
    with dg.instance_for_test(overrides=settings, temp_dir=str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("duckdb_build")
        killed = create_run_for_test(instance, job_name="downstream_job", status=dg.DagsterRunStatus.STARTED,
                                     tags={"panel/trigger": "refresh"})
        daemon = create_run_for_test(instance, job_name="downstream_job", status=dg.DagsterRunStatus.STARTED)
        assert storage.claim_concurrency_slot("duckdb_build", killed.run_id, "dbt_models").is_claimed
        assert not storage.claim_concurrency_slot("duckdb_build", daemon.run_id, "published_warehouse").is_claimed
        messages: list[str] = []
        assert release_stale_claims(instance, messages.append) == [killed.run_id]
        assert "killed refresh" in messages[0]
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(daemon.run_id).status == dg.DagsterRunStatus.STARTED
        assert storage.claim_concurrency_slot("duckdb_build", daemon.run_id, "published_warehouse").is_claimed
