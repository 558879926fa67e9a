"""Quality gates over the marts: Great Expectations suites (structure blocks; judgements about the world,
e.g. counts against the previous run, are reported as warnings in the same check) and UDI freshness
(warning)."""

import os
from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration.defs.assets.dbt import mart_keys
from orchestration.defs.resources import BuildDatabase
from panel_ingest import paths
from validation.expectations import MART_NAMES

GX_CHECK = "great_expectations"
FRESHNESS_CHECK = "udi_freshness"
UDI_MAX_AGE_DAYS = 40
UDI_MONTHLY = dg.AssetKey(["marts", "udi_monthly"])
# `PANEL_TODAY=YYYY-MM-DD` pins "today" for the freshness check (reproducible demos and tests).
TODAY_ENV = "PANEL_TODAY"


def gx_marts() -> list[dg.AssetKey]:
    """The `marts` tables that have a Great Expectations suite."""
    present = {key.path[-1]: key for key in mart_keys() if key.path[0] == "marts"}
    return [present[name] for name in MART_NAMES if name in present]


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(GX_CHECK, asset=key, blocking=True,
                          description="Great Expectations suite over the mart: structure blocks; judgements "
                                      "about the world (counts against the previous run, implied departures) "
                                      "are listed as warnings and never block.")
        for key in gx_marts()
    ],
    can_subset=True,
    pool="duckdb_build",
)
def great_expectations_suites(context: AssetCheckExecutionContext, build_db: BuildDatabase):
    """Run the mart suites on the build file and render Data Docs into `$PANEL_DATA_DIR/data_docs/`."""
    from validation.expectations import run_mart_suites  # Great Expectations loads only when checking

    previous = paths.published_db_path()
    previous = previous if previous.exists() else None
    docs_dir = paths.data_docs_dir()
    selected = sorted({key.asset_key.path[-1] for key in context.selected_asset_check_keys})
    with build_db.connect() as con:
        results = run_mart_suites(con, docs_dir, previous_db=previous, marts=selected)
    outcomes = {outcome.mart.split(".")[-1]: outcome for outcome in results}
    for check_key in context.selected_asset_check_keys:
        mart = check_key.asset_key.path[-1]
        outcome = outcomes.get(mart)
        if outcome is None:
            yield dg.AssetCheckResult(asset_key=check_key.asset_key, check_name=GX_CHECK, passed=False,
                                      description=f"the Great Expectations run returned no outcome for marts.{mart}")
            continue
        description = outcome.summary() + "".join(f"\n- {line}" for line in outcome.failures)
        description += "".join(f"\n- warning (not blocking): {line}" for line in outcome.warnings)
        for line in outcome.warnings:
            context.log.warning(f"Great Expectations warning (not blocking): {line}")
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key, check_name=GX_CHECK, passed=bool(outcome.success),
            severity=dg.AssetCheckSeverity.ERROR, description=description,
            metadata={
                "expectations": outcome.n_expectations,
                "failed": outcome.n_failed,
                "warnings": dg.MetadataValue.json(list(outcome.warnings)),
                "notes": dg.MetadataValue.json(list(outcome.notes)),
                "data_docs": dg.MetadataValue.url(Path(outcome.docs_index or docs_dir / "index.html").resolve().as_uri()),
            },
        )


def udi_age_days(newest_snapshot: date, today: date) -> int:
    """Days between the newest UDI retrieval date and today."""
    return (today - newest_snapshot).days


def today() -> date:
    """Today, unless `PANEL_TODAY` pins it."""
    pinned = os.environ.get(TODAY_ENV, "").strip()
    return date.fromisoformat(pinned) if pinned else date.today()


def reference_date(con) -> tuple[date, str]:
    """What the newest snapshot is compared with: today (or `PANEL_TODAY`) for real data; for synthetic data
    (`raw/_truth` exists), whose world ends with its last survey, the data's own reference date: the last submission."""
    if not os.environ.get(TODAY_ENV, "").strip() and (paths.raw_dir() / "_truth").exists():
        (last,) = con.execute("select max(submitted_at)::date from staging.stg_survey__responses").fetchone()
        if last is not None:
            return last, "the synthetic data's last survey submission"
    return today(), "today"


@dg.asset_check(asset=UDI_MONTHLY, name=FRESHNESS_CHECK, blocking=False, pool="duckdb_build",
                description=f"Warns when the newest UDI snapshot is older than {UDI_MAX_AGE_DAYS} days (synthetic data: "
                            "than its own last survey submission).")
def udi_freshness(build_db: BuildDatabase) -> dg.AssetCheckResult:
    """The newest vintage in `marts.udi_monthly` against today; stale data warns but does not block."""
    with build_db.connect(read_only=True) as con:
        (newest,) = con.execute("select max(vintage_date)::date from marts.udi_monthly").fetchone()
        reference, basis = reference_date(con)
    if newest is None:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   description="marts.udi_monthly has no UDI vintage at all")
    age = udi_age_days(newest, reference)
    fresh = age <= UDI_MAX_AGE_DAYS
    return dg.AssetCheckResult(
        passed=fresh, severity=dg.AssetCheckSeverity.WARN,
        description=(f"newest UDI snapshot {newest} is {age} days older than {basis} ({reference})"
                     + ("" if fresh else f" (older than {UDI_MAX_AGE_DAYS} days: retrieve a new snapshot from UDI)")),
        metadata={"newest_snapshot": str(newest), "age_days": age, "max_age_days": UDI_MAX_AGE_DAYS,
                  "compared_with": f"{basis} ({reference})"},
    )
