"""Sensors: new raw folders become partitions and runs; failed runs leave an alert record."""
from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from orchestration.defs.jobs import survey_wave_job, udi_snapshot_job
from orchestration.defs.partitions import SURVEY_WAVE_PARTITIONS, UDI_SNAPSHOT_PARTITIONS
from orchestration.failures import run_failures
from orchestration.holdback import KIND_OF_JOB
from panel_ingest import paths
from panel_ingest.discover import find_survey_waves, find_udi_snapshots

WEBHOOK_ENV = "PANEL_ALERT_WEBHOOK"
HELD_BACK_NOTE = ("the partition is held back in the build at its last good version (left out if it never loaded "
                  "good); automation brings the rest up to date and publishes it. Mend the file to load it.")
WEBHOOK_TIMEOUT_SECONDS = 10


def folder_fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of a folder's files: changes when a file is added or replaced."""
    entries = sorted(
        f"{p.relative_to(folder)}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in folder.rglob("*") if p.is_file()
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]


def _family_requests(instance: dg.DagsterInstance, partitions_name: str, folders: dict[str, Path],
                     seen: dict[str, str], job_name: str):
    """New folders: add the partition and request its run. Known folders whose files changed: request a re-run."""
    known = set(instance.get_dynamic_partitions(partitions_name))
    new_keys = [key for key in folders if key not in known]
    fingerprints = {key: folder_fingerprint(folder) for key, folder in folders.items()}
    changed = [key for key in folders if key in known and key in seen and seen[key] != fingerprints[key]]
    runs = [
        dg.RunRequest(job_name=job_name, partition_key=key, run_key=f"{partitions_name}:{key}:{fingerprints[key]}",
                      tags={"panel/trigger": "new folder" if key in new_keys else "changed files"})
        for key in new_keys + changed
    ]
    additions = [dg.AddDynamicPartitionsRequest(partitions_name, new_keys)] if new_keys else []
    return runs, additions, fingerprints


@dg.sensor(
    name="raw_folder_sensor",
    jobs=[survey_wave_job, udi_snapshot_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A new wave or UDI snapshot folder under raw/ becomes a partition and is ingested; "
                "a changed folder is ingested again. dbt and the rest follow by declarative automation.",
)
def raw_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Compare the raw folders with the dynamic partitions (and the file fingerprints in the cursor)."""
    raw = paths.raw_dir()
    seen = json.loads(context.cursor) if context.cursor else {}
    skipped: list[str] = []  # folders that are not partitions (`wave4`, a future-dated snapshot): said, not hidden
    families = [
        (SURVEY_WAVE_PARTITIONS, {w: raw / "survey" / w for w in find_survey_waves(raw, skipped)}, survey_wave_job.name),
        (UDI_SNAPSHOT_PARTITIONS, {s: raw / "udi" / s for s in find_udi_snapshots(raw, skipped)}, udi_snapshot_job.name),
    ]
    for message in skipped:
        context.log.warning(message)
    runs, additions, cursor = [], [], {}
    for partitions_name, folders, job_name in families:
        family_runs, family_additions, fingerprints = _family_requests(
            context.instance, partitions_name, folders, seen.get(partitions_name, {}), job_name
        )
        runs += family_runs
        additions += family_additions
        cursor[partitions_name] = fingerprints
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=additions,
        cursor=json.dumps(cursor, sort_keys=True),
        skip_reason=None if runs else dg.SkipReason(f"no new or changed folder under {raw}"),
    )


def write_alert(record: dict, alerts_dir: Path | None = None) -> Path:
    """Write one alert as JSON into `$PANEL_DATA_DIR/alerts/` and, if configured, POST it to the webhook."""
    folder = alerts_dir or paths.alerts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    webhook = os.environ.get(WEBHOOK_ENV, "").strip()
    if webhook:
        record = {**record, "webhook": post_alert(webhook, record)}
    path = folder / f"{record['failed_at'].replace(':', '').replace('-', '')}_{record['run_id']}.json"
    path.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    return path


def post_alert(url: str, record: dict) -> str:
    """POST the alert as JSON; a webhook that is down must not hide the alert, so errors are returned, not raised."""
    request = urllib.request.Request(url, data=json.dumps(record).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return f"posted: HTTP {response.status}"
    except Exception as error:  # noqa: BLE001 - any delivery problem is reported in the record itself
        return f"not delivered: {error}"


def alert_record(context: dg.RunFailureSensorContext) -> dict:
    """The alert: which run failed, and each failed check or step with its reason."""
    run = context.dagster_run
    failures = run_failures(context.instance, run.run_id)
    return {
        "alert": "run_failed",
        "run_id": run.run_id,
        "job": run.job_name,
        "trigger": (run.tags or {}).get("panel/trigger"),  # automation runs all share the job name __ASSET_JOB
        "partition": (run.tags or {}).get("dagster/partition"),
        "failed_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "message": context.failure_event.message if context.failure_event else None,
        "failures": [failure.as_dict() for failure in failures],
        "summary": "; ".join(failure.line() for failure in failures) or "run failed",
        **({"held_back": HELD_BACK_NOTE} if run.job_name in KIND_OF_JOB else {}),
    }


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes a JSON alert record to $PANEL_DATA_DIR/alerts/ (and POSTs it to $PANEL_ALERT_WEBHOOK if set).",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    """Record every failed run where someone will see it."""
    path = write_alert(alert_record(context))
    context.log.info(f"alert written to {path}")


# Dagster names every run that declarative automation launches `__ASSET_JOB`; the tag says what started it, as the
# folder sensor's and the schedule's runs say (filter on it in the UI; the alert record carries it).
AUTOMATION_TRIGGER = {"panel/trigger": "automation"}

automation_sensor = dg.AutomationConditionSensorDefinition(
    "panel_automation",
    target=dg.AssetSelection.all(),
    run_tags=AUTOMATION_TRIGGER,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Declarative automation: brings dbt, linkage, weights and publication up to date after ingest.",
)
