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
from itertools import chain, repeat

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


def _reviewed_person_pairs(con, run_id: str) -> None:
    """Temporary table `reviewed_person_pairs`: each reviewer decision in effect for the run, with the persons
    its earlier and later responses now belong to."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE reviewed_person_pairs AS
        SELECT l.decision, earlier.person_id AS earlier_person, later.person_id AS later_person, l.later_wave_id
        FROM linkage.decisions_applied l
        JOIN linkage.response_persons earlier
          ON earlier.wave_id = l.earlier_wave_id AND earlier.response_id = l.earlier_response_id
        JOIN linkage.response_persons later
          ON later.wave_id = l.later_wave_id AND later.response_id = l.later_response_id
        WHERE l.linkage_run_id = $run AND l.status IN ('honoured', 'already_in_effect')""", {"run": run_id})


def _response_probabilities(con, error: dict) -> None:
    """Temporary table `response_probability`: every response with p_model and p_labelled, the
    probability it belongs to its person (p_labelled is 1 for every response of a person's wave whose
    pair with an earlier response of that person a reviewer matched). Built in DuckDB: at scale 100 the
    responses and their pairs took gigabytes in pandas."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE response_probability AS
        WITH rows AS (
            SELECT wave_id, wave_number, response_id, person_id, link_method,
                   CASE link_method WHEN 'token' THEN $token WHEN 'email_exact' THEN $email
                        WHEN 'probabilistic' THEN coalesce(match_probability, 0.0) ELSE 1.0 END::DOUBLE AS p_model
            FROM linkage.response_persons
        ), confirmed AS (
            SELECT DISTINCT later_wave_id AS wave_id, later_person AS person_id FROM reviewed_person_pairs
            WHERE decision = 'match' AND earlier_person = later_person
        )
        SELECT r.*, CASE WHEN c.person_id IS NULL THEN r.p_model ELSE 1.0 END::DOUBLE AS p_labelled
        FROM rows r LEFT JOIN confirmed c USING (wave_id, person_id)""",
                {"token": 1.0 - error["token"]["error_rate"], "email": 1.0 - error["email_exact"]["error_rate"]})


def _predicted_pair_values(con) -> pd.DataFrame:
    """Cross-wave pairs of responses in one person (P = p_earlier * p_later), counted per wave pair,
    method (of the later response) and distinct (p_model, p_labelled, reviewed): only the distinct values
    reach pandas, and `_counted_sum` still sums them exactly as if there were a row per pair."""
    return con.execute("""
        SELECT a.wave_id AS wave_from, b.wave_id AS wave_to, b.link_method AS method,
               a.p_model * b.p_model AS p_model, a.p_labelled * b.p_labelled AS p_labelled,
               b.p_labelled <> b.p_model AS reviewed, count(*) AS pairs
        FROM response_probability a
        JOIN response_probability b ON a.person_id = b.person_id AND a.wave_number < b.wave_number
        GROUP BY ALL""").df()


def _missed_pairs(con) -> pd.DataFrame:
    """Expected missed pairs (and their variance) per wave pair, from candidates linkage did not take:
    two persons are one with the largest posterior of a candidate pair between them, unless a reviewer
    said `non_match` for a pair of their responses."""
    missed = con.execute("""
        WITH candidates AS (
            SELECT least(c.person_id, p.person_id) AS first, greatest(c.person_id, p.person_id) AS second,
                   c.probability_any_person AS p
            FROM linkage.candidate_pairs c
            JOIN linkage.response_persons p USING (wave_id, response_id)
            WHERE c.probability_any_person > 0 AND p.person_id <> c.person_id
        ), ruled_out AS (
            SELECT DISTINCT least(earlier_person, later_person) AS first, greatest(earlier_person, later_person) AS second
            FROM reviewed_person_pairs WHERE decision = 'non_match'
        ), same_person_chance AS (
            SELECT first, second, max(p) AS p FROM candidates ANTI JOIN ruled_out USING (first, second)
            GROUP BY first, second
        ), ordered AS (
            SELECT first AS a, second AS b, p FROM same_person_chance
            UNION ALL SELECT second, first, p FROM same_person_chance
        ), responses_per_wave AS (
            SELECT person_id, wave_id, wave_number, count(*) AS n FROM response_probability GROUP BY ALL
        )
        SELECT x.wave_id AS wave_from, y.wave_id AS wave_to,
               x.n * y.n * o.p AS missed, x.n * y.n * x.n * y.n * o.p * (1 - o.p) AS missed_variance
        FROM ordered o
        JOIN responses_per_wave x ON x.person_id = o.a
        JOIN responses_per_wave y ON y.person_id = o.b AND x.wave_number < y.wave_number""").df()
    if missed.empty:
        return pd.DataFrame(columns=["wave_from", "wave_to", "missed", "missed_variance"])
    return missed.groupby(["wave_from", "wave_to"], as_index=False)[["missed", "missed_variance"]].agg(exact_sum)


def _counted_sum(values, counts) -> float:
    """exact_sum of every value repeated its count times (fsum is exact, so the order does not matter)."""
    return exact_sum(chain.from_iterable(repeat(v, n) for v, n in zip(values, counts)))


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
    _reviewed_person_pairs(con, run_id)
    _response_probabilities(con, error)
    pairs = _predicted_pair_values(con)
    missed = _missed_pairs(con).set_index(["wave_from", "wave_to"])
    con.execute("DROP TABLE response_probability")
    pairs["p_model"], pairs["p_labelled"] = pairs.p_model.astype(float), pairs.p_labelled.astype(float)
    pairs["pairs"] = pairs.pairs.astype(int)
    wave_pairs = sorted(set(zip(pairs.wave_from, pairs.wave_to)) | set(missed.index))
    out = []
    for wave_from, wave_to in wave_pairs:
        in_pair = pairs[(pairs.wave_from == wave_from) & (pairs.wave_to == wave_to)]
        all_tp = (_counted_sum(in_pair.p_labelled, in_pair.pairs),
                  math.sqrt(_counted_sum(in_pair.p_labelled * (1 - in_pair.p_labelled), in_pair.pairs)))
        miss = missed.loc[(wave_from, wave_to)] if (wave_from, wave_to) in missed.index else None
        missed_counts = (float(miss.missed), math.sqrt(miss.missed_variance)) if miss is not None else (0.0, 0.0)
        for method in METHODS:
            chosen = in_pair if method == "all" else in_pair[in_pair.method == method]
            predicted = int(chosen.pairs.sum())
            false = _counted_sum(1 - chosen.p_labelled, chosen.pairs)
            false_model = _counted_sum(1 - chosen.p_model, chosen.pairs)
            variance = _counted_sum(chosen.p_labelled * (1 - chosen.p_labelled), chosen.pairs)
            out.append({
                "wave_from": wave_from, "wave_to": wave_to, "method": method, "predicted_pairs": predicted,
                "reviewed_pairs": int(chosen.pairs[chosen.reviewed.astype(bool)].sum()),
                "expected_false_pairs": false,
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
