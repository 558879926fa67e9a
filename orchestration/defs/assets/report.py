"""Where users look: the panel report and the data catalogue (rendered from the published warehouse after every
publication), and checks on linkage, weights and publication that show on those assets' pages.

The report and catalogue read only the published file (read-only), so they are not in the build file's pool.
"""
from __future__ import annotations

import subprocess

import duckdb
import dagster as dg

from orchestration import warm_dbt
from orchestration.defs import owners
from orchestration.defs.assets.dbt import mart_keys
from orchestration.defs.resources import BuildDatabase
from panel_ingest import paths

REPORT_GROUP = "report"
PUBLISHED = dg.AssetKey("published_warehouse")
CATALOGUE_CHECK = "every_published_column_documented"
MAX_MARGIN_GAP = 0.005  # raking hits every margin within half a percentage point (survey_weights/README.md)
MEAN_WEIGHT_TOLERANCE = 1e-6


def file_url(path) -> dg.MetadataValue:
    """A clickable `file://` link (Dagster shows plain paths as text to copy)."""
    return dg.MetadataValue.url(path.resolve().as_uri())


@dg.asset(
    deps=[PUBLISHED],
    group_name=REPORT_GROUP,
    owners=[owners.REPORTING],
    kinds={"python", "plotly", "html"},
    automation_condition=dg.AutomationCondition.eager(),
)
def panel_report() -> dg.MaterializeResult:
    """`$PANEL_DATA_DIR/report/index.html`: figures with captions (flows, shares with 95 % CIs, retention, leaving,
    UDI, linkage) from the published warehouse, small cells suppressed; opens offline."""
    from panel_report import report_dir
    from panel_report.report import render_report  # plotly loads only when rendering

    result = render_report(paths.published_db_path(), report_dir())
    return dg.MaterializeResult(metadata={
        "report": file_url(result.path),
        "path": dg.MetadataValue.path(str(result.path)),
        "figures": len(result.figures),
        "without_data": ", ".join(result.absent) or "none",
        "waves": ", ".join(result.waves),
    })


@dg.asset(
    deps=[PUBLISHED],
    group_name=REPORT_GROUP,
    owners=[owners.REPORTING],
    kinds={"dbt", "html"},
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec(CATALOGUE_CHECK, asset="data_catalogue", blocking=False,
                                   description="Every marts and release table and column has a description in the catalogue.")],
)
def data_catalogue() -> dg.MaterializeResult:
    """`$PANEL_DATA_DIR/catalogue/index.html` (dbt docs as one static file: models, columns, lineage) and
    `catalogue/codebook.html` (one row per concept, one column per wave)."""
    from panel_report import catalogue_dir
    from panel_report.catalogue import render_catalogue
    from panel_report.codebook import render_codebook

    warm = warm_dbt.active()  # under a refresh: a dbt process already past its imports
    catalogue = render_catalogue(paths.published_db_path(), catalogue_dir(), warm.popen if warm else subprocess.Popen)
    codebook = render_codebook(paths.published_db_path(), catalogue_dir())
    missing = catalogue.undocumented
    return dg.MaterializeResult(
        metadata={
            "catalogue": file_url(catalogue.path),
            "codebook": file_url(codebook),
            "path": dg.MetadataValue.path(str(catalogue.path)),
            "models": catalogue.models,
        },
        check_results=[dg.AssetCheckResult(
            check_name=CATALOGUE_CHECK, passed=not missing, severity=dg.AssetCheckSeverity.WARN,
            description="every published table and column is described" if not missing
            else f"{len(missing)} without a description: " + ", ".join(missing[:20]),
            metadata={"undocumented": len(missing)},
        )],
    )


@dg.asset_check(asset=dg.AssetKey("person_links"), name="every_response_linked_once", blocking=True, pool="duckdb_build",
                description="Every staged survey response has exactly one person id, and no response is linked twice.")
