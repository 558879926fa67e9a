"""Wall time and peak memory of a subprocess and all its children, with a time and a memory limit.

Memory is the summed resident set size of the process tree (the refresh and the dbt processes it
starts), sampled every `SAMPLE_SECONDS` from /proc. Where /proc is missing (macOS), the largest
single child's peak from `resource.getrusage(RUSAGE_CHILDREN)` is used instead.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.1
PROC = Path("/proc")
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4096 / 2**20


@dataclass
class Measured:
    """One measured command. `status` is ok, failed (non-zero exit), timed out or memory limit."""

    status: str
    seconds: float
    peak_rss_mib: float
    exit_code: int | None
    stdout: str
    stderr: str
    limit_note: str = ""
    load_before: float = 0.0  # the machine's 1-minute load average when it started (it is shared)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def figures(self) -> dict:
        return {"status": self.status, "seconds": round(self.seconds, 3), "peak_rss_mib": round(self.peak_rss_mib, 1),
                "exit_code": self.exit_code, "note": self.limit_note, "load_before": round(self.load_before, 2)}


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process visible in /proc."""
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ')'.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def tree_rss_mib(root: int) -> float:
    """Summed resident memory of `root` and every descendant, in MiB."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            total += int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_MIB
        except (OSError, IndexError, ValueError):
            continue
    return total


def _children_peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def run_measured(command: list[str], *, env: dict[str, str], cwd: Path, timeout: float,
                 max_memory_mib: float) -> Measured:
    """Run `command`, sampling its process tree; kill the tree past `timeout` seconds or `max_memory_mib`."""
    sampling = PROC.is_dir()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        # Own session, so the whole tree (dbt subprocesses included) can be stopped together.
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True, start_new_session=True)
        peak, status, note = 0.0, "", ""
        while process.poll() is None:
            if sampling:
                peak = max(peak, tree_rss_mib(process.pid))
            elapsed = time.perf_counter() - started
            if elapsed > timeout:
                status, note = "timed out", f"timed out after {timeout:.0f} s"
            elif peak > max_memory_mib:
                status, note = "memory limit", f"stopped at {peak:.0f} MiB (limit {max_memory_mib:.0f} MiB)"
            if status:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                break
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        if not sampling:
            peak = _children_peak_mib()
        out.seek(0)
        err.seek(0)
        code = process.returncode
        status = status or ("ok" if code == 0 else "failed")
        return Measured(status, seconds, peak, None if note else code, out.read(), err.read(), note, load_before)
