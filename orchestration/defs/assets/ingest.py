"""Ingest assets: one survey wave or one UDI snapshot folder per partition, loaded into the build file.

Each materialisation records per-file row counts, cells set missing, warnings and checksums; a blocking
check verifies the loaded partition (rows add up across the file, the raw tables and the audit; share of
rows kept out within tolerance; the cells were validated by the pandera schema once, as they were read).
A partition whose step or blocking check fails is held back in the build at its last good version (the
published rows) or left out (orchestration.holdback), and its run fails and is alerted; the rest goes
downstream (a failed partition does not stall automation: orchestration.defs.automation). A wave without a
row in survey_waves.csv gets a non-blocking warning check saying which row to add; an empty UDI snapshot
folder loads zero rows with a warning and does not block.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs import owners
from orchestration.defs.partitions import survey_wave_partitions, udi_snapshot_partitions
from orchestration.defs.resources import BuildDatabase
from orchestration.holdback import clear_held_back, hold_back
from panel_ingest import paths
from panel_ingest.secrets import load_hmac_key

POOL = "duckdb_build"
INGEST_GROUP = "ingest"
SURVEY_CHECK = "survey_partition_valid"
UDI_CHECK = "udi_partition_valid"
WAVE_REGISTERED_CHECK = "survey_wave_registered"


def file_metadata(results: Sequence) -> dict[str, dg.MetadataValue]:
    """Totals plus one row per file (rows in/loaded/quarantined, sha256, quarantine reasons)."""
    files = {
        result.source_file: {
            "layout": result.layout,
            "rows_in": result.rows_in,
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
            "cells_set_missing": result.cells_set_missing,
            "sha256": result.file_sha256,
            "quarantine_reasons": dict(result.quarantine_reasons),
            "cells_set_missing_reasons": dict(result.cells_set_missing_reasons),
            "warnings": list(result.warnings),
        }
        for result in results
    }
    return {
        "rows_in": dg.MetadataValue.int(sum(r.rows_in for r in results)),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in results)),
        "rows_quarantined": dg.MetadataValue.int(sum(r.rows_quarantined for r in results)),
        "cells_set_missing": dg.MetadataValue.int(sum(r.cells_set_missing for r in results)),
        "files": dg.MetadataValue.json(files),
        "sha256": dg.MetadataValue.json({name: row["sha256"] for name, row in files.items()}),
    }


def wave_registered_result(results: Sequence) -> dg.AssetCheckResult:
    """Warning (never blocking) when the wave has no row in survey_waves.csv: says what row to add and
    which field start was inferred instead."""
    from panel_ingest.waves import SOURCE_SEED  # heavy imports only at run time

    wave = results[0].wave
    metadata = {"field_start": wave.field_start, "field_start_source": wave.field_start_source,
                "layout": results[0].layout}
    if wave.field_start_source == SOURCE_SEED:
        return dg.AssetCheckResult(check_name=WAVE_REGISTERED_CHECK, passed=True, metadata=metadata,
                                   description=f"{wave.wave_id} is in survey_waves.csv (field start {wave.field_start})")
    return dg.AssetCheckResult(
        check_name=WAVE_REGISTERED_CHECK, passed=False, severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
        description=(f"{wave.wave_id} has no field period in dbt_project/seeds/codebook/survey_waves.csv; the field "
                     f"start {wave.field_start or '(none)'} was {wave.field_start_source}. Add the row "
                     f"`{wave.wave_id},{wave.wave_number},{wave.wave_year},{results[0].layout},<field_start>,"
                     f"<field_end>,<label>` to fix the period and label."))


def ingest_or_hold_back(build_db: BuildDatabase, kind: str, asset: str, check_name: str, key: str,
                        ingest: Callable):
    """Run `ingest(con) -> (results, outcome)`; if it raises or its blocking check fails, hold the partition
    back in the build (so automation downstream builds with its last good rows), else clear any earlier hold."""
    from orchestration.releases import published_release_id

    def hold(reason: str) -> None:
        hold_back(Path(build_db.path()), paths.published_db_path(), kind, key, reason, published_release_id())

    try:
        with build_db.connect() as con:  # one connection: opening the build file costs ~40 ms each time
            results, outcome = ingest(con)
            if outcome.passed:
                clear_held_back(con, kind, key)
    except Exception as error:
        hold(f"step {asset} [{key}]: {error}")
        raise
    if not outcome.passed:
        hold(f"check {asset}:{check_name} [{key}]: {outcome.description}")
    return results, outcome


def check_result(check_name: str, outcome) -> dg.AssetCheckResult:
    """A blocking check result from a `panel_ingest.checks.CheckOutcome`."""
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=bool(outcome.passed),
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata=dict(outcome.metadata or {}),
    )


@dg.asset(
    partitions_def=survey_wave_partitions,
    group_name=INGEST_GROUP,
    owners=[owners.INGEST],
    pool=POOL,
    kinds={"python", "duckdb"},
    check_specs=[dg.AssetCheckSpec(SURVEY_CHECK, asset="survey_wave", blocking=True,
                                   description="Rows add up (file, raw tables, audit); share of rows kept out within tolerance."),
                 dg.AssetCheckSpec(WAVE_REGISTERED_CHECK, asset="survey_wave", blocking=False,
                                   description="Warns when the wave has no row in survey_waves.csv (field start inferred).")],
)
def survey_wave(context: AssetExecutionContext, build_db: BuildDatabase) -> dg.MaterializeResult:
    """One survey wave folder `raw/survey/w<N>_<YYYY>/`: responses (+ invitations) into `raw`; rows kept out
    and cells set missing into `audit.quarantine`."""
    from panel_ingest.checks import check_survey_partition  # heavy imports (pandas, pandera) only at run time
    from panel_ingest.raw_tables import ensure_raw_tables
    from panel_ingest.survey import ingest_survey_wave

    wave_id = context.partition_key
    hmac_key = load_hmac_key(paths.data_dir())

    def ingest(con):
        ensure_raw_tables(con)
        return ingest_survey_wave(con, paths.raw_dir(), wave_id, hmac_key), check_survey_partition(con, wave_id)

    results, outcome = ingest_or_hold_back(build_db, "survey", "survey_wave", SURVEY_CHECK, wave_id, ingest)
    for result in results:
        for message in result.warnings:
            context.log.warning(message)
    return dg.MaterializeResult(metadata=file_metadata(results), check_results=[
        check_result(SURVEY_CHECK, outcome), wave_registered_result(results)])


@dg.asset(
    partitions_def=udi_snapshot_partitions,
    group_name=INGEST_GROUP,
    owners=[owners.INGEST],
    pool=POOL,
    kinds={"python", "duckdb"},
    check_specs=[dg.AssetCheckSpec(UDI_CHECK, asset="udi_snapshot", blocking=True,
                                   description="Rows add up (file, raw tables, audit); share of rows kept out within tolerance.")],
)
def udi_snapshot(context: AssetExecutionContext, build_db: BuildDatabase) -> dg.MaterializeResult:
    """One UDI retrieval folder `raw/udi/<YYYY-MM-DD>/`: applications, decisions and valid permits into `raw`."""
    from panel_ingest.checks import CheckOutcome, check_udi_partition  # heavy imports only at run time
    from panel_ingest.raw_tables import ensure_raw_tables
    from panel_ingest.udi import empty_snapshot_warning, ingest_udi_snapshot

    snapshot_date = context.partition_key
    empty_message = empty_snapshot_warning(f"udi/{snapshot_date}")

    def ingest(con):
        ensure_raw_tables(con)
        results = ingest_udi_snapshot(con, paths.raw_dir(), snapshot_date)
        if not results:  # an empty folder: nothing retrieved yet; zero rows, a warning, never a blocked refresh
            return results, CheckOutcome(True, empty_message, {"files": 0, "rows_in": 0})
        return results, check_udi_partition(con, snapshot_date)

    results, outcome = ingest_or_hold_back(build_db, "udi", "udi_snapshot", UDI_CHECK, snapshot_date, ingest)
    if not results:
        context.log.warning(empty_message)
    for result in results:
        for message in result.warnings:
            context.log.warning(message)
    return dg.MaterializeResult(metadata=file_metadata(results), check_results=[check_result(UDI_CHECK, outcome)])
