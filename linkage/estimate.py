"""Linkage quality estimated from the model alone (no truth), per wave pair and link method.

Pairs are counted as in `marts.linkage_quality`: two loaded responses of different waves that linkage
put in one person; a pair's method is the link method of its later response.

* Each response belongs to its person with a probability: 1 for the person's first response (and for a
  response a reviewer matched), the posterior for a probabilistic link, `1 - q` for a token or e-mail
  link, where `q` is the exact-link error of `exact_link_error` (see linkage/README.md). A predicted
  pair is right when both its responses belong: `P = p_earlier * p_later`, so the expected false pairs
  are `sum(1 - P)`.
* The expected missed pairs come from the scored candidates that were not linked: two persons that
  linkage kept apart are one with the largest posterior of a candidate pair between them (among all
  the candidates of the response, so a second submission of one person that was not grouped counts
  too; 0 when a reviewer said `non_match`), and then every cross-wave pair of their responses is missed.
* Intervals treat pairs as independent Bernoulli trials (normal approximation, 95 %); they show the
  chance variation of the counts, not the error of the model.
"""
from __future__ import annotations

import json
import math

import duckdb
import pandas as pd

from linkage.rules import MAX_BIRTH_YEAR_GAP

METHODS = ("all", "token", "email_exact", "probabilistic")
EXACT_METHODS = ("token", "email_exact")
Z_95 = 1.959964
# A compatible share of 1/2 would mean every second family member is indistinguishable: cap it there.
MAX_COMPATIBLE_SHARE = 0.5


def _latest_wave_counts(con, current: dict) -> dict[str, dict]:
    """Counts of the run that last linked each wave: earlier runs (linkage.runs), then this one's."""
    counts: dict[str, dict] = {}
    for (raw,) in con.execute("SELECT counts FROM linkage.runs ORDER BY started_at, linkage_run_id").fetchall():
        counts.update(json.loads(raw) if raw else {})
    counts.update(current)
    return counts


def _compatible_share_of_person_pairs(con) -> tuple[float, int]:
    """Share of pairs of distinct persons whom gender and birth year cannot tell apart (the check of
    `linkage.rules.attributes_compatible`), over all pairs of persons; and the number of persons."""
    share, persons = con.execute("""
        WITH persons AS (
            SELECT p.person_id, any_value(r.gender ORDER BY p.wave_number) AS gender,
                   any_value(r.birth_year ORDER BY p.wave_number) AS birth_year
            FROM linkage.response_persons p
            JOIN staging.stg_survey__responses r USING (wave_id, response_id)
            WHERE p.is_response_of_record GROUP BY p.person_id
        ), kinds AS (
            SELECT CASE WHEN gender IN ('female', 'male') THEN gender END AS gender, birth_year, count(*) AS n
            FROM persons GROUP BY ALL
        )
        SELECT sum(CASE WHEN a.gender IS NULL OR b.gender IS NULL OR a.gender = b.gender THEN
                        CASE WHEN a.birth_year IS NULL OR b.birth_year IS NULL OR abs(a.birth_year - b.birth_year) <= ?
                             THEN a.n * (b.n - CASE WHEN a.gender IS NOT DISTINCT FROM b.gender
                                                     AND a.birth_year IS NOT DISTINCT FROM b.birth_year THEN 1 ELSE 0 END)
                             ELSE 0 END ELSE 0 END) / nullif((SELECT count(*) FROM persons) * ((SELECT count(*) FROM persons) - 1), 0),
               (SELECT count(*) FROM persons)
        FROM kinds a CROSS JOIN kinds b""", [MAX_BIRTH_YEAR_GAP]).fetchone()
    return float(share or 0.0), int(persons)


