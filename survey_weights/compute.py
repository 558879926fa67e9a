"""Entry point: compute and store cross-sectional and longitudinal weights in the build DuckDB."""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from survey_weights.cross_sectional import (
    WeightsInputError,
    age_band,
    nearest_snapshot,
    udi_targets,
    weight_wave,
)

# The responses of record with their person: staging joined to linkage on (wave_id, response_id), as
# intermediate.int_responses_linked is, but read before the dbt analysis models so that one `dbt build`
# can run them all after the weights (no e-mail column is read).
RESPONSES_OF_RECORD = """
    staging.stg_survey__responses as r
    inner join linkage.response_persons as links
        on links.wave_id = r.wave_id and links.response_id = r.response_id
    where links.is_response_of_record
"""
# Waves are data: number and year come from the wave id `w<N>_<YYYY>` (staging's wave_number), never
# from a list. survey_waves only adds a field period where it knows one.
RESPONSES_SQL = r"""
    select r.wave_id, r.wave_number,
           try_cast(regexp_extract(r.wave_id, '^w\d+_(\d{4})$', 1) as integer) as wave_year,
           r.response_id, links.person_id, r.is_complete, r.country_now, r.gender, r.birth_year,
           r.region_code, r.children_in_norway, r.aspiration_coarse
    from """ + RESPONSES_OF_RECORD + """
    order by r.wave_number, r.response_id
"""
# Every wave in the data with its field period: survey_waves' where known, else the span of the
# wave's submissions (5th to 95th percentile, so a stray test submission does not stretch it).
WAVES_SQL = """
    with submissions as (
        select r.wave_id, min(r.wave_number) as wave_number,
               quantile_disc(r.submitted_at, 0.05)::date as first_submission,
               quantile_disc(r.submitted_at, 0.95)::date as last_submission
        from """ + RESPONSES_OF_RECORD + """
        group by r.wave_id
    )
    select submissions.wave_id, submissions.wave_number,
           coalesce(known.field_start::date, submissions.first_submission) as field_start,
           coalesce(known.field_end::date, submissions.last_submission) as field_end,
           known.wave_id is not null as field_period_known
    from submissions
    left join reference.survey_waves as known on known.wave_id = submissions.wave_id
    order by submissions.wave_number
"""
PERMITS_SQL = """
    select snapshot_date::date as snapshot_date, sex, age_group, region_code, valid_permits
    from staging.stg_udi__valid_permits where is_adult
    order by all
"""


# What the weights were computed from, by digest: a later build with the same inputs copies them instead
# of computing them again (and never imports statsmodels for it).
INPUTS_TABLE = "inputs_digest"
WEIGHTS_TABLES = ("cross_sectional", "longitudinal", "raking_margins", INPUTS_TABLE)
# The libraries whose versions can change a weight: part of the digest, read without importing them.
WEIGHTING_LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels")


def compute_weights(con: duckdb.DuckDBPyConnection, previous: Path | None = None) -> dict:
    """Compute all weights, replace the `weights` tables, and return a summary for asset metadata.

    Reads `staging.stg_survey__responses` joined to `linkage.response_persons` (the responses of record
    with their person), `reference.survey_waves` (field periods, where known) and
    `staging.stg_udi__valid_permits`; writes `weights.cross_sectional`, `weights.longitudinal`,
    `weights.raking_margins` and `weights.inputs_digest`. When the DuckDB file `previous` (the published
    warehouse) holds weights computed from the same inputs (`inputs_digest`), they are copied instead: a
    new UDI snapshot nearer no wave's field period leaves every input as it was.
    """
    responses = con.sql(RESPONSES_SQL).df()
    waves = con.sql(WAVES_SQL).df()
    permits = con.sql(PERMITS_SQL).df()
    digest = inputs_digest(responses, waves, raked_permits(waves, permits))
    copied = _copy_if_same_inputs(con, previous, digest) if previous is not None else None
    if copied is not None:
        return {**copied, "copied_from_previous": True}
    responses["age_band"] = [age_band(a) for a in responses["wave_year"] - responses["birth_year"]]
    responses["sex"] = responses["gender"].where(responses["gender"].isin(["female", "male"]))
    cross, margins, cross_summary = cross_sectional_weights(responses, waves, permits)
    longitudinal, long_summary = longitudinal_weights(responses, cross)
    summary = {
        "cross_sectional": cross_summary,
        "longitudinal": long_summary,
        "max_margin_error": float((margins["achieved_share"] - margins["target_share"]).abs().max()) if len(margins) else 0.0,
    }
    _write(con, cross, longitudinal, margins, digest, summary)
    return {**summary, "copied_from_previous": False}


