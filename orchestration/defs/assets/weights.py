"""Survey weights: cross-sectional raking to UDI margins and longitudinal retention weights."""
from __future__ import annotations

import dagster as dg

from orchestration.defs import owners
from orchestration.defs.metadata import jsonable
from orchestration.defs.resources import BuildDatabase

POOL = "duckdb_build"


@dg.asset(
    # What compute_weights reads. int_responses_linked is a dbt model of the analysis op, downstream of
    # person_links: Dagster runs the analysis op in two steps around this asset (it is subsettable).
    deps=[
        dg.AssetKey(["intermediate", "int_responses_linked"]),
        dg.AssetKey(["reference", "survey_waves"]),
        dg.AssetKey(["staging", "stg_udi__valid_permits"]),
    ],
    group_name="weights",
    owners=[owners.WEIGHTS],
    pool=POOL,
    kinds={"python", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
)
def survey_weights(build_db: BuildDatabase) -> dg.MaterializeResult:
    """`weights.cross_sectional`, `weights.longitudinal` and `weights.raking_margins`."""
    from survey_weights import compute_weights  # statsmodels is slow to import: load it only when weighting

    with build_db.connect() as con:
        summary = compute_weights(con)
    return dg.MaterializeResult(metadata={"weights": dg.MetadataValue.json(jsonable(summary))})
