"""The monthly UDI refresh: UDI publishes the previous month's figures in the first days of a month."""
from __future__ import annotations

import dagster as dg

from orchestration.defs.jobs import udi_snapshot_job
from orchestration.defs.partitions import UDI_SNAPSHOT_PARTITIONS
from panel_ingest import paths
from panel_ingest.discover import find_udi_snapshots

UDI_CRON = "0 7 6 * *"  # 07:00 on the 6th, Oslo time


@dg.schedule(
    name="monthly_udi_refresh",
    cron_schedule=UDI_CRON,
    execution_timezone="Europe/Oslo",
    job=udi_snapshot_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Monthly: registers every UDI retrieval folder and ingests those never ingested.",
)
def monthly_udi_refresh(context: dg.ScheduleEvaluationContext):
    """Request a run per UDI snapshot folder not yet materialised; skip with the reason when all are current."""
    snapshots = find_udi_snapshots(paths.raw_dir())
    if not snapshots:
        return dg.SkipReason(f"no UDI snapshot folder under {paths.raw_dir() / 'udi'}")
    instance = context.instance
    known = set(instance.get_dynamic_partitions(UDI_SNAPSHOT_PARTITIONS))
    new = [s for s in snapshots if s not in known]
    if new:
        instance.add_dynamic_partitions(UDI_SNAPSHOT_PARTITIONS, new)
    done = instance.get_materialized_partitions(dg.AssetKey("udi_snapshot"))
    pending = [s for s in snapshots if s not in done]
    if not pending:
        return dg.SkipReason(
            f"every UDI snapshot is ingested; the newest is {snapshots[-1]} (the udi freshness check warns when it ages)"
        )
    tick = context.scheduled_execution_time.strftime("%Y-%m") if context.scheduled_execution_time else "manual"
    return [dg.RunRequest(partition_key=s, run_key=f"udi-{tick}-{s}", tags={"panel/trigger": "monthly schedule"})
            for s in pending]
