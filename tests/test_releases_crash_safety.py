"""Crash safety: a refresh killed with SIGKILL (its whole process group) during ingest, during dbt, during the
checks and during publication leaves the published warehouse as it was, openable read-only, and the next refresh neither hangs on what
the dead run left behind (a `duckdb_build` pool slot, a temporary file) nor fails: it completes and publishes.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from conftest import PROJECT_ROOT, panel_env, refresh_subprocess

SCALE = "0.1"
UDI_FROM = "2025-07-05"  # a late UDI history (4 snapshot folders): fewer ingest runs, the same code paths
KILL_TIMEOUT_SECONDS = 1200


def generate(data: Path, *options: str) -> None:
    """Synthetic raw files (`make generate`) with the generator's own options."""
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data / "raw"), *options], check=True,
                   cwd=PROJECT_ROOT, env=panel_env(data), capture_output=True)


def refresh_log(data: Path) -> str:
    """The newest refresh's log file (orchestration.progress): an `ok` line per ingest run, then Dagster's lines
    of the downstream job (the console shows only a summary line for ingest)."""
    logs = sorted((data / "logs").glob("refresh-*.log"), key=lambda path: path.stat().st_mtime)
    return logs[-1].read_text(errors="replace") if logs else ""


def ingest_is_running(data: Path, pgid: int) -> bool:
    """An ingest run has finished (its `ok` line) and the next one, or the downstream job, not yet started."""
    text = refresh_log(data)
    return "ok     " in text and "downstream_job" not in text


def checks_are_running(started: float) -> Callable[[Path, int], bool]:
    """Great Expectations is writing its Data Docs for this refresh (the checks run just before publication)."""
    return lambda data, pgid: any(p.stat().st_mtime > started for p in (data / "data_docs").rglob("*") if p.is_file())


def dbt_is_running(data: Path, pgid: int) -> bool:
    """A `dbt build` has started and not finished. dagster-dbt logs both; the build runs in a dbt process the
    refresh made ready in advance (orchestration.warm_dbt), whose own command line does not name it."""
    text = refresh_log(data)
    return text.count("Running dbt command:") > text.count("Finished dbt command:")


def publication_is_running(data: Path, pgid: int) -> bool:
    """DuckDB is writing the new file beside the published one. Not merely its name: the publication
    reserves the name with an empty file and deletes it again for DuckDB to create, and a kill in between
    would leave nothing to clear."""
    def written(path: Path) -> bool:
        try:
            return path.stat().st_size > 0
        except FileNotFoundError:
            return False

    return any(written(path) for path in data.glob(".warehouse.publishing-*"))


def kill_refresh_when(data: Path, moment: Callable[[Path, int], bool], log: Path) -> str:
    """Start a refresh in its own process group, SIGKILL the whole group at `moment`; returns its output."""
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "orchestration.refresh"], cwd=PROJECT_ROOT,
                                   env=panel_env(data, PYTHONUNBUFFERED="1"), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = time.monotonic() + KILL_TIMEOUT_SECONDS
        try:
            while not moment(data, process.pid):
                assert process.poll() is None, f"the refresh ended before the moment to kill it:\n{log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, "the moment to kill the refresh never came"
                time.sleep(0.05)
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return log.read_text()


def published_state(path: Path) -> tuple[str, dict[str, tuple[int, int]]]:
    """The file's sha256, and per marts/release/audit table its row count and an order-free hash of its rows,
    read through a read-only connection."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables() "
                             "where schema_name in ('marts', 'release', 'audit') order by 1, 2").fetchall()
        content = {f"{s}.{t}": con.execute(f'select count(*), coalesce(bit_xor(hash(r)), 0) from "{s}"."{t}" r').fetchone()
                   for s, t in tables}
    finally:
        con.close()
    return digest, content


def test_a_killed_refresh_leaves_the_published_warehouse_and_the_next_refresh_publishes(tmp_path):
    data = tmp_path / "data"
    generate(data, "--scale", SCALE, "--mess", "0", "--udi-from", UDI_FROM)

    first = refresh_subprocess(data)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    published = data / "warehouse.duckdb"
    before = published_state(published)
    assert before[1]["marts.persons"][0] > 0

    ingest_log = tmp_path / "killed_during_ingest.log"
    kill_refresh_when(data, ingest_is_running, ingest_log)
    assert "downstream_job" not in refresh_log(data)
    assert published_state(published) == before

    during_dbt = kill_refresh_when(data, dbt_is_running, tmp_path / "killed_during_dbt.log")
    assert "FAILED" not in during_dbt  # killed while dbt ran, not failed before it
    assert published_state(published) == before

    during_checks = kill_refresh_when(data, checks_are_running(time.time()), tmp_path / "killed_during_checks.log")
    assert "released the concurrency slots of run" in during_checks  # what the dbt kill left behind
    assert not list(data.glob(".warehouse.publishing-*")), "killed before publication began"
    assert published_state(published) == before

    # the next refresh must get past what the killed one left (its pool slot), then it is killed too,
    # while it writes the new file beside the published one
    during_publication = kill_refresh_when(data, publication_is_running, tmp_path / "killed_during_publication.log")
    assert "released the concurrency slots of run" in during_publication and "killed refresh" in during_publication
    assert published_state(published) == before
    assert list(data.glob(".warehouse.publishing-*")), "the kill should have left the temporary file to clear"

    last = refresh_subprocess(data)
    assert last.returncode == 0, last.stdout[-3000:] + last.stderr[-3000:]
    assert "left by a refresh or restore that was killed" in last.stdout
    assert not list(data.glob(".warehouse.publishing-*"))
    after = published_state(published)
    assert after[0] != before[0]  # a new publication (a new release in audit.releases)
    assert {k: v[0] for k, v in after[1].items() if k != "audit.releases"} == {
        k: v[0] for k, v in before[1].items() if k != "audit.releases"}  # same raw data, same row counts
    assert after[1]["audit.releases"][0] == before[1]["audit.releases"][0] + 1