def raked_permits(waves: pd.DataFrame, permits: pd.DataFrame) -> pd.DataFrame:
    """The permits of the snapshots some wave is raked to (the nearest its field period), or all of them when
    a wave has no field period (cross_sectional_weights then says why)."""
    snapshots = sorted({pd.Timestamp(s).date() for s in permits["snapshot_date"]})
    if not snapshots or waves[["field_start", "field_end"]].isna().any().any():
        return permits
    used = {nearest_snapshot(snapshots, pd.Timestamp(start).date(), pd.Timestamp(end).date())
            for start, end in zip(waves["field_start"], waves["field_end"])}
    return permits[[pd.Timestamp(s).date() in used for s in permits["snapshot_date"]]]


def inputs_digest(*frames: pd.DataFrame) -> str:
    """SHA-256 of the frames (columns, types and every row, in order), this package's code and the versions of
    the libraries that compute the weights."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    for library in WEIGHTING_LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()


def _copy_if_same_inputs(con: duckdb.DuckDBPyConnection, previous: Path, digest: str) -> dict | None:
    """Copy the weights tables of `previous` if they were computed from inputs with this digest; returns their
    summary, or None (nothing copied) when the file, the tables or the digest differ."""
    if not previous.exists():
        return None
    try:
        con.execute(f"attach '{_sql_text(str(previous))}' as previous_weights (read_only)")
    except duckdb.Error:  # locked by a writer elsewhere, or not a DuckDB file: no reason to fail, compute them
        return None
    try:
        held = {name for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'previous_weights' and schema_name = 'weights'"
        ).fetchall()}
        if not set(WEIGHTS_TABLES) <= held:
            return None
        rows = con.execute(f"select inputs_digest, summary from previous_weights.weights.{INPUTS_TABLE}").fetchall()
        if len(rows) != 1 or rows[0][0] != digest:
            return None
        con.execute("begin transaction")
        try:
            con.execute("create schema if not exists weights")
            for table in WEIGHTS_TABLES:
                con.execute(f"create or replace table weights.{table} as select * from previous_weights.weights.{table}")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        return json.loads(rows[0][1])
    finally:
        con.execute("detach previous_weights")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def in_norway_sample(responses: pd.DataFrame) -> pd.DataFrame:
    """Complete responses of record given in Norway: the population the weights describe."""
    return responses[responses["is_complete"].fillna(False).astype(bool) & (responses["country_now"] == "norway")]


def cross_sectional_weights(responses: pd.DataFrame, waves: pd.DataFrame, permits: pd.DataFrame):
    """Rake every wave with respondents to its nearest UDI snapshot."""
    sample = in_norway_sample(responses)
    permits = permits.assign(snapshot_date=[pd.Timestamp(s).date() for s in permits["snapshot_date"]])
    snapshots = sorted(set(permits["snapshot_date"]))
    weights, margins, summary = [], [], {}
    for wave in waves.itertuples():
        wave_sample = sample[sample["wave_id"] == wave.wave_id]
        if wave_sample.empty:
            continue
        if pd.isna(wave.field_start) or pd.isna(wave.field_end):
            raise WeightsInputError(f"wave {wave.wave_id} has neither a survey_waves field period nor submission times")
        field_start, field_end = pd.Timestamp(wave.field_start).date(), pd.Timestamp(wave.field_end).date()
        snapshot = nearest_snapshot(snapshots, field_start, field_end)
        targets = udi_targets(permits, snapshot)
        wave_weights, wave_margins, wave_summary = weight_wave(wave_sample, targets)
        weights.append(wave_weights)
        margins.append(wave_margins.assign(wave_id=wave.wave_id, snapshot_date=snapshot))
        summary[wave.wave_id] = {
            "snapshot_date": snapshot.isoformat(),
            "field_period": f"{field_start.isoformat()}..{field_end.isoformat()}",
            "field_period_from": "survey_waves" if wave.field_period_known else "submission times",
            **wave_summary,
        }
    if not weights:
        raise WeightsInputError("staging.stg_survey__responses has no complete response of record in Norway "
                               "(linked in linkage.response_persons)")
    return pd.concat(weights, ignore_index=True), pd.concat(margins, ignore_index=True), summary


def longitudinal_weights(responses: pd.DataFrame, cross: pd.DataFrame):
    """One retention model and set of weights per wave pair (from < to)."""
    from survey_weights.longitudinal import weight_pair  # statsmodels: imported only when weights are computed

    first = responses.merge(cross[["wave_id", "response_id", "weight_cross"]], on=["wave_id", "response_id"])
    children = pd.to_numeric(first["children_in_norway"], errors="coerce").astype(float)  # NULL -> NaN, not pd.NA
    first["children_in_norway"] = np.where(children.isna(), None, np.where(children > 0, "yes", "no"))
    wave_numbers = responses[["wave_id", "wave_number"]].drop_duplicates().sort_values("wave_number")
    answered = responses.groupby("wave_id")["person_id"].agg(set)
    rows, summary = [], {}
    for wave_from in wave_numbers.itertuples():
        for wave_to in wave_numbers[wave_numbers["wave_number"] > wave_from.wave_number].itertuples():
            base = first[first["wave_id"] == wave_from.wave_id].assign(wave_from=wave_from.wave_id, wave_to=wave_to.wave_id)
            if base.empty:
                continue
            base["retained"] = base["person_id"].isin(answered.get(wave_to.wave_id, set()))
            pair_weights, pair_summary = weight_pair(base.reset_index(drop=True))
            rows.append(pair_weights)
            summary[f"{wave_from.wave_id}->{wave_to.wave_id}"] = pair_summary
    columns = ["wave_from", "wave_to", "person_id", "retained", "p_retained", "weight_long"]
    return (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)), summary


def _write(con, cross: pd.DataFrame, longitudinal: pd.DataFrame, margins: pd.DataFrame, digest: str,
           summary: dict) -> None:
    """Replace the tables in one transaction so readers never see a mix of runs."""
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists weights")
        con.register("cross_df", cross)
        con.register("long_df", longitudinal)
        con.register("margins_df", margins)
        con.execute(
            """create or replace table weights.cross_sectional as
               select wave_id::varchar as wave_id, response_id::varchar as response_id, person_id::varchar as person_id,
                      weight_cross::double as weight_cross, is_raked::boolean as is_raked from cross_df"""
        )
        con.execute(
            """create or replace table weights.longitudinal as
               select wave_from::varchar as wave_from, wave_to::varchar as wave_to, person_id::varchar as person_id,
                      retained::boolean as retained, p_retained::double as p_retained, weight_long::double as weight_long
               from long_df"""
        )
        con.execute(
            """create or replace table weights.raking_margins as
               select wave_id::varchar as wave_id, snapshot_date::date as snapshot_date, margin::varchar as margin,
                      category::varchar as category, target_share::double as target_share,
                      achieved_share::double as achieved_share, udi_share::double as udi_share,
                      n_respondents::integer as n_respondents from margins_df"""
        )
        con.execute(f"create or replace table weights.{INPUTS_TABLE} as select ?::varchar as inputs_digest, "
                    "?::varchar as summary", [digest, json.dumps(summary, default=_plain)])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for name in ("cross_df", "long_df", "margins_df"):
            con.unregister(name)


def _plain(value):
    """numpy scalars (and anything else json cannot write) as plain Python values or text."""
    return value.item() if isinstance(value, np.generic) else str(value)
