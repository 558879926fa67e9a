"""The refresh and summary CLIs: clear refusals before anything is built, and a summary that degrades."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.refresh import RefreshCannotStart, exclusive_refresh

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_module(module: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PANEL_HMAC_KEY", "DAGSTER_HOME")}
    environment.update({"PANEL_DATA_DIR": str(data_dir), **env})
    return subprocess.run([sys.executable, "-m", module], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env=environment, timeout=600)


def test_refresh_without_a_key_stops_with_the_way_to_set_it(tmp_path):
    (tmp_path / "raw" / "survey" / "w1_2022").mkdir(parents=True)
    result = run_module("orchestration.refresh", tmp_path)
    assert result.returncode == 2
    assert "PANEL_HMAC_KEY" in result.stderr
    assert not (tmp_path / "build").exists() and not (tmp_path / "warehouse.duckdb").exists()


def test_refresh_without_raw_folders_says_where_it_looked(tmp_path):
    result = run_module("orchestration.refresh", tmp_path, PANEL_HMAC_KEY="k")
    assert result.returncode == 2
    assert str(tmp_path / "raw" / "survey") in result.stderr


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
