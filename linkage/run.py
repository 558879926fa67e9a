"""Entry point of cross-wave linkage: `link_waves(con, truth_csv=None) -> dict` (docs/architecture.md)."""
from __future__ import annotations

import gc
import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import duckdb
import pandas as pd

from linkage import assign, model, review
from linkage.assign import History, link_wave
from linkage.decisions import apply_decisions, read_decisions
from linkage.estimate import overall_estimate, write_estimates
from linkage.rules import MAX_BIRTH_YEAR_GAP
from linkage.schema import ensure_linkage_tables
from linkage.truth import load_truth

logger = logging.getLogger(__name__)

RESPONSE_COLUMNS = (
    "wave_id", "wave_number", "response_id", "submitted_at", "is_complete", "gender", "birth_year",
    "oblast_iso", "arrival_month", "kommune_code_2024", "children_in_norway", "language",
    "partner_location", "token", "email_hash", "email_bloom",
)
CANDIDATE_COLUMNS = (
    "wave_id", "response_id", "person_id", "earlier_wave_id", "earlier_response_id", "log2_bayes_factor",
    "match_probability", "probability_any_person", "is_linked", *model.EVIDENCE_COLUMNS,
)
ASSIGNMENT_COLUMNS = (
    "wave_id", "wave_number", "response_id", "person_id", "is_response_of_record", "duplicate_of_response_id",
    "link_method", "linked_to_response_id", "match_probability",
)


class LinkageInputError(ValueError):
    """Staging input that linkage cannot use (e.g. a response id twice in one wave)."""


