"""Where a refresh's time went, from the Dagster event log of the benchmark's DAGSTER_HOME.

Each step's time is STEP_START to its STEP_SUCCESS/FAILURE; each run's is RUN_START to its end.
Steps are put into stages by name (`STAGE_WORDS`), so a restructured graph is still classified; a
step that matches no stage is reported under its own name in `steps` and counted as `other steps`.
Time inside runs but outside steps is `dagster run overhead`; wall time outside every run (Python
start-up, imports, loading the definitions, the refresh's own work) is `outside runs`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

# First match wins: dbt before checks (dbt steps run dbt tests too), linkage before ingest.
STAGE_WORDS = (
    ("dbt", ("dbt",)),
    ("linkage", ("link", "person")),
    ("weights", ("weight",)),
    ("checks", ("expectation", "check", "freshness", "gx")),
    ("publication", ("publish",)),
    ("ingest", ("ingest", "survey_wave", "udi_snapshot", "wave", "snapshot", "raw")),
)
STAGES = ("ingest", "linkage", "weights", "dbt", "checks", "publication")
STEP_END = ("STEP_SUCCESS", "STEP_FAILURE")
RUN_END = ("PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED")


def stage_of(step_key: str) -> str:
    name = step_key.lower()
    for stage, words in STAGE_WORDS:
        if any(word in name for word in words):
            return stage
    return "other steps"


def _instance(dagster_home: Path):
    import dagster as dg  # heavy; only the benchmark driver needs it, after the refresh has ended

    from dagster._core.instance.ref import InstanceRef

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home)))


def stage_times(dagster_home: Path, since: float, wall_seconds: float) -> dict:
    """Seconds per stage, per step and overheads of every run created after `since` (a Unix time)."""
    import dagster as dg

    instance = _instance(dagster_home)
    created_after = datetime.fromtimestamp(since, tz=timezone.utc)
    records = instance.get_run_records(filters=dg.RunsFilter(created_after=created_after))
    steps: dict[str, float] = {}
    run_seconds = 0.0
    for record in records:
        started: dict[str, float] = {}
        run_start = run_end = None
        for entry in instance.all_logs(record.dagster_run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type_value
            if kind == "PIPELINE_START":
                run_start = entry.timestamp
            elif kind in RUN_END:
                run_end = entry.timestamp
            elif kind == "STEP_START":
                started[entry.step_key] = entry.timestamp
            elif kind in STEP_END and entry.step_key in started:
                key = entry.step_key
                steps[key] = steps.get(key, 0.0) + entry.timestamp - started.pop(key)
        if run_start is not None and run_end is not None:
            run_seconds += run_end - run_start
    stages = {stage: 0.0 for stage in STAGES}
    for key, seconds in steps.items():
        stage = stage_of(key)
        stages[stage] = stages.get(stage, 0.0) + seconds
    in_steps = sum(steps.values())
    stages["dagster run overhead"] = max(0.0, run_seconds - in_steps)
    stages["outside runs"] = max(0.0, wall_seconds - run_seconds)
    return {"runs": len(records), "stages": {k: round(v, 3) for k, v in stages.items()},
            "steps": {k: round(v, 3) for k, v in sorted(steps.items())}}