def exact_link_error(con: duckdb.DuckDBPyConnection, current_counts: dict) -> dict:
    """Estimated share of wrong token and e-mail links, per method.

    A token or an e-mail hash leads to the person who gave the address; it is wrong when someone else
    used that address (a family member sharing it, a token passed on) and passed the gender and birth
    year check. The uses that failed the check are counted (`*_rejected_incompatible`); those that
    passed it are expected in the ratio c : (1 - c), where c is the share of pairs of persons in the
    panel whom gender and birth year cannot tell apart (family members are assumed no more alike than
    that). So wrong links = rejected x c / (1 - c), and q = wrong links / exact links taken.
    """
    share, persons = _compatible_share_of_person_pairs(con)
    share = min(share, MAX_COMPATIBLE_SHARE)
    counts = _latest_wave_counts(con, current_counts)
    taken = dict(con.execute("""SELECT link_method, count(*) FROM linkage.response_persons
                                WHERE is_response_of_record GROUP BY 1""").fetchall())
    model = {"compatible_share_of_person_pairs": share, "persons": persons}
    for method in EXACT_METHODS:
        rejected = sum(int(c.get(f"{method}_rejected_incompatible", 0)) for c in counts.values())
        expected_wrong = rejected * share / (1 - share)
        model[method] = {"rejected_incompatible": rejected, "links": int(taken.get(method, 0)),
                         "error_rate": min(1.0, expected_wrong / taken[method]) if taken.get(method) else 0.0}
    return model


def _labels(con, run_id: str) -> pd.DataFrame:
    """Reviewed pairs in effect in this run (earlier/later response, decision)."""
    return con.execute("""
        SELECT earlier_wave_id, earlier_response_id, later_wave_id, later_response_id, decision
        FROM linkage.decisions_applied
        WHERE linkage_run_id = ? AND status IN ('honoured', 'already_in_effect')""", [run_id]).df()


def _response_probabilities(con, error: dict, labels: pd.DataFrame) -> pd.DataFrame:
    """Every response with p_model and p_labelled, the probability it belongs to its person."""
    rows = con.execute("""SELECT wave_id, wave_number, response_id, person_id, link_method, match_probability
                          FROM linkage.response_persons""").df()
    p = pd.Series(1.0, index=rows.index)
    for method in EXACT_METHODS:
        p[rows.link_method == method] = 1.0 - error[method]["error_rate"]
    probabilistic = rows.link_method == "probabilistic"
    p[probabilistic] = rows.loc[probabilistic, "match_probability"].astype(float).fillna(0.0)
    rows["p_model"] = p
    rows["p_labelled"] = p
    matched = labels[labels.decision == "match"]
    if not matched.empty:
        person_of = rows.set_index(["wave_id", "response_id"])["person_id"]
        confirmed = set()
        for pair in matched.itertuples(index=False):
            earlier = person_of.get((pair.earlier_wave_id, pair.earlier_response_id))
            later = person_of.get((pair.later_wave_id, pair.later_response_id))
            if earlier is not None and earlier == later:
                confirmed.add((pair.later_wave_id, later))
        is_confirmed = [(w, pid) in confirmed for w, pid in zip(rows.wave_id, rows.person_id)]
        rows.loc[is_confirmed, "p_labelled"] = 1.0
    return rows


def _predicted_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    pairs = rows.merge(rows, on="person_id", suffixes=("_from", "_to"))
    pairs = pairs[pairs.wave_number_from < pairs.wave_number_to]
    return pd.DataFrame({
        "wave_from": pairs.wave_id_from, "wave_to": pairs.wave_id_to, "method": pairs.link_method_to,
        "p_model": pairs.p_model_from * pairs.p_model_to,
        "p_labelled": pairs.p_labelled_from * pairs.p_labelled_to,
        "reviewed": pairs.p_labelled_to != pairs.p_model_to,
    })


