"""Cross-wave record linkage, between dbt staging and the analysis models."""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.defs import owners
from orchestration.defs.metadata import WRITES_SCHEMA, jsonable
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


def decisions_file() -> Path:
    """`linkage_decisions.csv` in the data root: clerical review decisions every refresh honours."""
    from linkage.decisions import DECISIONS_FILE_NAME

    return paths.data_dir() / DECISIONS_FILE_NAME


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "person_links",
            deps=STAGING_INPUTS,
            description=("`linkage.response_persons` and `linkage.runs`: every response linked to a stable person "
                         "id, honouring the clerical decisions of linkage_decisions.csv; also the scored "
                         "candidate pairs, the review queue and the estimated linkage quality."),
            group_name="linkage",
            owners=[owners.LINKAGE],
            kinds={"python", "splink", "duckdb"},
            metadata={WRITES_SCHEMA: "linkage"},
            automation_condition=dg.AutomationCondition.eager(),
        ),
        dg.AssetSpec(
            "linkage_truth",
            deps=STAGING_INPUTS,
            description="`linkage.truth_responses` from the synthetic truth file (empty for real data); scores linkage only.",
            group_name="linkage",
            owners=[owners.LINKAGE],
            kinds={"python", "duckdb"},
            metadata={WRITES_SCHEMA: "linkage"},
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
        summary = link_waves(con, truth_csv=source if source.exists() else None, decisions_csv=decisions_file())
    summary = jsonable(summary)
    yield dg.MaterializeResult(asset_key="person_links", metadata={
        "responses": summary.get("responses"), "persons": summary.get("persons"),
        "duplicates": summary.get("duplicates"), "linkage": dg.MetadataValue.json(summary),
        "estimated_precision": summary.get("estimated_quality", {}).get("estimated_precision"),
        "estimated_recall": summary.get("estimated_quality", {}).get("estimated_recall"),
        "review_decisions": dg.MetadataValue.json(summary.get("review_decisions", {})),
    })
    yield dg.MaterializeResult(asset_key="linkage_truth", metadata={
        "truth_rows": summary.get("truth_rows", 0), "truth_file_present": source.exists(),
    })

