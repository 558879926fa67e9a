"""The published warehouse: the last step, run only when every upstream blocking check passed."""

import dagster as dg
from dagster import AssetExecutionContext
from dagster._core.events import DagsterEventType

from orchestration.defs import owners
from orchestration.defs.assets.dbt import mart_keys
from orchestration.publish import publish_build
from panel_ingest import paths

POOL = "duckdb_build"


def run_check_results(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    """Every asset check evaluated in the run so far, for the release manifest."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    results = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        results.append({
            "check": f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}",
            "passed": bool(evaluation.passed),
            "severity": evaluation.severity.value,
        })
    return results


@dg.asset(
    deps=mart_keys(),
    group_name="publish",
    owners=[owners.PUBLICATION],
    pool=POOL,
    kinds={"duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
)
def published_warehouse(context: AssetExecutionContext) -> dg.MaterializeResult:
    """`$PANEL_DATA_DIR/warehouse.duckdb`: the checked build file, swapped in atomically; the old one kept as
    previous, the release (file, manifest, Parquet/Stata/SPSS exports) kept under `releases/<release_id>/`."""
    result = publish_build(paths.build_db_path(), paths.published_db_path(), paths.previous_db_path(),
                           checks=run_check_results(context.instance, context.run_id))
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(result.published)),
        "tables": result.tables,
        "size_bytes": result.size_bytes,
        "previous_kept": dg.MetadataValue.path(str(result.previous)) if result.previous else "none (first publication)",
        "release_id": result.release_id,
        "release_folder": dg.MetadataValue.path(str(result.release_dir)),
        "exports": dg.MetadataValue.path(str(paths.data_dir() / "exports")),
        "releases_pruned": ", ".join(result.pruned) or "none",
    })
