"""What `make refresh` shows while it runs: one line per stage on the console, everything else in a log file.

The console gets a line per stage with counts and the time since the refresh started: one summary line for
the ingest runs (an updating line per partition where the output is a terminal), then one line per step of
the downstream run as it finishes (read live from Dagster's event stream), then the refresh's summary.
Dagster's and dbt's own output (its console logger, dbt's log lines, stack traces, library warnings) goes
to `$PANEL_DATA_DIR/logs/refresh-<UTC time>.log`, whose path is printed at the start and after a failure;
the newest `LOG_FILES_KEPT` are kept. Nothing here prints a cell's content: the console gets counts, names
of steps and checks, and the project's own warnings (which name file, row and column, never a value).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from panel_ingest import paths

LOG_FILES_KEPT = 10
LOG_PREFIX = "refresh-"
STAMP_WIDTH = len("[  123.4s]")
STAGE_WIDTH = 14
# Dagster's console logger: INFO when it writes to the console (no log file), everything when it writes to one.
CONSOLE_LOGGING = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
FILE_LOGGING = {"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}
# Steps named after the asset they build; a dbt op is `dbt <its name>`, a step of asset checks only is `check`.
STAGE_NAMES = {
    "person_links": "linkage",
    "survey_weights": "weights",
    "great_expectations_suites": "checks (GX)",
    "published_warehouse": "publication",
    "data_catalogue": "catalogue",
    "panel_report": "report",
}
DBT_OP_TAG_PREFIX = "dagster_dbt/"
USER_WARNINGS_PER_RUN = 10


# ---- pure helpers ---------------------------------------------------------------------------------------------

class Detail(str):
    """A message for the log file only: the console shows the stage lines that say the same."""


def detail(text: str) -> Detail:
    """Mark a `log(...)` message of the refresh as detail (printed as usual when no progress display is active)."""
    return Detail(text)


def stamp(elapsed: float) -> str:
    """`[   12.3s]`: seconds since the refresh started, right-aligned so the lines below line up."""
    return f"[{elapsed:7.1f}s]"


def stage_line(elapsed: float, stage: str, summary: str) -> str:
    """One progress line: `[   80.1s] dbt analysis   13 models, 85 tests ok (18.3s)`."""
    return f"{stamp(elapsed)} {stage:<{STAGE_WIDTH}} {summary}".rstrip()


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def is_terminal(stream: TextIO) -> bool:
    """An updating progress line only on a terminal; a file or pipe gets plain lines."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def ingest_summary(done: int, failed: int) -> str:
    """`46 partitions: 45 ok, 1 failed (held back)`."""
    outcome = f"{done - failed} ok" + (f", {failed} failed (held back)" if failed else "")
    return f"{count(done, 'partition')}: {outcome}"


def log_file_name(now: datetime) -> str:
    """`refresh-20261128T215723Z-<pid>.log`: sorts by start time; the pid keeps two starts in one second apart."""
    return f"{LOG_PREFIX}{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{os.getpid()}.log"


