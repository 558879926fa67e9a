"""Survey weights: cross-sectional raking to UDI margins and longitudinal retention weights."""
from __future__ import annotations

import dagster as dg

from orchestration.defs.assets.linkage import _jsonable
from orchestration.defs.resources import BuildDatabase
from survey_weights import compute_weights

POOL = "duckdb_build"


@dg.asset(
    deps=[
        "person_links",
        dg.AssetKey(["staging", "stg_survey__responses"]),
        dg.AssetKey(["staging", "stg_udi__valid_permits"]),
    ],
    group_name="weights",
    pool=POOL,
    kinds={"python", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
)
def survey_weights(build_db: BuildDatabase) -> dg.MaterializeResult:
    """`weights.cross_sectional`, `weights.longitudinal` and `weights.raking_margins`."""
    with build_db.connect() as con:
        summary = compute_weights(con)
    return dg.MaterializeResult(metadata={"weights": dg.MetadataValue.json(_jsonable(summary))})
