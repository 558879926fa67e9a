"""The Splink model and the posterior that turns its Bayes factors into link probabilities."""
from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from linkage.assign import MATCH_THRESHOLD, SHARE_PRIOR, match_posteriors
from linkage.model import ScoredPairs, email_m_by_em, with_email_m
from linkage.run import link_waves
from linkage.synthetic import build_population, write_staging


def test_one_clear_candidate_wins_and_two_look_alikes_share_the_probability():
    factors = {(0, "PA"): (24.0, "w1:1"),
               (1, "PB"): (18.0, "w1:2"), (1, "PC"): (18.0, "w1:3"),
               (2, "PD"): (1.0, "w1:4")}
    posteriors, share = match_posteriors(factors, [0, 1, 2, 3, 4, 5], n_persons=500)
    assert posteriors[(0, "PA")] >= MATCH_THRESHOLD
    assert posteriors[(1, "PB")] == pytest.approx(posteriors[(1, "PC")])
    assert posteriors[(1, "PB")] + posteriors[(1, "PC")] <= 1.0 and posteriors[(1, "PB")] < 0.5
    assert posteriors[(2, "PD")] < 0.01
    assert 0 < share < 1


def test_few_unresolved_responses_cannot_make_weak_evidence_a_link():
    # With one unresolved response the returning share is held near its prior, not pushed to 1.
    posteriors, share = match_posteriors({(0, "PA"): (3.0, "w1:1")}, [0], n_persons=7)
    assert share < 0.1 and posteriors[(0, "PA")] < 0.5


def test_m_probabilities_are_trained_on_token_links_and_stored_with_the_run():
    population = build_population(500, seed=13)
    con = duckdb.connect()
    write_staging(con, population.responses, population.invitations)
    metadata = link_waves(con)
    w2 = metadata["parameters"]["models_by_wave"]["w2_2023"]
    assert w2["trained"]["m"] and w2["trained"]["u"] and w2["trained"]["labels"] >= 30
    assert 0 < w2["returning_share_of_unresolved"] < 1
    levels = {(c["output_column_name"], level["label_for_charts"]): level
              for c in w2["splink_model"]["comparisons"] for level in c["comparison_levels"]}
    # Known matches agree on birth year far more often than random pairs do.
    exact_year = levels[("birth_year", "exact")]
    assert exact_year["m_probability"] > 0.8 and exact_year["u_probability"] < 0.1
    stored = con.execute("SELECT parameters->'$.models_by_wave.w2_2023.trained.m' FROM linkage.runs").fetchone()[0]
    assert stored == "true"


def _email_pairs(n_same: int, n_different_returning: int, n_new: int) -> pd.DataFrame:
    """Scored pairs as with_email_m sees them, under the prior e-mail m of linkage.model.comparisons():
    returning entities that retyped their address, returning entities with another address and every
    other answer equal, and new entities whose only candidate is a look-alike with another address."""
    rows = []
    for i in range(n_same):
        rows.append((f"s{i}", f"P{i}", 30.0, "same keyed hash"))
    for i in range(n_different_returning):
        rows.append((f"d{i}", f"Q{i}", 22.0, "different"))
    for i in range(n_new):  # weaker than a returning person's pair: some answers differ
        rows.append((f"n{i}", f"R{i}", 6.0, "different"))
    return pd.DataFrame(rows, columns=["entity_id", "person_id", "log2_bayes_factor", "email_agreement"])


EMAIL_PRIOR = {"same keyed hash": 0.6, "dice >= 0.8 (typo)": 0.12, "different": 0.28}


def test_email_m_is_estimated_from_the_pairs_that_look_like_matches():
    pairs = _email_pairs(n_same=180, n_different_returning=12, n_new=400)
    m = email_m_by_em(pairs, EMAIL_PRIOR, n_persons=5000, n_entities=800, share_prior=SHARE_PRIOR)
    assert m is not None and sum(m.values()) == pytest.approx(1.0)
    # about 12 of 192 matching pairs have another address: far below the prior's 0.28
    assert 0.03 < m["different"] < 0.12
    assert m["same keyed hash"] > 0.8
    # a look-alike of a new entity must not count as a match with another address
    assert m["different"] < (12 + 50) / 192


def test_email_m_keeps_the_prior_with_too_few_matching_pairs():
    pairs = _email_pairs(n_same=5, n_different_returning=1, n_new=20)
    assert email_m_by_em(pairs, EMAIL_PRIOR, n_persons=5000, n_entities=60, share_prior=SHARE_PRIOR) is None


def test_email_m_of_a_run_is_estimated_and_stored_with_the_model():
    population = build_population(2000, seed=13)  # enough retyped addresses to estimate from
    con = duckdb.connect()
    write_staging(con, population.responses, population.invitations)
    metadata = link_waves(con)
    w2 = metadata["parameters"]["models_by_wave"]["w2_2023"]
    assert w2["email_m"]["estimated_by_em"]
    email = next(c for c in w2["splink_model"]["comparisons"] if c["output_column_name"] == "email")
    stored = {level["label_for_charts"]: level["m_probability"] for level in email["comparison_levels"]
              if not level.get("is_null_level")}
    assert stored == pytest.approx(w2["email_m"]["estimate"])
    # the synthetic panel changes an address between waves in about 5% of responses
    assert stored["different"] < 0.2 < w2["email_m"]["prior"]["different"]
    # every unresolved response of the wave has a returning share for its kind
    assert set(w2["returning_share_by_kind"]) == {"typed address", "no typed address"}
    assert all(0 < share < 1 for share in w2["returning_share_by_kind"].values())
    # persons without an address on record have no token, so those who answer again are all unresolved:
    # EM finds them several times likelier per person to be behind a response that typed one
    groups = w2["returning_share_by_kind_and_group"]["typed address"]
    n_without = w2["persons_available_without_address"]
    assert 0 < n_without < w2["persons_available"]
    per_person_without = groups["no address on record"] / n_without
    per_person_with = groups["address on record"] / (w2["persons_available"] - n_without)
    assert per_person_without > 5 * per_person_with
    assert sum(groups.values()) == pytest.approx(w2["returning_share_by_kind"]["typed address"])


def test_look_alike_factors_move_with_the_estimated_email_m():
    pairs = _email_pairs(n_same=180, n_different_returning=12, n_new=400).drop(columns="person_id")
    pairs = pairs.assign(record_id=lambda f: "w1:" + f.entity_id)
    persons = pd.Series(pairs["entity_id"].radd("P").to_numpy(), index=pairs["record_id"])
    model = {"comparisons": [{"output_column_name": "email", "comparison_levels": [
        {"label_for_charts": "null", "is_null_level": True},
        *({"label_for_charts": label, "m_probability": m, "u_probability": 0.1} for label, m in EMAIL_PRIOR.items())]}]}
    scored = with_email_m(ScoredPairs(pairs, {"splink_model": model}), persons, 5000,
                          pairs["entity_id"].tolist(), SHARE_PRIOR)
    estimate = scored.parameters["email_m"]["estimate"]
    shift = scored.pairs["log2_bayes_factor"] - pairs["log2_bayes_factor"]
    different = pairs["email_agreement"] == "different"
    assert shift[different].to_numpy() == pytest.approx(math.log2(estimate["different"] / 0.28))
    assert (shift[different] < 0).all() and (shift[~different] > 0).all()
