"""Repeats without a shared address (assign._merge_repeats_without_shared_key) are looked for only among
the entities of their block still within the time gap; what that skips could never have matched."""
from __future__ import annotations

import pandas as pd

from linkage.assign import MAX_REPEAT_GAP, _may_be_within, group_submissions


def _response(response_id: str, submitted_at, is_complete: bool) -> dict:
    """A response without any address, in one block (gender, birth year, oblast, arrival month)."""
    return {"wave_id": "w2", "response_id": response_id, "submitted_at": submitted_at, "is_complete": is_complete,
            "gender": "female", "birth_year": 1980, "oblast_iso": "UA-14", "arrival_month": pd.Timestamp("2022-04-01"),
            "kommune_code_2024": "0301", "children_in_norway": 1, "language": "uk", "partner_location": "ukraine",
            "email_hash": None, "invitation_hash": None, "email_bloom": None, "invitation_bloom": None}


def _groups(responses: list[dict]) -> list[list[str]]:
    return sorted(sorted(m["response_id"] for m in e.members) for e in group_submissions(responses))


def test_partials_days_apart_in_one_block_stay_apart_and_close_ones_merge():
    day = pd.Timestamp("2023-05-01 10:00")
    responses = [_response("a", day, False), _response("b", day + pd.Timedelta(hours=2), True),
                 _response("c", day + MAX_REPEAT_GAP + pd.Timedelta(days=5), False)]
    assert _groups(responses) == [["a", "b"], ["c"]]


def test_an_entity_whose_record_moved_later_is_in_reach_of_what_follows_its_new_time():
    """a (partial) takes in b (complete, 2 days later), whose time becomes the entity's: c, 2.5 days after
    b and 4.5 after a, is within the gap of the entity's time and joins it."""
    day = pd.Timestamp("2023-05-01 10:00")
    responses = [_response("a", day, False), _response("b", day + pd.Timedelta(days=2), True),
                 _response("c", day + pd.Timedelta(days=4, hours=12), False)]
    assert _groups(responses) == [["a", "b", "c"]]


def test_a_response_without_a_submission_time_is_never_a_repeat_and_linking_goes_on():
    """Staging requires the time, so this cannot arrive today; if it did, one missing cell must not stop the
    wave's linkage (it raised TypeError on abs(NaT)): without a time nobody can tell it is days apart."""
    day = pd.Timestamp("2023-05-01 10:00")
    responses = [_response("a", day, True), _response("b", day + pd.Timedelta(days=20), True),
                 _response("x", pd.NaT, False), _response("y", day + pd.Timedelta(hours=3), False)]
    assert _groups(responses) == [["a", "y"], ["b"], ["x"]]


def test_the_time_rule_of_a_repeat_wants_two_known_times_within_the_gap():
    """One rule for both the repeat test and the search that skips what is out of reach."""
    gap = MAX_REPEAT_GAP.value
    assert _may_be_within(0, gap, gap) and _may_be_within(gap, 0, gap)
    assert not _may_be_within(0, gap + 1, gap)
    assert not _may_be_within(None, 0, gap) and not _may_be_within(0, None, gap) and not _may_be_within(None, None, gap)
