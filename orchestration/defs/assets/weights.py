"""Survey weights: cross-sectional raking to UDI margins and longitudinal retention weights."""
from __future__ import annotations

import dagster as dg

from orchestration.defs import owners
from orchestration.defs.metadata import WRITES_SCHEMA, jsonable
from orchestration.defs.resources import BuildDatabase

POOL = "duckdb_build"


@dg.asset(
    # What compute_weights reads: staging responses joined to person_links' table (what the analysis model
    # int_responses_linked is), so the weights come before the whole dbt analysis op and Dagster need
    # not split that op into several `dbt build` steps around this asset.
    deps=[
        dg.AssetKey(["staging", "stg_survey__responses"]),
        dg.AssetKey("person_links"),
        dg.AssetKey(["reference", "survey_waves"]),
        dg.AssetKey(["staging", "stg_udi__valid_permits"]),
    ],
    group_name="weights",
    owners=[owners.WEIGHTS],
    pool=POOL,
    kinds={"python", "duckdb"},
    metadata={WRITES_SCHEMA: "weights"},
    automation_condition=dg.AutomationCondition.eager(),
)
def survey_weights(build_db: BuildDatabase) -> dg.MaterializeResult:
    """`weights.cross_sectional`, `weights.longitudinal` and `weights.raking_margins`."""
    from survey_weights import compute_weights  # statsmodels is slow to import: load it only when weighting

    with build_db.connect() as con:
        summary = compute_weights(con)
    return dg.MaterializeResult(metadata={"weights": dg.MetadataValue.json(jsonable(summary))})
