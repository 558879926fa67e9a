"""candidate_rows: every scored pair carries its own entity's response and its own earlier record, also
when entities and earlier records recur across pairs (they are looked up once per distinct value)."""
from __future__ import annotations

import pandas as pd

from linkage.assign import STRONGEST_COLUMNS, Candidate, Entity, candidate_rows
from linkage.model import EVIDENCE_COLUMNS


def _entity(order: int, wave_id: str, response_id: str) -> Entity:
    return Entity(order=order, members=[{
        "wave_id": wave_id, "response_id": response_id, "submitted_at": pd.Timestamp("2023-05-01"),
        "is_complete": True, "gender": "female", "birth_year": 1980, "oblast_iso": "UA-14",
        "arrival_month": pd.Timestamp("2022-04-01"), "kommune_code_2024": "0301", "children_in_norway": 1,
        "language": "uk", "partner_location": None, "email_hash": None, "email_bloom": None}])


def test_each_pair_gets_its_entity_response_and_its_earlier_record():
    by_order = {0: _entity(0, "w2", "r-a"), 1: _entity(1, "w2", "r-b"), 2: _entity(2, "w2", "r-c")}
    pairs = [(2, "P1", "w1:x:1", 3.0), (0, "P1", "w1:x:1", 5.0), (0, "P2", "w0:y", 1.0),
             (1, "P2", "w0:y", 2.0), (2, "P3", "w1:z", -1.0)]
    strongest = pd.DataFrame([{"order": o, "person_id": p, "record_id": r, "log2_bayes_factor": f,
                               **{c: None for c in EVIDENCE_COLUMNS}} for o, p, r, f in pairs])[list(STRONGEST_COLUMNS)]
    keys = [(o, p) for o, p, _, _ in pairs]
    unconstrained = {key: i / 10 for i, key in enumerate(keys)}
    link_of = {0: Candidate(by_order[0], "P1", "probabilistic", "w1:x:1", 0.9)}
    rows = candidate_rows(by_order, strongest, {(0, "P1"): 0.9}, unconstrained, link_of)
    assert rows[["wave_id", "response_id", "person_id", "earlier_wave_id", "earlier_response_id"]].values.tolist() == [
        ["w2", "r-c", "P1", "w1", "x:1"], ["w2", "r-a", "P1", "w1", "x:1"], ["w2", "r-a", "P2", "w0", "y"],
        ["w2", "r-b", "P2", "w0", "y"], ["w2", "r-c", "P3", "w1", "z"]]
    assert rows["log2_bayes_factor"].tolist() == [3.0, 5.0, 1.0, 2.0, -1.0]
    assert rows["match_probability"].tolist() == [None, 0.9, None, None, None]
    assert rows["probability_any_person"].tolist() == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert rows["is_linked"].tolist() == [False, True, False, False, False]


def test_no_pairs_give_no_rows():
    strongest = pd.DataFrame({c: pd.Series(dtype=object) for c in STRONGEST_COLUMNS})
    rows = candidate_rows({0: _entity(0, "w1", "r")}, strongest, {}, {}, {})
    assert rows.empty and {"wave_id", "earlier_response_id", "is_linked"} <= set(rows.columns)
