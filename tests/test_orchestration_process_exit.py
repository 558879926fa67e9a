"""Ending a process without the interpreter's teardown (orchestration.process_exit): the exit handlers still
run, buffered output and log records still arrive, the status is the one asked for, and only the teardown
(here an object's finaliser at interpreter shutdown) is skipped."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestration.process_exit import exit_status

PROGRAM = textwrap.dedent("""
    import atexit, logging, pathlib, sys, tempfile
    from orchestration.process_exit import exit_without_teardown

    folder = pathlib.Path(sys.argv[1])
    logging.basicConfig(filename=folder / "run.log", level=logging.INFO)
    logging.info("a record still buffered at the end")
    atexit.register(lambda: (folder / "atexit").write_text("ran"))
    scratch = tempfile.TemporaryDirectory()  # removed by its finaliser at exit, as the event log's template is
    (folder / "scratch").write_text(scratch.name)

    class FreedAtTeardown:
        def __del__(self):
            (folder / "teardown").write_text("ran")

    kept_until_teardown = FreedAtTeardown()
    sys.stdout.write("buffered output")  # no newline: still in the buffer of a pipe
    exit_without_teardown(int(sys.argv[2]) if sys.argv[2].isdigit() else sys.argv[2])
""")


def _run(tmp_path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path), code], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("status", [0, 3])
def test_exit_handlers_and_buffers_run_but_not_the_teardown(tmp_path, status):
    done = _run(tmp_path, str(status))
    assert done.returncode == status
    assert done.stdout == "buffered output"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not Path((tmp_path / "scratch").read_text()).exists()
    assert "a record still buffered at the end" in (tmp_path / "run.log").read_text()
    assert not (tmp_path / "teardown").exists()  # what a normal exit would have spent time on


def test_a_message_ends_with_status_one_on_stderr(tmp_path):
    done = _run(tmp_path, "stopped: a message")
    assert done.returncode == 1 and done.stderr.strip() == "stopped: a message"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), (True, 1)])
def test_exit_status_reads_codes_as_sys_exit_does(code, status):
    assert exit_status(code) == status
