"""The Dagster code location: `dagster dev -m orchestration.definitions` (what `make dev` runs).

Asset graph (docs/architecture.md): survey_wave / udi_snapshot partitions -> dbt harmonise ->
person_links -> survey_weights -> dbt analysis -> GX checks -> published_warehouse.
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.assets.dbt import dbt_analysis, dbt_harmonise
from orchestration.defs.assets.ingest import survey_wave, udi_snapshot
from orchestration.defs.assets.linkage import person_links
from orchestration.defs.assets.publish import published_warehouse
from orchestration.defs.assets.quality import great_expectations_suites, udi_freshness
from orchestration.defs.assets.report import REPORT_ASSETS, REPORT_CHECKS
from orchestration.defs.assets.weights import survey_weights
from orchestration.defs.jobs import downstream_job, survey_wave_job, udi_snapshot_job
from orchestration.defs.resources import RESOURCES
from orchestration.defs.schedules import monthly_udi_refresh
from orchestration.defs.sensors import automation_sensor, raw_folder_sensor, run_failure_alert

defs = dg.Definitions(
    assets=[survey_wave, udi_snapshot, dbt_harmonise, person_links, survey_weights, dbt_analysis, published_warehouse,
            *REPORT_ASSETS],
    asset_checks=[great_expectations_suites, udi_freshness, *REPORT_CHECKS],
    jobs=[survey_wave_job, udi_snapshot_job, downstream_job],
    schedules=[monthly_udi_refresh],
    sensors=[raw_folder_sensor, run_failure_alert, automation_sensor],
    resources=RESOURCES,
    # Every run's steps in its own process, one after another: the writers share one DuckDB file and queue for
    # it anyway (pool `duckdb_build`), and the default executor started a Python process per step, which cost
    # a daemon-launched refresh about 40 s of imports and definition loading per run.
    executor=dg.in_process_executor,
)