def every_response_linked_once(build_db: BuildDatabase) -> dg.AssetCheckResult:
    with build_db.connect(read_only=True) as con:
        staged, linked, unlinked, duplicated, persons = con.execute("""
            with staged as (select distinct wave_id, response_id::varchar as response_id from staging.stg_survey__responses),
                 links as (select wave_id, response_id::varchar as response_id, person_id from linkage.response_persons)
            select (select count(*) from staged),
                   (select count(*) from links),
                   (select count(*) from staged anti join links using (wave_id, response_id))
                     + (select count(*) from links where person_id is null),
                   (select count(*) from (select wave_id, response_id from links group by all having count(*) > 1)),
                   (select count(distinct person_id) from links)
        """).fetchone()
    passed = unlinked == 0 and duplicated == 0
    return dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.ERROR,
        description=(f"{staged} staged responses, each linked to one of {persons} persons" if passed else
                     f"{unlinked} staged responses without a person id, {duplicated} linked more than once"),
        metadata={"staged_responses": staged, "linked_rows": linked, "unlinked": unlinked,
                  "linked_twice": duplicated, "persons": persons},
    )


@dg.asset_check(asset=dg.AssetKey("survey_weights"), name="weights_positive_mean_one_margins_met", blocking=True,
                pool="duckdb_build",
                description="Cross-sectional weights are positive with mean 1 in every wave (blocking); raking meets "
                            f"every margin within {100 * MAX_MARGIN_GAP:.1f} percentage points (a warning: a small "
                            "wave with an empty cell cannot reach every margin).")
def weights_positive_mean_one_margins_met(build_db: BuildDatabase) -> dg.AssetCheckResult:
    with build_db.connect(read_only=True) as con:
        waves = con.execute("""select wave_id, count(*) as n, min(weight_cross) as smallest, avg(weight_cross) as mean
                               from weights.cross_sectional group by wave_id order by wave_id""").fetchall()
        (worst_gap,) = con.execute("select coalesce(max(abs(achieved_share - target_share)), 0) "
                                   "from weights.raking_margins").fetchone()
    problems = [f"{wave}: smallest weight {smallest:.4f}" for wave, _, smallest, _ in waves if not smallest > 0]
    problems += [f"{wave}: mean weight {mean:.6f}" for wave, _, _, mean in waves if abs(mean - 1) > MEAN_WEIGHT_TOLERANCE]
    if not waves:
        problems.append("weights.cross_sectional is empty")
    warnings = ([f"a raking margin is {100 * worst_gap:.2f} percentage points off its target "
                 "(see weights.raking_margins)"] if worst_gap > MAX_MARGIN_GAP else [])
    return dg.AssetCheckResult(
        passed=not (problems or warnings),
        severity=dg.AssetCheckSeverity.ERROR if problems else dg.AssetCheckSeverity.WARN,
        description="; ".join(problems + warnings)
        or f"{len(waves)} waves weighted; largest margin gap {100 * worst_gap:.3f} pp",
        metadata={"waves": dg.MetadataValue.json({wave: {"n": n, "mean": mean} for wave, n, _, mean in waves}),
                  "largest_margin_gap": float(worst_gap)},
    )


@dg.asset_check(asset=PUBLISHED, name="published_file_complete", blocking=False,
                description="The published file opens read-only and holds every marts and release table of the graph.")
def published_file_complete() -> dg.AssetCheckResult:
    published = paths.published_db_path()
    expected = {".".join(key.path) for key in mart_keys()}
    if not published.exists():
        return dg.AssetCheckResult(passed=False, description=f"no published warehouse at {published}")
    con = duckdb.connect(str(published), read_only=True)
    try:
        present = {f"{schema}.{name}" for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name in ('marts', 'release')").fetchall()}
    finally:
        con.close()
    missing = sorted(expected - present)
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.ERROR,
        description=f"all {len(expected)} marts and release tables present" if not missing else "missing: " + ", ".join(missing),
        metadata={"tables_expected": len(expected), "tables_missing": len(missing)},
    )


REPORT_ASSETS = [panel_report, data_catalogue]
REPORT_CHECKS = [every_response_linked_once, weights_positive_mean_one_margins_met, published_file_complete]
