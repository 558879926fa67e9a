"""The published warehouse: the last step, run only when every upstream blocking check passed."""
from __future__ import annotations

import dagster as dg

from orchestration.defs.assets.dbt import mart_keys
from orchestration.publish import publish_build
from panel_ingest import paths

POOL = "duckdb_build"


@dg.asset(
    deps=mart_keys(),
    group_name="publish",
    pool=POOL,
    kinds={"duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
)
def published_warehouse() -> dg.MaterializeResult:
    """`$PANEL_DATA_DIR/warehouse.duckdb`: the checked build file, swapped in atomically; the old one kept as previous."""
    result = publish_build(paths.build_db_path(), paths.published_db_path(), paths.previous_db_path())
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(result.published)),
        "tables": result.tables,
        "size_bytes": result.size_bytes,
        "previous_kept": dg.MetadataValue.path(str(result.previous)) if result.previous else "none (first publication)",
    })