def read_responses(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Staging responses with the address each response's invitation token was sent to."""
    columns = ", ".join(f"r.{c}" for c in RESPONSE_COLUMNS)
    frame = con.execute(f"""
        SELECT {columns}, i.email_hash AS invitation_hash, i.email_bloom AS invitation_bloom
        FROM staging.stg_survey__responses r
        LEFT JOIN (SELECT wave_id, token, any_value(email_hash ORDER BY invited_at, email_hash) AS email_hash,
                          any_value(email_bloom ORDER BY invited_at, email_hash) AS email_bloom
                   FROM staging.stg_survey__invitations WHERE token IS NOT NULL GROUP BY wave_id, token) i
          ON i.wave_id = r.wave_id AND i.token = r.token
        ORDER BY r.wave_number, r.response_id
    """).df()
    frame["response_id"] = frame["response_id"].astype(str)
    _share_equal_encodings(frame)
    doubled = frame[frame.duplicated(["wave_id", "response_id"], keep=False)]
    if not doubled.empty:
        first = doubled.iloc[0]
        raise LinkageInputError(
            f"staging.stg_survey__responses: response_id {first.response_id!r} occurs "
            f"{int((doubled.response_id == first.response_id).sum())} times in wave {first.wave_id}")
    return frame


def _share_equal_encodings(frame: pd.DataFrame) -> None:
    """One string object per distinct address encoding: a person's invitation address recurs in every
    wave and often equals the typed one, and each Bloom encoding is a 1,024-character string, so at
    scale 100 the copies took hundreds of megabytes. Values are unchanged."""
    for pair in (("email_hash", "invitation_hash"), ("email_bloom", "invitation_bloom")):
        shared: dict[str, str] = {}
        for column in pair:
            frame[column] = [None if value is None else shared.setdefault(value, value)
                             for value in frame[column].tolist()]


def _kept_waves(con, responses: pd.DataFrame) -> pd.DataFrame:
    """Earlier assignments whose waves (and every wave before them) still hold the same responses."""
    previous = con.execute(f"SELECT {', '.join(ASSIGNMENT_COLUMNS)} FROM linkage.response_persons").df()
    kept = []
    for wave_id in responses.sort_values("wave_number")["wave_id"].unique():
        now = set(responses.loc[responses.wave_id == wave_id, "response_id"])
        before = previous[previous.wave_id == wave_id]
        if before.empty or set(before.response_id) != now:
            break
        kept.append(wave_id)
    return previous[previous.wave_id.isin(kept)]


def _parameters(models: dict) -> dict:
    return {
        "match_threshold": assign.MATCH_THRESHOLD,
        "returning_share_beta_prior": list(assign.SHARE_PRIOR),
        "typo_dice": assign.TYPO_DICE,
        "max_repeat_gap_days": assign.MAX_REPEAT_GAP.days,
        "candidate_floor": model.CANDIDATE_FLOOR,
        "candidate_floor_prior": "1 / earlier records",
        "max_pairs_per_response": model.MAX_PAIRS_PER_RESPONSE,
        "max_birth_year_gap_for_exact_links": MAX_BIRTH_YEAR_GAP,
        "min_records_to_train": model.MIN_RECORDS_TO_TRAIN,
        "m_prior_pairs": model.M_PRIOR_PAIRS,
        "email_m_prior_pairs": model.EMAIL_M_PRIOR_PAIRS,
        "review_queue": {"near_threshold_pairs": review.NEAR_THRESHOLD_PAIRS,
                         "audit_sample_links": review.AUDIT_SAMPLE_LINKS, "audit_seed": review.AUDIT_SEED},
        "random_seed": model.RANDOM_SEED,
        "link_order": list(assign.METHOD_RANK),
        "models_by_wave": models,
    }


def _insert(con, table: str, frame: pd.DataFrame, run_id: str) -> None:
    if frame.empty:
        return
    # DuckDB reads None, NaN, NaT and pd.NA alike as NULL, in object columns too: the frame goes in as
    # it is, run id added in SQL (copying a wave's candidate pairs to replace them took seconds).
    con.register("new_rows_frame", frame)
    con.execute(f"INSERT INTO linkage.{table} BY NAME SELECT *, ?::VARCHAR AS linkage_run_id FROM new_rows_frame",
                [run_id])
    con.unregister("new_rows_frame")


def _write(con, run_id: str, started: datetime, new_rows: pd.DataFrame, candidates: list[pd.DataFrame],
           kept_waves: list[str], relinked: list[str], parameters: dict, counts: dict, decisions: list) -> None:
    """Replace every wave not kept with this run's rows, honour the clerical decisions, estimate the
    quality, queue pairs for review and record the run, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("response_persons", "candidate_pairs"):
            con.execute(f"DELETE FROM linkage.{table} WHERE NOT list_contains(?::VARCHAR[], wave_id)", [kept_waves])
        _insert(con, "response_persons", new_rows, run_id)
        for wave_candidates in candidates:  # wave by wave: one wave's pairs in object form at a time
            _insert(con, "candidate_pairs", wave_candidates, run_id)
        parameters["review_decisions"] = apply_decisions(con, decisions, run_id)
        parameters["exact_link_error"] = write_estimates(con, run_id, counts)
        parameters["review_queue_pairs"] = review.write_review_queue(con, run_id, assign.MATCH_THRESHOLD)
        con.execute("INSERT INTO linkage.runs VALUES (?, ?, ?, ?, ?, ?)",
                    [run_id, started, datetime.now(timezone.utc).replace(tzinfo=None), relinked,
                     json.dumps(parameters, default=str), json.dumps(counts)])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate row sets; object dtype keeps all-NULL columns (e.g. no duplicates yet) harmless."""
    return pd.concat([f.astype(object) for f in frames], ignore_index=True)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (as it was before afterwards). Linkage holds
    millions of small objects (a dict per response, entities, candidates), freed by reference counting as
    they go; the collector would traverse all of them again each time enough new ones were made (at
    scale 100 about 20,000 collections). What cyclic garbage linking leaves is collected before the write."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def link_waves(con: duckdb.DuckDBPyConnection, truth_csv=None, decisions_csv=None) -> dict:
    """Link every wave not yet linked, keeping earlier assignments, and honour the clerical decisions of
    `decisions_csv` (linkage.decisions); write `linkage.*`; return metadata."""
    with cyclic_gc_paused():
        return _link_waves(con, truth_csv, decisions_csv)


def _link_waves(con: duckdb.DuckDBPyConnection, truth_csv, decisions_csv) -> dict:
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    ensure_linkage_tables(con)
    decisions = read_decisions(decisions_csv)  # a malformed file stops the run before anything changes
    truth_rows = load_truth(con, truth_csv)
    responses = read_responses(con)
    kept = _kept_waves(con, responses)
    kept_waves = sorted(set(kept.wave_id))
    run_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    linked = responses.merge(kept, on=["wave_id", "wave_number", "response_id"]) if not kept.empty else None
    new_rows, new_candidates, models, counts = [], [], {}, {}
    waves = responses[["wave_id", "wave_number"]].drop_duplicates().sort_values("wave_number")
    for wave_id in waves.wave_id:
        if wave_id in kept_waves:
            continue
        history = History.from_linked(linked) if linked is not None else History.empty()
        wave_responses = responses[responses.wave_id == wave_id]
        result = link_wave(wave_responses, history)
        rows = pd.DataFrame(result.rows, columns=list(ASSIGNMENT_COLUMNS))
        new_rows.append(rows)
        new_candidates.append(result.candidates.reindex(columns=list(CANDIDATE_COLUMNS)))
        models[wave_id], counts[wave_id] = result.model, dict(sorted(result.counts.items()))
        wave_linked = wave_responses.merge(rows, on=["wave_id", "wave_number", "response_id"])
        linked = wave_linked if linked is None else _stack([linked, wave_linked])
        logger.info("linked wave %s: %s", wave_id, counts[wave_id])
    relinked = list(models)
    parameters = _parameters(models)
    all_rows = _stack(new_rows) if new_rows else pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS))
    # The responses (with their 1,024-character encodings) are not needed to write: free them before
    # the write and the estimate, which hold the memory peak at scale 100.
    del responses, kept, linked, new_rows
    if relinked:
        del history, wave_responses, result, rows, wave_linked
    gc.collect()
    _write(con, run_id, started, all_rows, new_candidates, kept_waves, relinked, parameters, counts, decisions)
    return _metadata(con, run_id, relinked, counts, parameters, truth_rows)


def _metadata(con, run_id, relinked, counts, parameters, truth_rows) -> dict:
    by_method = dict(con.execute("""
        SELECT link_method, count(*) FROM linkage.response_persons
        WHERE is_response_of_record GROUP BY 1 ORDER BY 1""").fetchall())
    totals = con.execute("""
        SELECT count(*), count(DISTINCT person_id), count(*) FILTER (WHERE NOT is_response_of_record)
        FROM linkage.response_persons""").fetchone()
    return {
        "linkage_run_id": run_id,
        "waves_linked_this_run": relinked,
        "responses": totals[0], "persons": totals[1], "duplicates": totals[2],
        "records_by_method": by_method,
        "counts_by_wave": counts,
        "thresholds": {k: v for k, v in parameters.items() if k != "models_by_wave"},
        "parameters": parameters,
        "truth_rows": truth_rows,
        "review_decisions": parameters.get("review_decisions", {}),
        "estimated_quality": overall_estimate(con),
    }
