"""The estimate of linkage quality without truth on a hand-made panel whose expected counts are known."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from linkage.estimate import estimate_quality, exact_link_error
from linkage.schema import ensure_linkage_tables
from linkage.synthetic import write_staging

# PA answered w1 (r1) and was linked in w2 (r2) at p = 0.9; PB answered w1 (r3); r4 in w2 became a
# person of its own although the model gave it p = 0.3 of being PB.
ASSIGNMENTS = [
    ("w1_2022", 1, "r1", "PA", True, None, "single", None, None),
    ("w2_2023", 2, "r2", "PA", True, None, "probabilistic", "r1", 0.9),
    ("w1_2022", 1, "r3", "PB", True, None, "single", None, None),
    ("w2_2023", 2, "r4", "PC", True, None, "single", None, None),
]


def panel(decisions: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    responses = pd.DataFrame([{"wave_id": w, "wave_number": n, "response_id": r, "gender": "female",
                               "birth_year": 1980 + i * 10} for i, (w, n, r, *_) in enumerate(ASSIGNMENTS)])
    write_staging(con, responses, None)
    ensure_linkage_tables(con)
    con.executemany("INSERT INTO linkage.response_persons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'run')", ASSIGNMENTS)
    con.execute("""INSERT INTO linkage.candidate_pairs (wave_id, response_id, person_id, earlier_wave_id,
                   earlier_response_id, log2_bayes_factor, match_probability, probability_any_person, is_linked,
                   linkage_run_id)
                   VALUES ('w2_2023', 'r2', 'PA', 'w1_2022', 'r1', 20, 0.9, 0.9, true, 'run'),
                          ('w2_2023', 'r4', 'PB', 'w1_2022', 'r3', 12, 0.3, 0.3, false, 'run')""")
    for pair, decision in decisions:
        con.execute("INSERT INTO linkage.decisions_applied VALUES ('run', 1, ?, ?, ?, ?, ?, 'ann', DATE '2026-11-28', "
                    "'already_in_effect', 'test', NULL)", [*pair, decision])
    return con


def estimate_for_all(con) -> dict:
    frame, _ = estimate_quality(con, "run", {})
    return frame[frame.method == "all"].iloc[0].to_dict()


def test_expected_false_and_missed_pairs_follow_the_probabilities():
    row = estimate_for_all(panel())
    assert row["predicted_pairs"] == 1
    assert row["expected_false_pairs"] == pytest.approx(0.1)
    assert row["expected_missed_pairs"] == pytest.approx(0.3)
    assert row["estimated_precision"] == pytest.approx(0.9)
    assert row["estimated_recall"] == pytest.approx(0.9 / 1.2)
    assert row["estimated_f1"] == pytest.approx(2 * 0.9 / (1 + 1.2))
    assert row["estimated_precision_low"] <= 0.9 <= row["estimated_precision_high"]


def test_reviewed_pairs_are_labels():
    row = estimate_for_all(panel([(("w1_2022", "r1", "w2_2023", "r2"), "match"),
                                  (("w1_2022", "r3", "w2_2023", "r4"), "non_match")]))
    assert row["estimated_precision"] == pytest.approx(1.0)
    assert row["estimated_precision_model_only"] == pytest.approx(0.9)
    assert row["expected_missed_pairs"] == pytest.approx(0.0)
    assert row["reviewed_pairs"] == 1


def test_exact_link_error_scales_the_caught_family_uses_by_the_compatible_share():
    con = panel()
    con.execute("UPDATE linkage.response_persons SET link_method = 'token', match_probability = 1 WHERE response_id = 'r2'")
    con.execute("""INSERT INTO linkage.runs VALUES ('old', now()::TIMESTAMP, now()::TIMESTAMP, ['w2_2023'], '{}', ?)""",
                [json.dumps({"w2_2023": {"token_rejected_incompatible": 2}})])
    error = exact_link_error(con, {})
    # Persons PA (1980, first response), PB (2000) and PC (2010): no pair within a year, so c = 0.
    assert error["compatible_share_of_person_pairs"] == 0 and error["token"]["error_rate"] == 0
    con.execute("UPDATE staging.stg_survey__responses SET birth_year = 1980")
    error = exact_link_error(con, {})
    # Now all three persons look alike: c = 1, capped at 1/2, so q = 2 x 1 / 1 links, capped at 1.
    assert error["compatible_share_of_person_pairs"] == 0.5 and error["token"]["error_rate"] == 1.0
    error = exact_link_error(con, {"w2_2023": {"token_rejected_incompatible": 0}})  # this run's counts win
    assert error["token"]["error_rate"] == 0


def test_expected_counts_are_the_same_whatever_order_the_rows_arrive_in():
    """Identical refreshes must publish identical marts; a float sum that depends on row order (DuckDB sums in
    parallel) once differed in the 16th digit of `estimated_missed_pairs` between two refreshes."""
    import pandas as pd

    from linkage.estimate import exact_sum

    one_order, other_order = pd.Series([1e16, -1e16, 1.0, 0.1, 0.2]), pd.Series([1.0, 1e16, 0.2, -1e16, 0.1])
    assert sum(one_order) != sum(other_order)  # what a plain sum does
    assert exact_sum(one_order) == exact_sum(other_order) == 1.3