def rotate_logs(folder: Path, keep: int = LOG_FILES_KEPT) -> list[Path]:
    """Delete all but the newest `keep` refresh logs in `folder` (oldest first by name, i.e. start time)."""
    logs = sorted(folder.glob(f"{LOG_PREFIX}*.log"))
    stale = logs[:max(0, len(logs) - keep)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def logs_dir() -> Path:
    return paths.data_dir() / "logs"


def new_log_file(folder: Path | None = None, now: datetime | None = None, keep: int = LOG_FILES_KEPT) -> Path:
    """Create this refresh's (empty) log file, keeping it and the newest `keep - 1` earlier ones."""
    folder = folder or logs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    rotate_logs(folder, keep - 1)
    path = folder / log_file_name(now or datetime.now(timezone.utc))
    path.touch()
    return path


@dataclass
class StepTally:
    """What one step of a run did, counted from its events."""

    started: float | None = None
    materialized: int = 0
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    observed: int = 0  # dbt tests run outside the step's asset check selection: logged as observations
    last_check: str = ""

    @property
    def checks(self) -> int:
        return self.checks_passed + self.checks_failed + self.checks_warned

    def summary(self, dbt: bool, succeeded: bool, seconds: float | None) -> str:
        """`13 models, 85 tests: 84 ok, 1 warned (18.3s)`; ends `FAILED` when the step failed."""
        if dbt:
            what = f"{count(self.materialized, 'model')}, {count(self.checks + self.observed, 'test')}"
        elif self.materialized > 1:
            what = count(self.materialized, "asset")
        elif self.checks == 1 and not self.materialized:  # a step of one check: its name and outcome
            outcome = "FAILED" if self.checks_failed or not succeeded else "warned" if self.checks_warned else "ok"
            return f"{self.last_check} {outcome}" + (f" ({seconds:.1f}s)" if seconds is not None else "")
        elif self.checks and not self.materialized:
            what = count(self.checks, "check")
        else:
            what = ""
        problems = ", ".join(part for part in (f"{self.checks_failed} failed" if self.checks_failed else "",
                                                f"{self.checks_warned} warned" if self.checks_warned else "") if part)
        outcome = ("ok" if succeeded else "FAILED") if not problems else f"{problems}{'' if succeeded else ', FAILED'}"
        took = f" ({seconds:.1f}s)" if seconds is not None else ""
        return (f"{what}: {outcome}" if what and problems else f"{what} {outcome}".strip()) + took


def stage_name(op_name: str, op_tags: dict, only_checks: bool) -> str:
    """The console name of a step: `dbt analysis`, `linkage`, `check`, ... (its op name when unknown)."""
    if any(tag.startswith(DBT_OP_TAG_PREFIX) for tag in op_tags):
        return "dbt " + op_name.removeprefix("dbt_").replace("_", " ")
    if op_name in STAGE_NAMES:
        return STAGE_NAMES[op_name]
    return "check" if only_checks else op_name.replace("_", " ")


# ---- the console display --------------------------------------------------------------------------------------

class Display:
    """Progress lines on `console`, each also written to `log` (the log file) so the file has the same timeline."""

    def __init__(self, console: TextIO, log: TextIO | None = None, terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.console, self.log = console, log
        self.terminal = is_terminal(console) if terminal is None else terminal
        self.clock, self.started = clock, clock()
        self.transient_shown = False
        self.ingest_done = self.ingest_failed = 0
        self.ingest_started: float | None = None

    def elapsed(self) -> float:
        return self.clock() - self.started

    # -- output
    def _write_console(self, text: str) -> None:
        self.console.write(text)
        self.console.flush()

    def _clear_transient(self) -> None:
        if self.transient_shown:
            self._write_console("\r\x1b[K")  # only ever on a terminal
            self.transient_shown = False

    def transient(self, text: str) -> None:
        """An updating line (terminal only): replaced by the next one, never in the log file."""
        if not self.terminal:
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self._clear_transient()
        self._write_console(text[:width])
        self.transient_shown = True

    def line(self, text: str, stamped: bool = True) -> None:
        """A permanent line on the console and in the log file; `stamped` puts the elapsed time before it
        (continuation lines, starting with a space, are indented to match)."""
        if stamped:
            text = f"{' ' * (STAMP_WIDTH + 1)}{text}" if text.startswith(" ") else f"{stamp(self.elapsed())} {text}"
        self._clear_transient()
        self._write_console(text + "\n")
        if self.log is not None:
            self.log.write(text + "\n")
            self.log.flush()

    def note(self, message: str) -> None:
        """The refresh's `log` callable: detail goes to the log file only, everything else to both."""
        if isinstance(message, Detail):
            if self.log is not None:
                self.log.write(f"{stamp(self.elapsed())} {message}\n")
                self.log.flush()
            return
        self.line(str(message))

    # -- ingest: partitioned runs
    def partition_finished(self, job_name: str, partition: str, succeeded: bool) -> None:
        self.ingest_done += 1
        self.ingest_failed += 0 if succeeded else 1
        self.transient(stage_line(self.elapsed(), "ingest", f"{ingest_summary(self.ingest_done, self.ingest_failed)}"
                                                            f"  (last: {job_name} [{partition}])"))

    def partition_started(self) -> None:
        if self.ingest_started is None:
            self.ingest_started = self.clock()

    def end_ingest(self) -> None:
        """The ingest summary line, once, when the first unpartitioned run starts (or the refresh ends)."""
        if not self.ingest_done:
            return
        took = self.clock() - (self.ingest_started or self.started)
        self.line(f"{'ingest':<{STAGE_WIDTH}} {ingest_summary(self.ingest_done, self.ingest_failed)} ({took:.1f}s)")
        self.ingest_done = self.ingest_failed = 0
        self.ingest_started = None

    # -- steps of an unpartitioned run, from its events
    def step_listener(self, job) -> Callable:
        """A Dagster event listener printing a line per finished step of `job`'s run."""
        from dagster._core.events import DagsterEventType as Event

        tallies: dict[str, StepTally] = {}

        def op_of(step_key: str) -> tuple[str, dict]:
            try:
                definition = job.graph.node_named(step_key).definition
                return definition.name, dict(definition.tags)
            except Exception:  # a step key that is not a node name (a dynamic or nested step)
                return step_key, {}

        def on_event(entry) -> None:
            event = entry.dagster_event
            if event is None or not (event.step_key or event.event_type == Event.RUN_FAILURE):
                return
            tally = tallies.setdefault(event.step_key or "", StepTally())
            kind = event.event_type
            if kind == Event.STEP_START:
                tally.started = entry.timestamp
                name, tags = op_of(event.step_key)
                stage = stage_name(name, tags, False)
                known = stage != name.replace("_", " ")  # else: a check, or an asset this module has no name for
                self.transient(stage_line(self.elapsed(), stage if known else "step",
                                          "running..." if known else f"{event.step_key} running..."))
            elif kind == Event.ASSET_MATERIALIZATION:
                tally.materialized += 1
            elif kind == Event.ASSET_OBSERVATION:
                tally.observed += 1
            elif kind == Event.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                tally.last_check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                if evaluation.passed:
                    tally.checks_passed += 1
                elif evaluation.severity.value == "WARN":
                    tally.checks_warned += 1
                else:
                    tally.checks_failed += 1
            elif kind in (Event.STEP_SUCCESS, Event.STEP_FAILURE):
                name, tags = op_of(event.step_key)
                only_checks = tally.checks > 0 and not tally.materialized
                dbt = any(tag.startswith(DBT_OP_TAG_PREFIX) for tag in tags)
                seconds = entry.timestamp - tally.started if tally.started else None
                self.line(f"{stage_name(name, tags, only_checks):<{STAGE_WIDTH}} "
                          f"{tally.summary(dbt, kind == Event.STEP_SUCCESS, seconds)}")
            elif kind == Event.STEP_UP_FOR_RETRY:
                name, tags = op_of(event.step_key)
                self.line(f"{stage_name(name, tags, False):<{STAGE_WIDTH}} will be retried")
            elif kind == Event.RUN_FAILURE:
                not_run = len(job.graph.nodes) - sum(1 for tally in tallies.values() if tally.started)
                if not_run > 0:
                    self.line(f"{'':<{STAGE_WIDTH}} {count(not_run, 'step')} not run after the failure")

        def safely(entry) -> None:  # a display bug must never break the run: it goes to the log file instead
            try:
                on_event(entry)
            except Exception:
                logging.getLogger(__name__).exception("progress display failed on an event")

        return safely

    @contextmanager
    def watching(self, instance, run_id: str, job, partition_key: str | None) -> Iterator[None]:
        """Around one run: partitioned runs are counted as ingest, other runs show each step as it ends."""
        if partition_key is not None:
            self.partition_started()
            yield
            run = instance.get_run_by_id(run_id)
            self.partition_finished(job.name, partition_key, bool(run and run.status.value == "SUCCESS"))
            return
        self.end_ingest()
        instance.add_event_listener(run_id, self.step_listener(job))
        yield

    def finish(self) -> None:
        self.end_ingest()
        self._clear_transient()


_active: Display | None = None


def active() -> Display | None:
    return _active


# Python loggers whose warnings the user must see although they are logged outside any run: folders that
# discovery leaves out (`survey/wave4: not a wave folder name ...`).
CONSOLE_WARNING_LOGGERS = ("panel_ingest.discover",)


class _WarningLines(logging.Handler):
    """Each distinct warning of those loggers as one `warning: ...` line (discovery runs more than once)."""

    def __init__(self, display: Display):
        super().__init__(logging.WARNING)
        self.display, self.seen = display, set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.seen:
            self.seen.add(message)
            self.display.line(f"warning: {message}")


@contextmanager
def showing(display: Display) -> Iterator[Display]:
    """Make `display` the one refresh runs report to (`watch_run`, `dagster_logging`)."""
    global _active
    previous, _active = _active, display
    handler = _WarningLines(display)
    for name in CONSOLE_WARNING_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield display
    finally:
        for name in CONSOLE_WARNING_LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        display.finish()
        _active = previous


@contextmanager
def watch_run(instance, job, partition_key: str | None = None) -> Iterator[str]:
    """Around one run of `job`: yields the run id to start it with; progress lines when a display is
    active, nothing otherwise."""
    run_id = str(uuid.uuid4())  # what Dagster's own run ids are; known before the run, so it can be watched
    with _active.watching(instance, run_id, job, partition_key) if _active else nullcontext():
        yield run_id


def dagster_logging() -> dict:
    """Run config for Dagster's console logger: everything when it writes to the log file."""
    return FILE_LOGGING if _active and _active.log is not None else CONSOLE_LOGGING


# ---- the log file -----------------------------------------------------------------------------------------------

@contextmanager
def output_to_log(log_path: Path) -> Iterator[TextIO]:
    """Send this process's stdout and stderr (and its subprocesses': dbt) to `log_path`; yield the console.

    Redirected at the file-descriptor level, so Dagster's console logger, dbt's output re-emitted by
    dagster-dbt, Python warnings and libraries' prints all land in the file, whatever stream they hold.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    console = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding=sys.stdout.encoding or "utf-8",
                        errors="replace")
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        yield console
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for fd in (saved_out, saved_err, log_fd):
            os.close(fd)
        console.close()


def user_warnings(instance, run_id: str, job) -> list[str]:
    """Warnings the project's own steps logged in a run (a file's quarantine note, an empty UDI folder, a
    non-blocking Great Expectations finding: `context.log.warning`), at most `USER_WARNINGS_PER_RUN`; dagster-dbt's notes on its
    own steps stay in the logs. Deduplicated, in order."""
    lines: list[str] = []
    for entry in instance.all_logs(run_id):
        if entry.dagster_event is not None or entry.level != logging.WARNING or not entry.user_message:
            continue
        try:
            tags = job.graph.node_named(entry.step_key).definition.tags if entry.step_key else {}
        except Exception:
            tags = {}
        if any(tag.startswith(DBT_OP_TAG_PREFIX) for tag in tags):
            continue
        if entry.user_message not in lines:
            lines.append(entry.user_message)
    if len(lines) > USER_WARNINGS_PER_RUN:
        more = len(lines) - USER_WARNINGS_PER_RUN
        lines = lines[:USER_WARNINGS_PER_RUN] + [f"{count(more, 'more warning')} of run {run_id} in the refresh log"]
    return lines


def log_stack_trace() -> None:
    """The stack trace of the exception being handled, into the log file (stderr while `output_to_log`)."""
    traceback.print_exc()
    sys.stderr.flush()
