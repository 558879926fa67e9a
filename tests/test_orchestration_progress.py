"""What a refresh shows while it runs (orchestration.progress): a line per stage on the console, Dagster's
and dbt's own output in a log file under the data root, and a failure that ends with the short summary."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest

from conftest import PROJECT_ROOT, panel_env, refresh_subprocess
from orchestration import progress
from orchestration.progress import Display, StepTally, detail, stage_line, stage_name

ANSI = "\x1b["


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def display(terminal: bool) -> tuple[Display, io.StringIO, io.StringIO, Clock]:
    console, log, clock = io.StringIO(), io.StringIO(), Clock()
    return Display(console, log, terminal=terminal, clock=clock), console, log, clock


# ---- pure helpers -------------------------------------------------------------------------------------------

def test_a_stage_line_has_the_elapsed_time_the_stage_and_its_counts_aligned():
    assert stage_line(12.34, "ingest", "46 partitions: 45 ok") == "[   12.3s] ingest         46 partitions: 45 ok"
    assert stage_line(1234.5, "dbt analysis", "x").index("x") == stage_line(0, "linkage", "x").index("x")


def test_a_step_summary_counts_models_tests_and_problems():
    tally = StepTally(materialized=13, checks_passed=83, checks_warned=1, observed=1)
    assert tally.summary(dbt=True, succeeded=True, seconds=18.25) == "13 models, 85 tests: 1 warned (18.2s)"
    tally.checks_failed = 2
    assert tally.summary(dbt=True, succeeded=False, seconds=None) == "13 models, 87 tests: 2 failed, 1 warned, FAILED"
    assert StepTally(materialized=2).summary(dbt=False, succeeded=True, seconds=1.0) == "2 assets ok (1.0s)"
    assert StepTally(materialized=1).summary(dbt=False, succeeded=False, seconds=None) == "FAILED"
    one_check = StepTally(checks_passed=1, last_check="marts/udi_monthly:udi_freshness")
    assert one_check.summary(dbt=False, succeeded=True, seconds=None) == "marts/udi_monthly:udi_freshness ok"


def test_a_step_is_named_by_its_stage():
    assert stage_name("dbt_analysis", {"dagster_dbt/select": "tag:analysis"}, False) == "dbt analysis"
    assert stage_name("person_links", {}, False) == "linkage"
    assert stage_name("great_expectations_suites", {}, True) == "checks (GX)"
    assert stage_name("person_links_every_response_linked_once", {}, True) == "check"
    assert stage_name("new_asset", {}, False) == "new asset"


def test_an_updating_line_only_on_a_terminal(tmp_path):
    assert not progress.is_terminal(io.StringIO())
    with open(tmp_path / "out.txt", "w") as handle:
        assert not progress.is_terminal(handle)
    leader, follower = os.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as terminal:
            assert progress.is_terminal(terminal)
    finally:
        os.close(leader)
        os.close(follower)


def test_in_a_file_ingest_is_one_summary_line_and_detail_goes_to_the_log_only():
    shown, console, log, clock = display(terminal=False)
    for n, key in enumerate(["w1_2022", "w2_2023", "2024-01-05"]):
        shown.partition_started()
        clock.now += 2
        shown.partition_finished("udi_snapshot_job", key, succeeded=n != 1)
        shown.note(detail(f"ok     udi_snapshot_job [{key}]"))
    shown.note("HELD BACK survey partition [w2_2023] held back: left out (never loaded good)")
    assert console.getvalue() == "[    6.0s] HELD BACK survey partition [w2_2023] held back: left out (never loaded good)\n"
    shown.end_ingest()
    shown.line("  - continued")
    lines = console.getvalue().splitlines()
    assert lines[1] == "[    6.0s] ingest         3 partitions: 2 ok, 1 failed (held back) (6.0s)"
    assert lines[2] == " " * 13 + "- continued"
    assert ANSI not in console.getvalue() and "\r" not in console.getvalue()
    assert "ok     udi_snapshot_job [2024-01-05]" in log.getvalue() and lines[1] in log.getvalue()
    shown.end_ingest()  # once only
    assert len(console.getvalue().splitlines()) == 3


def test_on_a_terminal_each_partition_updates_one_line_that_the_next_line_replaces():
    shown, console, log, clock = display(terminal=True)
    shown.partition_started()
    shown.partition_finished("survey_wave_job", "w1_2022", succeeded=True)
    shown.partition_finished("survey_wave_job", "w2_2023", succeeded=True)
    assert console.getvalue().count("\r") == 1 and "2 partitions: 2 ok" in console.getvalue()
    assert log.getvalue() == ""  # the updating line never reaches the log file
    shown.end_ingest()
    assert console.getvalue().endswith("\r\x1b[K[    0.0s] ingest         2 partitions: 2 ok (0.0s)\n")


def test_a_folder_that_discovery_leaves_out_is_a_warning_on_the_console(tmp_path):
    from panel_ingest.discover import find_survey_waves

    (tmp_path / "raw" / "survey" / "wave4").mkdir(parents=True)
    (tmp_path / "raw" / "survey" / "w1_2022").mkdir()
    shown, console, log, clock = display(terminal=False)
    with progress.showing(shown):
        assert find_survey_waves(tmp_path / "raw") == ["w1_2022"]
        find_survey_waves(tmp_path / "raw")  # discovery runs twice in a refresh: said once
    [line] = console.getvalue().splitlines()
    assert line.startswith("[    0.0s] warning: survey/wave4: not a wave folder name")
    find_survey_waves(tmp_path / "raw")
    assert len(console.getvalue().splitlines()) == 1  # not once the refresh is over


def test_log_files_are_named_by_start_time_and_only_the_newest_are_kept(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    for day in range(1, 13):
        (folder / f"refresh-202601{day:02d}T000000Z-1.log").write_text("old")
    (folder / "other.txt").write_text("not a refresh log")
    now = datetime(2026, 11, 28, 21, 57, 23, tzinfo=timezone.utc)
    path = progress.new_log_file(folder, now=now, keep=10)
    assert path.name == f"refresh-20261128T215723Z-{os.getpid()}.log" and path.exists()
    kept = sorted(p.name for p in folder.glob("refresh-*.log"))
    assert len(kept) == 10 and kept[0] == "refresh-20260104T000000Z-1.log" and path.name in kept
    assert (folder / "other.txt").exists()
    assert progress.rotate_logs(folder, keep=3) and len(list(folder.glob("refresh-*.log"))) == 3


def test_output_to_log_sends_this_process_and_its_children_to_the_file(tmp_path):
    """Redirected at the file-descriptor level (dbt runs as a subprocess); the console stays clean."""
    script = (
        "import subprocess, sys, warnings\n"
        "from pathlib import Path\n"
        "from orchestration import progress\n"
        "with progress.output_to_log(Path(sys.argv[1])) as console:\n"
        "    console.write('on the console\\n')\n"
        "    print('printed')\n"
        "    print('to stderr', file=sys.stderr)\n"
        "    warnings.warn('a library warning')\n"
        "    subprocess.run(['echo', 'from a child'])\n"
        "print('after')\n"
    )
    log = tmp_path / "refresh.log"
    done = subprocess.run([sys.executable, "-c", script, str(log)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "on the console\nafter\n" and done.stderr == ""
    text = log.read_text()
    assert all(part in text for part in ("printed", "to stderr", "a library warning", "from a child"))


# ---- the step listener on a real (tiny) Dagster run ------------------------------------------------------------

@dg.asset
def made_table(context) -> int:
    context.log.warning("raw/example.csv: 2 rows quarantined (row 3, column age: not a number)")
    return 1


@dg.asset_check(asset=made_table, blocking=True)
def made_table_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, description="no rows")


@dg.asset(deps=[made_table])
def after_table() -> int:
    return 2


def test_a_run_shows_a_line_per_step_and_its_warnings_are_collected():
    job = dg.Definitions(assets=[made_table, after_table], asset_checks=[made_table_has_rows]).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    shown, console, log, clock = display(terminal=False)
    with progress.showing(shown):
        with progress.watch_run(instance, job) as run_id:
            run = job.execute_in_process(instance=instance, raise_on_error=False, run_id=run_id,
                                         run_config=progress.dagster_logging())
    assert run.run_id == run_id and not run.success
    lines = [re.sub(r" \(\d+\.\d+s\)$", "", line) for line in console.getvalue().splitlines()]  # steps' own times
    assert lines == ["[    0.0s] made table     ok",
                     "[    0.0s] check          made_table:made_table_has_rows FAILED",
                     " " * 26 + "1 step not run after the failure"], lines
    assert progress.user_warnings(instance, run_id, job) == [
        "raw/example.csv: 2 rows quarantined (row 3, column age: not a number)"]
    assert progress.active() is None


# ---- end to end: a real refresh in a subprocess ---------------------------------------------------------------

def console_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


def printed_log_file(result: subprocess.CompletedProcess) -> Path:
    [path] = set(re.findall(r"(/\S+/logs/refresh-\S+\.log)", result.stdout.splitlines()[0]))
    return Path(path)


@pytest.mark.end_to_end
def test_a_refresh_prints_a_line_per_stage_and_logs_the_rest(tmp_path):
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data / "raw"), "--scale", "0.2",
                    "--seed", "1", "--udi-from", "2025-07-05"], check=True, cwd=PROJECT_ROOT, env=panel_env(data),
                   capture_output=True)
    good = refresh_subprocess(data)
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    lines = console_lines(good)
    assert len(lines) < 40, good.stdout
    assert ANSI not in good.stdout and "Traceback" not in good.stdout + good.stderr
    assert re.search(r"^\[ +[\d.]+s\] ingest +\d+ partitions: \d+ ok", good.stdout, re.M), good.stdout
    for stage in ("dbt harmonise", "linkage", "weights", "dbt analysis", "checks (GX)", "publication"):
        assert re.search(rf"^\[ +[\d.]+s\] {re.escape(stage)} ", good.stdout, re.M), (stage, good.stdout)
    assert re.search(r"^\[ +[\d.]+s\] published ", good.stdout, re.M) and "release " in good.stdout
    log = printed_log_file(good)
    assert log.parent == data / "logs" and log.exists()
    text = log.read_text()
    assert "Running with dbt=" in text and "Finished running" in text  # dbt's own output
    assert "dagster - DEBUG - downstream_job" in text  # Dagster's console logger
    assert ANSI not in text
    assert lines[-1] in text  # the console's lines are in the log too, for one timeline

    # A broken snapshot (held back: its ingest step fails) and Data Docs that cannot be written (the Great
    # Expectations step fails, so nothing is published): the console ends with the short summary only.
    broken = data / "raw" / "udi" / "2025-12-05"
    broken.mkdir()
    (broken / "gyldige_2025-12-05.csv").write_bytes(b"garbage\n\x00\x01\n")
    shutil.rmtree(data / "data_docs", ignore_errors=True)
    (data / "data_docs").write_text("a file where the Data Docs folder should be")
    failed = refresh_subprocess(data)
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    out = failed.stdout + failed.stderr
    assert "Traceback" not in out and 'File "' not in out and ANSI not in out
    assert len(console_lines(failed)) < 40, failed.stdout
    assert "HELD BACK" in failed.stdout and "[2025-12-05]" in failed.stdout
    summary = failed.stdout[failed.stdout.index("refresh FAILED"):]
    assert "great_expectations" in summary or "checks" in summary, summary
    log = printed_log_file(failed)
    assert f"details (Dagster's and dbt's logs, stack traces): {log}" in summary
    assert "alert written to" in summary
    assert "Traceback" in log.read_text() or "Stack Trace" in log.read_text()


def test_on_a_terminal_a_running_step_shows_until_it_ends():
    job = dg.Definitions(assets=[made_table, after_table], asset_checks=[made_table_has_rows]).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    shown, console, log, clock = display(terminal=True)
    with progress.showing(shown):
        with progress.watch_run(instance, job) as run_id:
            job.execute_in_process(instance=instance, raise_on_error=False, run_id=run_id)
    text = console.getvalue()
    assert "[    0.0s] step           made_table running...\r\x1b[K[    0.0s] made table     ok" in text, text
    assert "step           made_table_made_table_has_rows running..." in text
    assert "running..." not in log.getvalue() and ANSI not in log.getvalue()
