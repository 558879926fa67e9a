"""Entry point of cross-wave linkage: `link_waves(con, truth_csv=None) -> dict` (docs/architecture.md)."""
from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from datetime import datetime, timezone

import duckdb
import pandas as pd

from linkage import assign, model
from linkage.assign import History, link_wave
from linkage.rules import MAX_BIRTH_YEAR_GAP
from linkage.schema import ensure_linkage_tables
from linkage.truth import load_truth

logger = logging.getLogger(__name__)

RESPONSE_COLUMNS = (
    "wave_id", "wave_number", "response_id", "submitted_at", "is_complete", "gender", "birth_year",
    "oblast_iso", "arrival_month", "kommune_code_2024", "children_in_norway", "language",
    "partner_location", "token", "email_hash", "email_bloom",
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
    doubled = frame[frame.duplicated(["wave_id", "response_id"], keep=False)]
    if not doubled.empty:
        first = doubled.iloc[0]
        raise LinkageInputError(
            f"staging.stg_survey__responses: response_id {first.response_id!r} occurs "
            f"{int((doubled.response_id == first.response_id).sum())} times in wave {first.wave_id}")
    return frame


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
        "max_birth_year_gap_for_exact_links": MAX_BIRTH_YEAR_GAP,
        "min_records_to_train": model.MIN_RECORDS_TO_TRAIN,
        "random_seed": model.RANDOM_SEED,
        "link_order": list(assign.METHOD_RANK),
        "models_by_wave": models,
    }


def _write(con, run_id: str, started: datetime, new_rows: pd.DataFrame, kept_waves: list[str],
           relinked: list[str], parameters: dict, counts: dict) -> None:
    """Replace every wave not kept with this run's rows and record the run, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM linkage.response_persons WHERE NOT list_contains(?::VARCHAR[], wave_id)",
                    [kept_waves])
        if not new_rows.empty:
            new_rows = new_rows.assign(linkage_run_id=run_id)
            con.register("new_assignments", new_rows)
            con.execute("INSERT INTO linkage.response_persons BY NAME SELECT * FROM new_assignments")
            con.unregister("new_assignments")
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


def link_waves(con: duckdb.DuckDBPyConnection, truth_csv=None) -> dict:
    """Link every wave not yet linked, keeping earlier assignments; write `linkage.*`; return metadata."""
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    ensure_linkage_tables(con)
    truth_rows = load_truth(con, truth_csv)
    responses = read_responses(con)
    kept = _kept_waves(con, responses)
    kept_waves = sorted(set(kept.wave_id))
    run_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    linked = responses.merge(kept, on=["wave_id", "wave_number", "response_id"]) if not kept.empty else None
    new_rows, models, counts = [], {}, {}
    waves = responses[["wave_id", "wave_number"]].drop_duplicates().sort_values("wave_number")
    for wave_id in waves.wave_id:
        if wave_id in kept_waves:
            continue
        history = History.from_linked(linked) if linked is not None else History.empty()
        wave_responses = responses[responses.wave_id == wave_id]
        result = link_wave(wave_responses, history)
        rows = pd.DataFrame(result.rows, columns=list(ASSIGNMENT_COLUMNS))
        new_rows.append(rows)
        models[wave_id], counts[wave_id] = result.model, dict(sorted(result.counts.items()))
        wave_linked = wave_responses.merge(rows, on=["wave_id", "wave_number", "response_id"])
        linked = wave_linked if linked is None else _stack([linked, wave_linked])
        logger.info("linked wave %s: %s", wave_id, counts[wave_id])
    relinked = list(models)
    parameters = _parameters(models)
    all_rows = _stack(new_rows) if new_rows else pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS))
    _write(con, run_id, started, all_rows, kept_waves, relinked, parameters, counts)
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
    }
