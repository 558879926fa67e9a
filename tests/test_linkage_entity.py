"""Entity.addresses and Entity.submitted: the shortcuts for one-member entities answer what the general
path answers, and stay current as members are added."""
from __future__ import annotations

import pandas as pd

from linkage.assign import Entity, record_of


def _member(response_id: str, submitted_at, email_hash=None, invitation_hash=None, is_complete=True) -> dict:
    return {"wave_id": "w1", "response_id": response_id, "submitted_at": submitted_at, "is_complete": is_complete,
            "gender": "female", "birth_year": 1980, "oblast_iso": "UA-14", "arrival_month": None,
            "kommune_code_2024": None, "children_in_norway": None, "language": "uk", "partner_location": None,
            "email_hash": email_hash, "invitation_hash": invitation_hash}


def test_one_member_gives_its_address_or_none():
    entity = Entity(order=0, members=[_member("r1", pd.Timestamp("2023-05-01 10:00"), email_hash="h1")])
    assert entity.addresses("email_hash") == ["h1"]
    assert entity.addresses("invitation_hash") == []
    assert Entity(order=1, members=[_member("r2", None, email_hash=float("nan"))]).addresses("email_hash") == []


def test_added_members_give_their_distinct_addresses_sorted():
    entity = Entity(order=0, members=[_member("r1", pd.Timestamp("2023-05-01 10:00"), email_hash="h2")])
    assert entity.addresses("email_hash") == ["h2"]
    entity.members += [_member("r2", pd.Timestamp("2023-05-01 11:00"), email_hash="h1"),
                       _member("r3", pd.Timestamp("2023-05-01 12:00"), email_hash="h2", invitation_hash="t")]
    assert entity.addresses("email_hash") == ["h1", "h2"]
    assert entity.addresses("invitation_hash") == ["t"]


def test_submitted_is_the_record_time_as_a_timestamp_whatever_it_was_given_as():
    entity = Entity(order=0, members=[_member("r1", "2023-05-01 10:00:00")])
    assert entity.submitted == pd.Timestamp("2023-05-01 10:00") and isinstance(entity.submitted, pd.Timestamp)
    given = pd.Timestamp("2023-05-02 09:30")
    later = Entity(order=1, members=[_member("r2", given)])
    assert later.submitted == given
    later.members.append(_member("r3", pd.Timestamp("2023-05-03 08:00"), is_complete=False))
    assert later.submitted == given  # the complete response stays the record
    assert Entity(order=2, members=[_member("r4", None)]).submitted is pd.NaT


def test_record_of_is_the_lone_member_or_the_best_by_record_sort_key():
    lone = _member("r1", None)
    assert record_of([lone]) is lone
    partial = _member("r2", pd.Timestamp("2023-05-02 10:00"), is_complete=False)
    complete = _member("r3", pd.Timestamp("2023-05-01 10:00"))
    later = _member("r4", pd.Timestamp("2023-05-01 11:00"))
    assert record_of([partial, complete]) is complete
    assert record_of([complete, later, partial]) is later
