"""The Splink model and the posterior that turns its Bayes factors into link probabilities."""
from __future__ import annotations

import duckdb
import pytest

from linkage.assign import MATCH_THRESHOLD, match_posteriors
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
