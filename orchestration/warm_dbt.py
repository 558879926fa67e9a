"""dbt processes started ahead of time, so that a refresh does not wait for dbt's imports at every build.

Every `dbt` command is a new Python process that spends about 2 s importing dbt-core and its DuckDB adapter
before it even reads its arguments (profiled with py-spy: `dbt.cli.main` alone is 1.5 s, mostly mashumaro
compiling serialisers). A refresh runs dbt two or three times, one after another, and waits for each.

`WarmDbtProcesses` keeps one process ready that has done those imports and then waits for a command on its
stdin. Given one, it takes the environment and working folder it is sent and runs exactly what the `dbt`
executable runs (`dbt.cli.main.cli` with those arguments). The next process starts importing at once, while
this one builds. It is a real process with its own stdout, exit status and signals, so dagster-dbt streams
its events and forwards an interrupt just as it does for `dbt` itself. Only the refresh uses it; runs
launched by the daemon or the UI start dbt as usual.

Run as `python -m orchestration.warm_dbt`, this module is that waiting process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
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
        self.served = 0  # commands run by a warm process (a fallback to a cold start does not count)

    def __enter__(self) -> WarmDbtProcesses:
        global _active
        self._ready = self._start()
        _active = self
        return self

    def __exit__(self, *exc_info) -> None:
        global _active
        _active = None
        spare, self._ready = self._ready, None
        if spare is not None:
            spare.kill()  # still importing or waiting: it has run nothing
            spare.wait()
            for stream in (spare.stdin, spare.stdout):
                stream.close()

    def _start(self) -> subprocess.Popen:
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # as dagster-dbt starts dbt: lines as they come
        return subprocess.Popen([self._python, "-m", "orchestration.warm_dbt"], cwd=PROJECT_ROOT, env=environment,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def popen(self, args: Sequence[str], *, env: Mapping[str, str], cwd, stdout=None, stderr=None) -> subprocess.Popen:
        """`subprocess.Popen(args, stdout=PIPE, stderr=STDOUT, env=env, cwd=cwd)` for a dbt command line (`args[0]`
        is the dbt executable), served by the ready process when there is one alive."""
        process, self._ready = self._ready, self._start()
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


def serve() -> None:
    """The waiting process: import dbt, read one command, run it as the `dbt` executable would, exit with its status."""
    import dbt.adapters.duckdb  # noqa: F401 - the adapter's import is most of its start-up
    from dbt.cli.main import cli

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
