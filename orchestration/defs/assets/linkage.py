"""Cross-wave record linkage, between dbt staging and the analysis models."""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.defs import owners
from orchestration.defs.metadata import jsonable
from orchestration.defs.resources import BuildDatabase
from panel_ingest import paths

POOL = "duckdb_build"
STAGING_INPUTS = [
    dg.AssetKey(["staging", "stg_survey__responses"]),
    dg.AssetKey(["staging", "stg_survey__invitations"]),
]


def truth_file() -> Path:
    """`raw/_truth/responses.csv`: synthetic data only, read here and nowhere else in the pipeline."""
    return paths.raw_dir() / "_truth" / "responses.csv"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "person_links",
            deps=STAGING_INPUTS,
            description="`linkage.response_persons` and `linkage.runs`: every response linked to a stable person id.",
            group_name="linkage",
            owners=[owners.LINKAGE],
            kinds={"python", "splink", "duckdb"},
            automation_condition=dg.AutomationCondition.eager(),
        ),
        dg.AssetSpec(
            "linkage_truth",
            deps=STAGING_INPUTS,
            description="`linkage.truth_responses` from the synthetic truth file (empty for real data); scores linkage only.",
            group_name="linkage",
            owners=[owners.LINKAGE],
            kinds={"python", "duckdb"},
            automation_condition=dg.AutomationCondition.eager(),
        ),
    ],
    pool=POOL,
)
def person_links(build_db: BuildDatabase):
    """Link every wave; `link_waves` also (re)loads the truth table, so both assets come from one op."""
    from linkage.run import link_waves  # Splink is slow to import: load it only when linking

    source = truth_file()
    with build_db.connect() as con:
        summary = link_waves(con, truth_csv=source if source.exists() else None)
    summary = jsonable(summary)
    yield dg.MaterializeResult(asset_key="person_links", metadata={
        "responses": summary.get("responses"), "persons": summary.get("persons"),
        "duplicates": summary.get("duplicates"), "linkage": dg.MetadataValue.json(summary),
    })
    yield dg.MaterializeResult(asset_key="linkage_truth", metadata={
        "truth_rows": summary.get("truth_rows", 0), "truth_file_present": source.exists(),
    })

