"""strongest_per_person: each (entity, person) keeps its best-scoring record, the lowest record id among
equal scores, ordered by entity order (a number, not text) and person id."""
from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.assign import STRONGEST_COLUMNS, strongest_per_person
from linkage.model import EVIDENCE_COLUMNS


def _pairs(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["entity_id", "record_id", "log2_bayes_factor", "person_id"])
    return frame.assign(**{c: [f"{c}-{i}" for i in range(len(frame))] for c in EVIDENCE_COLUMNS})


def _by_sorting_text(pairs: pd.DataFrame) -> pd.DataFrame:
    """What _bayes_factors did before: sort by score and record id, keep the first per pair, re-sort."""
    ranked = pairs.sort_values(["log2_bayes_factor", "record_id"], ascending=[False, True])
    kept = ranked.drop_duplicates(["entity_id", "person_id"], keep="first")
    kept = kept.assign(order=kept["entity_id"].astype(int)).sort_values(["order", "person_id"])
    return kept[list(STRONGEST_COLUMNS)].reset_index(drop=True)


def test_best_record_per_person_lowest_record_id_on_ties_numeric_entity_order():
    pairs = _pairs([
        ("10", "w1:b", 2.0, "P1"), ("10", "w1:a", 2.0, "P1"),  # tie: the lower record id wins
        ("2", "w1:c", 1.0, "P2"), ("2", "w0:d", 4.0, "P2"), ("2", "w1:a", 0.5, "P1"),
        ("10", "w0:e", -3.0, "P3")])
    strongest = strongest_per_person(pairs)
    assert strongest[["order", "person_id", "record_id", "log2_bayes_factor"]].values.tolist() == [
        [2, "P1", "w1:a", 0.5], [2, "P2", "w0:d", 4.0], [10, "P1", "w1:a", 2.0], [10, "P3", "w0:e", -3.0]]
    assert strongest["email_dice"].tolist() == ["email_dice-4", "email_dice-3", "email_dice-1", "email_dice-5"]
    pd.testing.assert_frame_equal(strongest, _by_sorting_text(pairs))


def test_same_as_sorting_by_text_on_random_pairs_with_many_ties():
    rng = np.random.default_rng(7)
    n = 2000
    pairs = _pairs(zip([str(i) for i in rng.integers(0, 60, n)], [f"w{i % 3}:{i}" for i in rng.integers(0, 300, n)],
                       rng.integers(-4, 4, n).astype(float), [f"P{i}" for i in rng.integers(0, 40, n)]))
    pd.testing.assert_frame_equal(strongest_per_person(pairs), _by_sorting_text(pairs))


def test_no_pairs_give_an_empty_frame_with_the_columns():
    strongest = strongest_per_person(_pairs([]))
    assert strongest.empty and list(strongest.columns) == list(STRONGEST_COLUMNS)


def test_ranks_given_with_the_pairs_over_more_ids_give_the_same_as_the_text_ids():
    """_bayes_factors ranks every earlier record's ids once per wave; only some of them are in pairs."""
    rng = np.random.default_rng(11)
    n = 2000
    pairs = _pairs(zip([str(i) for i in rng.integers(0, 60, n)], [f"w{i % 3}:{i}" for i in rng.integers(0, 300, n)],
                       rng.integers(-4, 4, n).astype(float), [f"P{i}" for i in rng.integers(0, 40, n)]))
    every_record = sorted({f"w{i % 3}:{i}" for i in range(400)})
    every_person = sorted(f"P{i}" for i in range(55))
    ranked = pairs.assign(record_rank=pairs["record_id"].map({r: k for k, r in enumerate(every_record)}),
                          person_rank=pairs["person_id"].map({p: k for k, p in enumerate(every_person)}))
    pd.testing.assert_frame_equal(strongest_per_person(ranked), _by_sorting_text(pairs))
    # the ranks are what is sorted by: reversed ranks reverse the persons' order within an entity
    reversed_persons = strongest_per_person(ranked.assign(person_rank=-ranked["person_rank"]))
    first_entity = reversed_persons[reversed_persons["order"] == reversed_persons["order"].min()]
    assert first_entity["person_id"].tolist() == sorted(first_entity["person_id"], reverse=True)
