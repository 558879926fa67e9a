"""dbt processes started ahead of time, so that a refresh does not wait for dbt's imports at every build.

Every `dbt` command is a new Python process that spends about 2 s importing dbt-core and its DuckDB adapter
before it even reads its arguments (profiled with py-spy: `dbt.cli.main` alone is 1.5 s, mostly mashumaro
compiling serialisers). A refresh runs dbt two or three times, one after another, and waits for each.

`WarmDbtProcesses` keeps one process ready that has done those imports (and built the schemas dbt validates
its configuration against) and then waits for a command on its stdin. Given one, it takes the environment
and working folder it is sent and runs exactly what the `dbt` executable runs (`dbt.cli.main.cli` with those
arguments). It is a real process with its own stdout, exit status and signals, so dagster-dbt streams its
events and forwards an interrupt just as it does for `dbt` itself. Only the refresh uses it; runs launched by
the daemon or the UI start dbt as usual.

The next process starts importing at once, while this one builds, as long as the refresh expects more
commands (`expect`). After the last one it expects, the next is started only once that command has ended:
its imports would compete with the last build for the machine's cores (on two cores they cost that build
about a second), and it is then ready for a command nobody foresaw (the data catalogue's `dbt docs generate`,
when the published tables changed).

Run as `python -m orchestration.warm_dbt`, this module is that waiting process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from orchestration.process_exit import exit_without_teardown

PROJECT_ROOT = Path(__file__).resolve().parents[1]

_active: WarmDbtProcesses | None = None


class WarmDbtProcesses:
    """One dbt process kept ready at a time, for as long as the context is open (`with WarmDbtProcesses():`)."""

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._ready: subprocess.Popen | None = None
        self._lock = threading.Lock()  # `_ready` is also set by the thread that waits for the last expected command
        self._open = False
        self._ahead: int | None = None  # commands still expected; None: always keep one ready
        self.served = 0  # commands run by a warm process (a fallback to a cold start does not count)

    def __enter__(self) -> WarmDbtProcesses:
        global _active
        self._open = True
        self._ready = self._start()
        _active = self
        return self

    def __exit__(self, *exc_info) -> None:
        global _active
        _active = None
        with self._lock:
            self._open = False
            spare, self._ready = self._ready, None
        if spare is not None:
            spare.kill()  # still importing or waiting: it has run nothing
            spare.wait()
            for stream in (spare.stdin, spare.stdout):
                stream.close()

    def expect(self, commands: int) -> None:
        """`commands` more dbt commands are coming, one after another: while one of them is served, the next
        process imports; once the last has ended, one more process is made ready for an unforeseen command, and
        any command after that starts as an ordinary `dbt`."""
        self._ahead = commands

    def _start(self) -> subprocess.Popen:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # as dagster-dbt starts dbt: lines as they come
        return subprocess.Popen([self._python, "-m", "orchestration.warm_dbt"], cwd=PROJECT_ROOT, env=environment,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def popen(self, args: Sequence[str], *, env: Mapping[str, str], cwd, stdout=None, stderr=None) -> subprocess.Popen:
        """`subprocess.Popen(args, stdout=PIPE, stderr=STDOUT, env=env, cwd=cwd)` for a dbt command line (`args[0]`
        is the dbt executable), served by the ready process when there is one alive."""
        with self._lock:
            process, self._ready = self._ready, None
        served = self._serve(process, args, env, cwd, stdout, stderr)
        self._replace(served)
        return served

    def _serve(self, process: subprocess.Popen | None, args, env, cwd, stdout, stderr) -> subprocess.Popen:
        if stdout is not subprocess.PIPE or stderr is not subprocess.STDOUT or process is None or process.poll() is not None:
            return self._cold(process, args, env, cwd, stdout, stderr)
        request = {"argv": list(map(str, args)), "env": dict(env), "cwd": str(cwd)}
        try:
            process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            process.stdin.close()
        except BrokenPipeError:  # it died between the check and the write
            return self._cold(process, args, env, cwd, stdout, stderr)
        process.stdin = None  # as if started without one: `communicate()` must not touch the closed pipe
        process.args = list(args)  # what dagster-dbt logs as the dbt command
        self.served += 1
        return process

    def _replace(self, served: subprocess.Popen) -> None:
        """Start the next process now while more commands are expected; after the last expected one, once it
        has ended; after that, none."""
        if self._ahead is not None:
            self._ahead -= 1
        if self._ahead is None or self._ahead > 0:
            self._make_ready()
        elif self._ahead == 0:
            threading.Thread(target=self._make_ready, args=(served,), name="warm-dbt-after-last", daemon=True).start()

    def _make_ready(self, after: subprocess.Popen | None = None) -> None:
        if after is not None:
            after.wait()  # safe beside dagster-dbt's own wait: whichever reaps the process, both see its status
        with self._lock:
            if self._open and self._ready is None:
                self._ready = self._start()

    @staticmethod
    def _cold(unused: subprocess.Popen | None, args, env, cwd, stdout, stderr) -> subprocess.Popen:
        if unused is not None:
            unused.kill()
            unused.wait()
        return subprocess.Popen(args, stdout=stdout, stderr=stderr, env=env, cwd=cwd)


def active() -> WarmDbtProcesses | None:
    """The warm processes of the refresh under way in this process, if any."""
    return _active


@contextmanager
def serving(module: types.ModuleType) -> Iterator[None]:
    """While open, `module.subprocess.Popen` is the active warm processes' `popen` (nothing changes if none is
    active). `module` is dagster-dbt's `dbt_cli_invocation`, which starts dbt with `subprocess.Popen`."""
    warm = active()
    if warm is None:
        yield
        return
    original = module.subprocess
    proxy = types.ModuleType("subprocess")
    proxy.__dict__.update(vars(subprocess))
    proxy.Popen = warm.popen
    module.subprocess = proxy
    try:
        yield
    finally:
        module.subprocess = original


def prepare_validation() -> None:
    """Build the JSON schemas a `dbt build` validates against: its project, flags, packages, profile, DuckDB
    credentials and selectors before it does anything else, and its test results. dbt builds each once per
    process and keeps it (`dbtClassMixin.json_schema` is cached), about 0.5 s per command on the development
    machine (measured: a one-model build took 2.0 s instead of 2.5 s), so a waiting process builds them first.
    An error is left for the command to meet: this only saves time."""
    try:
        from dbt.adapters.duckdb.credentials import DuckDBCredentials
        from dbt.contracts.project import Configuration, PackageConfig, ProfileConfig, Project, ProjectFlags
        from dbt.contracts.selection import SelectorFile
        from dbt.task.test import TestResultData

        for config in (Project, ProjectFlags, PackageConfig, ProfileConfig, DuckDBCredentials, SelectorFile,
                       Configuration, TestResultData):
            config.json_schema()
    except Exception:  # noqa: BLE001 - tests/test_orchestration_warm_dbt.py says when it stops saving time
        pass


def serve() -> None:
    """The waiting process: import dbt, read one command, run it as the `dbt` executable would, exit with its status."""
    import dbt.adapters.duckdb  # noqa: F401 - the adapter's import is most of its start-up
    from dbt.cli.main import cli

    prepare_validation()
    line = sys.stdin.readline()
    if not line.strip():  # the refresh ended (or died) without needing it
        return
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = request["argv"]
    try:
        cli()  # click ends it with SystemExit, as the `dbt` executable does
    except SystemExit as done:
        exit_without_teardown(done.code)  # dagster-dbt waits for the exit: no second spent freeing dbt's modules
    exit_without_teardown(0)


if __name__ == "__main__":
    serve()
