"""What went wrong in a run, in words: failed steps and failed asset checks, read from the event log."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import dagster as dg
from dagster._core.events import DagsterEventType


@dataclass(frozen=True)
class Failure:
    kind: str  # "check" or "step"
    name: str  # asset key + check name, or step key
    partition: str | None
    reason: str

    def line(self) -> str:
        """One human-readable line, e.g. `check udi_snapshot:udi_partition_valid [2025-01-06]: ...`."""
        where = f" [{self.partition}]" if self.partition else ""
        return f"{self.kind} {self.name}{where}: {self.reason}"

    def as_dict(self) -> dict:
        return asdict(self)


def run_failures(instance: dg.DagsterInstance, run_id: str) -> list[Failure]:
    """Every failed asset check (any severity ERROR) and every failed step of the run, in event order."""
    failures: list[Failure] = []
    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.STEP_FAILURE}
    ).records
    run = instance.get_run_by_id(run_id)
    partition = run.tags.get("dagster/partition") if run else None
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
                continue
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            reason = evaluation.description or _metadata_text(evaluation.metadata) or "check failed"
            failures.append(Failure("check", name, partition, reason))
        else:
            error = event.step_failure_data.error if event.step_failure_data else None
            reason = _error_text(error) if error else "step failed"
            failures.append(Failure("step", event.step_key or "?", partition, reason))
    return failures


def _error_text(error) -> str:
    """The innermost message of a serialised error chain: Dagster's wrapper says only which op failed,
    the cause names the real problem (file, row, column, check)."""
    while error.cause is not None:
        error = error.cause
    return short_dbt_failure(error.message.strip())


# dagster-dbt's error for a failed `dbt build`: the whole command (with every selected node), advice
# about compute logs, then the errors dbt logged, which are the part that says what failed.
DBT_CLI_FAILURE = re.compile(
    r"^(?:[\w.]+: )?The dbt CLI process with command\s+`[^`]*`\s+failed with exit code `(?P<code>-?\d+)`\."
    r"(?:.*?Errors parsed from dbt logs:(?P<errors>.*)|.*)$", re.S)


def short_dbt_failure(message: str) -> str:
    """dagster-dbt's long failure text cut to the exit code and dbt's own error lines; other text unchanged.
    The failed dbt tests are also their own failed checks, and the whole text stays in the log file."""
    match = DBT_CLI_FAILURE.match(message)
    if not match:
        return message
    errors = "; ".join(" ".join(line.split()) for line in (match["errors"] or "").splitlines() if line.strip())
    return f"dbt build exited with code {match['code']}" + (f": {errors}" if errors else "")


def _metadata_text(metadata) -> str:
    return "; ".join(f"{k}={getattr(v, 'value', v)}" for k, v in (metadata or {}).items())
