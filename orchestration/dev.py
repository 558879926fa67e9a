"""`make dev`: `dagster dev` (webserver, daemon, code servers) that stops with all it started on SIGTERM too.

    python -m orchestration.dev [dagster dev options, e.g. --port 3000]

A process started in the background (`make dev &`, nohup, a service manager) inherits SIGINT as ignored, and
`dagster dev` maps SIGTERM onto SIGINT's handler, so it would ignore SIGTERM as well and `kill` would leave its
processes running. This restores both signals' defaults, then becomes `dagster dev` in the same process, so the
signal make (or anyone) sends reaches it and it shuts its children down.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    dagster = str(Path(sys.executable).parent / "dagster")
    os.execv(dagster, [dagster, "dev", "-m", "orchestration.definitions", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