def _missed_pairs(con, rows: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Expected missed pairs (and their variance) per wave pair, from candidates linkage did not take."""
    candidates = con.execute("""
        SELECT c.wave_id, c.response_id, c.person_id AS candidate_person, p.person_id AS response_person,
               c.earlier_wave_id, c.earlier_response_id, c.probability_any_person AS match_probability
        FROM linkage.candidate_pairs c
        JOIN linkage.response_persons p USING (wave_id, response_id)
        WHERE c.probability_any_person > 0 AND p.person_id <> c.person_id""").df()
    empty = pd.DataFrame(columns=["wave_from", "wave_to", "missed", "missed_variance"])
    if candidates.empty:
        return empty
    person_of = rows.set_index(["wave_id", "response_id"])["person_id"]
    ruled_out = set()
    for pair in labels[labels.decision == "non_match"].itertuples(index=False):
        ends = {person_of.get((pair.earlier_wave_id, pair.earlier_response_id)),
                person_of.get((pair.later_wave_id, pair.later_response_id))}
        ruled_out.add(frozenset(ends))
    candidates["persons"] = [frozenset((a, b)) for a, b in zip(candidates.response_person, candidates.candidate_person)]
    candidates = candidates[~candidates.persons.isin(ruled_out)]
    candidates["first"] = [min(p) for p in candidates.persons]
    candidates["second"] = [max(p) for p in candidates.persons]
    same = candidates.groupby(["first", "second"], as_index=False)["match_probability"].max()
    per_wave = rows.groupby(["person_id", "wave_id", "wave_number"]).size().rename("n").reset_index()
    con.register("same_person_chance", same)
    con.register("responses_per_wave", per_wave)
    missed = con.execute("""
        WITH ordered AS (
            SELECT first AS a, second AS b, match_probability AS p FROM same_person_chance
            UNION ALL SELECT second, first, match_probability FROM same_person_chance
        )
        SELECT x.wave_id AS wave_from, y.wave_id AS wave_to,
               x.n * y.n * o.p AS missed, x.n * y.n * x.n * y.n * o.p * (1 - o.p) AS missed_variance
        FROM ordered o
        JOIN responses_per_wave x ON x.person_id = o.a
        JOIN responses_per_wave y ON y.person_id = o.b AND x.wave_number < y.wave_number""").df()
    con.unregister("same_person_chance")
    con.unregister("responses_per_wave")
    if missed.empty:
        return empty
    return missed.groupby(["wave_from", "wave_to"], as_index=False)[["missed", "missed_variance"]].agg(exact_sum)


def exact_sum(values) -> float:
    """The correctly rounded sum (math.fsum): the same in every run whatever order rows arrive in, where a
    plain or parallel sum of floats can differ in the last digit between identical refreshes."""
    return math.fsum(values)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _clip(value):
    return None if value is None else min(1.0, max(0.0, value))


def _scores(predicted: int, false: float, false_var: float, all_tp: tuple, missed: tuple) -> dict:
    """Point estimates and 95 % intervals of precision, recall and F1 from expected counts; recall and
    F1 measure against all true pairs of the wave pair (all_tp + missed), as marts.linkage_quality does."""
    tp, tp_sd = predicted - false, math.sqrt(false_var)
    (all_true, all_sd), (miss, miss_sd) = all_tp, missed
    tp_low, tp_high = max(0.0, tp - Z_95 * tp_sd), min(predicted, tp + Z_95 * tp_sd)
    true_mid = all_true + miss
    true_low = max(0.0, all_true - Z_95 * all_sd) + max(0.0, miss - Z_95 * miss_sd)
    true_high = all_true + Z_95 * all_sd + miss + Z_95 * miss_sd
    return {
        "estimated_precision": _ratio(tp, predicted),
        "estimated_precision_low": _clip(_ratio(tp_low, predicted)),
        "estimated_precision_high": _clip(_ratio(tp_high, predicted)),
        "estimated_recall": _clip(_ratio(tp, true_mid)),
        "estimated_recall_low": _clip(_ratio(tp_low, max(true_high, tp_low))),
        "estimated_recall_high": _clip(_ratio(tp_high, max(true_low, tp_high))),
        "estimated_f1": _ratio(2 * tp, predicted + true_mid),
        "estimated_f1_low": _clip(_ratio(2 * tp_low, predicted + true_high)),
        "estimated_f1_high": _clip(_ratio(2 * tp_high, predicted + max(true_low, tp_high))),
    }


def estimate_quality(con: duckdb.DuckDBPyConnection, run_id: str, current_counts: dict) -> tuple[pd.DataFrame, dict]:
    """Estimated quality per wave pair and method (QUALITY_ESTIMATES_COLUMNS) and the exact-link model;
    `current_counts` are this run's counts per wave (not yet in linkage.runs)."""
    error = exact_link_error(con, current_counts)
    labels = _labels(con, run_id)
    rows = _response_probabilities(con, error, labels)
    pairs = _predicted_pairs(rows)
    missed = _missed_pairs(con, rows, labels).set_index(["wave_from", "wave_to"])
    wave_pairs = sorted(set(zip(pairs.wave_from, pairs.wave_to)) | set(missed.index))
    out = []
    for wave_from, wave_to in wave_pairs:
        in_pair = pairs[(pairs.wave_from == wave_from) & (pairs.wave_to == wave_to)]
        all_tp = (exact_sum(in_pair.p_labelled), math.sqrt(exact_sum(in_pair.p_labelled * (1 - in_pair.p_labelled))))
        miss = missed.loc[(wave_from, wave_to)] if (wave_from, wave_to) in missed.index else None
        missed_counts = (float(miss.missed), math.sqrt(miss.missed_variance)) if miss is not None else (0.0, 0.0)
        for method in METHODS:
            chosen = in_pair if method == "all" else in_pair[in_pair.method == method]
            predicted = len(chosen)
            false = exact_sum(1 - chosen.p_labelled)
            false_model = exact_sum(1 - chosen.p_model)
            variance = exact_sum(chosen.p_labelled * (1 - chosen.p_labelled))
            out.append({
                "wave_from": wave_from, "wave_to": wave_to, "method": method, "predicted_pairs": predicted,
                "reviewed_pairs": int(chosen.reviewed.sum()), "expected_false_pairs": false,
                "expected_false_pairs_model_only": false_model,
                "expected_missed_pairs": missed_counts[0],
                **_scores(predicted, false, variance, all_tp, missed_counts),
                "estimated_precision_model_only": _ratio(predicted - false_model, predicted),
                "linkage_run_id": run_id,
            })
    return pd.DataFrame(out), error


def write_estimates(con: duckdb.DuckDBPyConnection, run_id: str, current_counts: dict) -> dict:
    """Replace linkage.quality_estimates with this run's estimates; returns the exact-link error model."""
    frame, error = estimate_quality(con, run_id, current_counts)
    con.execute("DELETE FROM linkage.quality_estimates")
    if not frame.empty:
        con.register("estimates_frame", frame.astype(object).where(frame.notna(), None))
        con.execute("INSERT INTO linkage.quality_estimates BY NAME SELECT * FROM estimates_frame")
        con.unregister("estimates_frame")
    return error


def overall_estimate(con: duckdb.DuckDBPyConnection) -> dict:
    """Estimated precision and recall over every wave pair (method `all`) of linkage.quality_estimates."""
    predicted, false, false_model, missed = con.execute("""
        SELECT sum(predicted_pairs), sum(expected_false_pairs), sum(expected_false_pairs_model_only),
               sum(expected_missed_pairs) FROM linkage.quality_estimates WHERE method = 'all'""").fetchone()
    if not predicted:
        return {"predicted_pairs": 0}
    positives = predicted - false
    return {"predicted_pairs": int(predicted), "expected_false_pairs": false, "expected_missed_pairs": missed,
            "estimated_precision": positives / predicted,
            "estimated_precision_without_review": (predicted - false_model) / predicted,
            "estimated_recall": positives / (positives + missed) if positives + missed else None}
