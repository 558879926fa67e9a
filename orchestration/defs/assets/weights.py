"""Survey weights: cross-sectional raking to UDI margins and longitudinal retention weights."""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration import build_inputs
from orchestration.defs import owners
from orchestration.defs.metadata import WRITES_SCHEMA, jsonable
from orchestration.defs.resources import BuildDatabase
from panel_ingest import paths

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
def survey_weights(context: AssetExecutionContext, build_db: BuildDatabase) -> dg.MaterializeResult:
    """`weights.cross_sectional`, `weights.longitudinal`, `weights.raking_margins` and `weights.inputs_digest`:
    copied from the published warehouse when it holds weights of the same inputs, code and libraries (a full
    refresh, `PANEL_REFRESH_FULL=1`, computes them anyway)."""
    from survey_weights import compute_weights

    previous = None if build_inputs.full_refresh_requested() else paths.published_db_path()
    with build_db.connect() as con:
        summary = compute_weights(con, previous)
    if summary["copied_from_previous"]:
        context.log.info("weights: inputs as published (same digest): copied from the published warehouse")
    return dg.MaterializeResult(metadata={"weights": dg.MetadataValue.json(jsonable(summary))})
