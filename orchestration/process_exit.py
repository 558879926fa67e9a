"""Ending a command-line process without the interpreter's teardown.

A refresh, or a dbt process it started, has Dagster, dbt, pandas and Great Expectations loaded when it is
done. A normal exit then frees every module and object one at a time, which costs about a second of wall
time (measured: 1.0-1.3 s for the refresh's imports) and achieves nothing the operating system does not
do when the process ends. So these processes end with `exit_without_teardown(status)` instead.

What a normal exit would still do is done first: the `atexit` handlers run (logging's handlers flush and
close, temporary folders are removed, thread pools join), and the standard streams are flushed. Every
DuckDB and SQLite write was committed before this point; a file left open is closed by the kernel.
"""
from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn


def exit_status(code: object) -> int:
    """The status `sys.exit(code)` would end a process with: None is 0, an int is itself, anything else is
    printed to stderr and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_without_teardown(code: object) -> NoReturn:
    """End the process with `code` (as `sys.exit` reads it) after the exit handlers and a flush of stdout and
    stderr, skipping only the interpreter's teardown."""
    status = exit_status(code)
    atexit._run_exitfuncs()  # noqa: SLF001 - exactly what a normal exit runs first
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (the reader went away): nothing left to deliver
            pass
    os._exit(status)
