"""dbt processes made ready in advance (orchestration.warm_dbt): they run the command they are given, as the
`dbt` executable would, and dagster-dbt's invocations go through them only while a refresh keeps them."""
import os
import subprocess
import sys
import types

import pytest

from orchestration import warm_dbt
from orchestration.defs.dbt_project import dbt_executable
from orchestration.defs.resources import RESOURCES


def _version(warm: warm_dbt.WarmDbtProcesses, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    args = [dbt_executable(), "--version"]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(extra_env or {})}
    process = warm.popen(args, env=env, cwd=warm_dbt.PROJECT_ROOT / "dbt_project",
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode()
    process.wait()
    process.stdout.close()
    return process, output


def test_a_ready_process_runs_the_command_it_is_sent_and_the_spare_is_stopped_on_exit():
    with warm_dbt.WarmDbtProcesses() as warm:
        assert warm_dbt.active() is warm
        first, output = _version(warm)
        second, _ = _version(warm)
        spare = warm._ready
    assert (first.returncode, second.returncode) == (0, 0)
    assert "Core" in output and "duckdb" in output  # dbt's own --version report, adapter included
    assert first.args == [dbt_executable(), "--version"]  # what dagster-dbt logs as the command
    assert warm.served == 2 and first.pid != second.pid
    assert spare.poll() is not None  # the unused spare did not outlive the refresh
    assert warm_dbt.active() is None


def test_the_command_gets_the_environment_and_folder_it_is_sent(tmp_path):
    # dbt reads DBT_* settings from its environment: a warm process started earlier must take the new ones
    with warm_dbt.WarmDbtProcesses() as warm:
        args = [dbt_executable(), "debug", "--config-dir"]
        env = {**os.environ, "DBT_PROFILES_DIR": str(tmp_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        process = warm.popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = process.stdout.read().decode()
        process.wait()
        process.stdout.close()
    assert process.returncode == 0 and warm.served == 1
    assert str(tmp_path) in output  # `dbt debug --config-dir` prints the profiles folder it was given


def test_a_failing_command_ends_the_warm_process_with_dbts_own_status():
    with warm_dbt.WarmDbtProcesses() as warm:
        args = [dbt_executable(), "no-such-command"]
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        process = warm.popen(args, env=env, cwd=warm_dbt.PROJECT_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        output = process.stdout.read().decode()
        process.wait()
        process.stdout.close()
    assert warm.served == 1
    assert process.returncode == 2 and "no-such-command" in output  # click's usage error, as `dbt` exits


def test_a_ready_process_that_died_is_replaced_by_an_ordinary_start():
    with warm_dbt.WarmDbtProcesses() as warm:
        warm._ready.kill()
        warm._ready.wait()
        process, output = _version(warm)
    assert process.returncode == 0 and "Core" in output
    assert warm.served == 0


def test_serving_swaps_popen_only_while_warm_processes_are_kept():
    module = types.SimpleNamespace(subprocess=subprocess)
    with warm_dbt.serving(module):
        assert module.subprocess is subprocess  # no refresh keeps warm processes: dbt starts as usual
    with warm_dbt.WarmDbtProcesses() as warm:
        with warm_dbt.serving(module):
            assert module.subprocess.Popen == warm.popen
            assert module.subprocess.PIPE == subprocess.PIPE and module.subprocess.STDOUT == subprocess.STDOUT
        assert module.subprocess is subprocess


@pytest.mark.parametrize("warm_kept", [True, False])
def test_dagster_dbt_invocations_use_a_warm_process_only_when_one_is_kept(warm_kept):
    # fails if dagster-dbt stops starting dbt through `subprocess.Popen` in its dbt_cli_invocation module
    dbt = RESOURCES["dbt"]
    if warm_kept:
        with warm_dbt.WarmDbtProcesses() as warm:
            invocation = dbt.cli(["--version"], raise_on_error=False).wait()
        assert warm.served == 1
    else:
        invocation = dbt.cli(["--version"], raise_on_error=False).wait()
    assert invocation.is_successful()
    assert invocation.process.args[0] == dbt_executable()


def _after_last_threads() -> list:
    import threading

    return [thread for thread in threading.enumerate() if thread.name == "warm-dbt-after-last"]


def test_past_the_expected_commands_one_process_is_made_ready_after_the_last_has_ended_and_no_more():
    with warm_dbt.WarmDbtProcesses() as warm:
        warm.expect(2)
        first, _ = _version(warm)
        assert warm._ready is not None, "a second command is expected: its process imports while the first runs"
        last = warm.popen([dbt_executable(), "--version"], env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                          cwd=warm_dbt.PROJECT_ROOT / "dbt_project", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # none competes with the last expected command for the cores; a thread starts one once it has ended
        assert warm._ready is None or last.poll() is not None
        last.stdout.read()
        last.wait()
        last.stdout.close()
        for thread in _after_last_threads():
            thread.join(timeout=30)
        ready_after_last = warm._ready
        assert ready_after_last is not None and ready_after_last.poll() is None
        unforeseen, output = _version(warm)  # e.g. the data catalogue's `dbt docs generate`
        assert warm._ready is None and not _after_last_threads(), "nothing is kept ready past that one"
    assert (first.returncode, last.returncode, unforeseen.returncode) == (0, 0, 0) and "Core" in output
    assert warm.served == 3 and unforeseen.pid == ready_after_last.pid


def test_a_process_made_ready_after_the_refresh_ended_is_not_started():
    with warm_dbt.WarmDbtProcesses() as warm:
        warm.expect(1)
        last = warm.popen([dbt_executable(), "--version"], env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                          cwd=warm_dbt.PROJECT_ROOT / "dbt_project", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    last.stdout.read()  # it ends after the refresh's warm processes were closed
    last.wait()
    last.stdout.close()
    for thread in _after_last_threads():
        thread.join(timeout=30)
    assert last.returncode == 0 and warm._ready is None


def test_a_waiting_process_has_built_every_schema_a_dbt_build_validates_against(tmp_path):
    # fails when dbt starts validating against a class that prepare_validation does not build ahead: a seed and
    # its data tests, built into a scratch file from a saved parse (as a refresh's builds are), build none
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(
        "panel_warehouse:\n  target: build\n  outputs:\n    build:\n      type: duckdb\n"
        f"      path: {tmp_path / 'probe.duckdb'}\n      threads: 1\n", encoding="utf-8")
    probe = (
        "import sys\n"
        "from dbt.cli.main import cli\n"
        "from dbt_common.dataclass_schema import dbtClassMixin\n"
        "from orchestration import warm_dbt\n"
        "warm_dbt.prepare_validation()\n"
        "built = dbtClassMixin.json_schema.cache_info().misses\n"
        "sys.argv = ['dbt', 'build', '--no-write-json', '--select', 'exit_reasons', '--profiles-dir', sys.argv[1]]\n"
        "try:\n"
        "    cli()\n"
        "except SystemExit as done:\n"
        "    print('status', done.code, 'built during the command', dbtClassMixin.json_schema.cache_info().misses - built)\n"
    )
    environment = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_TARGET_PATH": str(tmp_path / "target"),
                   "DBT_LOG_PATH": str(tmp_path / "logs")}
    parse = subprocess.run([dbt_executable(), "parse", "--no-write-json", "--profiles-dir", str(profiles)],
                           cwd=warm_dbt.PROJECT_ROOT / "dbt_project", env=environment, capture_output=True, timeout=300)
    assert parse.returncode == 0 and (tmp_path / "target" / "partial_parse.msgpack").exists()
    done = subprocess.run([sys.executable, "-c", probe, str(profiles)], cwd=warm_dbt.PROJECT_ROOT / "dbt_project",
                          env=environment, capture_output=True, text=True, timeout=300)
    assert "PASS=" in done.stdout and "data test" in done.stdout, done.stdout[-2000:]  # the seed's tests ran
    assert done.stdout.strip().splitlines()[-1] == "status 0 built during the command 0", done.stdout[-2000:]
