"""Hand-made cases, one per kind of linkage mess, run through `linkage.run.link_waves`."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd
import pytest

from panel_ingest.pseudonymise import email_bloom, email_hash
from linkage.run import link_waves
from linkage.synthetic import write_staging

KEY = b"test-key"
WAVE_NUMBER = {"w1_2022": 1, "w2_2023": 2, "w3_2024": 3}
# Background panel members, so every case is linked among several plausible candidates.
BACKGROUND = [
    dict(gender="female", birth_year=1975 + i, oblast_iso=o, arrival_month=date(2022, 3 + i % 9, 1),
         kommune_code_2024=k, children_in_norway=i % 3)
    for i, (o, k) in enumerate([("UA-63", "0301"), ("UA-12", "4601"), ("UA-32", "5001"), ("UA-46", "1103"),
                                ("UA-48", "3201"), ("UA-51", "1108")])
]
OLENA = dict(gender="female", birth_year=1984, oblast_iso="UA-14", arrival_month=date(2022, 4, 1),
             kommune_code_2024="3205", children_in_norway=2)
TARAS = dict(gender="male", birth_year=1981, oblast_iso="UA-14", arrival_month=date(2022, 4, 1),
             kommune_code_2024="3205", children_in_norway=2)


def response(wave_id, response_id, person, *, email=None, token=None, submitted="2022-06-10 10:00",
             complete=True):
    day = {"w1_2022": "2022", "w2_2023": "2023", "w3_2024": "2024"}[wave_id]
    return {"wave_id": wave_id, "wave_number": WAVE_NUMBER[wave_id], "response_id": response_id,
            "submitted_at": datetime.fromisoformat(day + submitted[4:]), "is_complete": complete,
            "token": token, "email_hash": email_hash(email, KEY), "email_bloom": email_bloom(email, KEY),
            **person}


def invitation(wave_id, token, email, source_wave="w1_2022"):
    return {"wave_id": wave_id, "token": token, "email_hash": email_hash(email, KEY),
            "email_bloom": email_bloom(email, KEY), "invited_at": datetime(2023, 5, 2), "source_wave": source_wave}


def background_w1():
    return [response("w1_2022", str(900 + i), p, email=f"bg{i}.person@ukr.net") for i, p in enumerate(BACKGROUND)]


def link(responses, invitations=()):
    con = duckdb.connect()
    write_staging(con, pd.DataFrame(responses), pd.DataFrame(list(invitations)))
    metadata = link_waves(con)
    rows = con.execute("SELECT * FROM linkage.response_persons").df().set_index("response_id")
    con.close()
    return rows, metadata


def same_person(rows, a, b):
    return rows.loc[a, "person_id"] == rows.loc[b, "person_id"]


def test_token_links_later_response_to_the_response_that_gave_the_address():
    rows, _ = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
                                      response("w2_2023", "R_a", OLENA, token="TOK1")],
                   [invitation("w2_2023", "TOK1", "Olena.K@gmail.com ")])
    assert same_person(rows, "1", "R_a")
    assert rows.loc["R_a", "link_method"] == "token"
    assert rows.loc["R_a", "linked_to_response_id"] == "1"


def test_token_ignored_open_link_with_same_address_links_exactly():
    rows, _ = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
                                      response("w2_2023", "R_a", OLENA, email="OLENA.K@gmail.com.")],
                   [invitation("w2_2023", "TOK1", "olena.k@gmail.com")])
    assert same_person(rows, "1", "R_a")
    assert rows.loc["R_a", "link_method"] == "email_exact"


def test_typo_in_address_links_probabilistically():
    rows, _ = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.kovalenko@gmail.com"),
                                      response("w2_2023", "R_a", OLENA, email="olena.kovalenko@gmial.com")])
    assert same_person(rows, "1", "R_a")
    assert rows.loc["R_a", "link_method"] == "probabilistic"
    assert rows.loc["R_a", "match_probability"] >= 0.7


def test_changed_address_links_on_stable_attributes():
    rows, _ = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
                                      response("w2_2023", "R_a", OLENA, email="kovalenko84@ukr.net")])
    assert same_person(rows, "1", "R_a")
    assert rows.loc["R_a", "link_method"] == "probabilistic"


def test_changed_address_of_a_different_person_is_not_linked():
    stranger = dict(OLENA, birth_year=1961, oblast_iso="UA-46", arrival_month=date(2022, 11, 1),
                    kommune_code_2024="1506", children_in_norway=0)
    rows, _ = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
                                      response("w2_2023", "R_a", stranger, email="someone.else@ukr.net")])
    assert not same_person(rows, "1", "R_a")
    assert rows.loc["R_a", "link_method"] == "single"


def test_shared_family_address_keeps_two_people_apart_and_resolves_tokens_by_attributes():
    family = "kovalenko.family@ukr.net"
    rows, metadata = link(
        background_w1() + [response("w1_2022", "1", OLENA, email=family),
                           response("w1_2022", "2", TARAS, email=family, submitted="2022-06-10 10:05"),
                           response("w2_2023", "R_taras", TARAS, token="TOK1"),
                           response("w2_2023", "R_olena", OLENA, email=family)],
        [invitation("w2_2023", "TOK1", family)])
    assert not same_person(rows, "1", "2")
    assert rows.loc[["1", "2"], "is_response_of_record"].all()
    assert same_person(rows, "2", "R_taras") and rows.loc["R_taras", "link_method"] == "token"
    assert same_person(rows, "1", "R_olena") and rows.loc["R_olena", "link_method"] == "email_exact"
    assert metadata["counts_by_wave"]["w2_2023"]["token_rejected_incompatible"] == 1


def test_family_member_using_the_others_token_becomes_a_new_person():
    rows, _ = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
                                      response("w2_2023", "R_taras", TARAS, token="TOK1")],
                   [invitation("w2_2023", "TOK1", "olena.k@gmail.com")])
    assert not same_person(rows, "1", "R_taras")
    assert rows.loc["R_taras", "link_method"] == "single"


def test_duplicate_submission_becomes_one_response_of_record_with_the_other_marked():
    rows, metadata = link(background_w1() + [
        response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
        response("w2_2023", "R_late_partial", OLENA, token="TOK1", submitted="2023-05-09 12:00", complete=False),
        response("w2_2023", "R_complete", OLENA, token="TOK1", submitted="2023-05-08 12:00"),
        response("w2_2023", "R_early_partial", OLENA, token="TOK1", submitted="2023-05-07 12:00", complete=False)],
        [invitation("w2_2023", "TOK1", "olena.k@gmail.com")])
    wave2 = rows.loc[["R_late_partial", "R_complete", "R_early_partial"]]
    assert wave2["person_id"].nunique() == 1 and same_person(rows, "1", "R_complete")
    # Response of record = latest complete submission, even when a partial one came later.
    assert wave2.loc["R_complete", "is_response_of_record"]
    assert not wave2.loc[["R_late_partial", "R_early_partial"], "is_response_of_record"].any()
    assert set(wave2.loc[["R_late_partial", "R_early_partial"], "duplicate_of_response_id"]) == {"R_complete"}
    assert metadata["duplicates"] == 2


def test_duplicate_without_complete_submission_keeps_the_latest():
    rows, _ = link(background_w1() + [
        response("w1_2022", "1", OLENA, email="olena.k@gmail.com", complete=False, submitted="2022-06-10 10:00"),
        response("w1_2022", "2", OLENA, email="olena.k@gmail.com", complete=False, submitted="2022-06-11 10:00")])
    assert same_person(rows, "1", "2")
    assert rows.loc["2", "is_response_of_record"] and rows.loc["1", "duplicate_of_response_id"] == "2"


def test_person_who_skips_w2_returns_in_w3_through_token_and_open_link():
    rows, _ = link(background_w1() + [
        response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
        response("w1_2022", "2", TARAS, email="taras.k@ukr.net"),
        response("w3_2024", "301", OLENA, token="TOK3"),
        response("w3_2024", "302", TARAS, email="taras.kovalenko@ukr.net")],
        [invitation("w3_2024", "TOK3", "olena.k@gmail.com"), invitation("w3_2024", "TOK4", "taras.k@ukr.net")])
    assert same_person(rows, "1", "301") and rows.loc["301", "link_method"] == "token"
    assert same_person(rows, "2", "302") and rows.loc["302", "link_method"] == "probabilistic"


def test_token_matching_no_invitation_is_resolved_with_attributes():
    rows, metadata = link(background_w1() + [response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
                                             response("w2_2023", "R_a", OLENA, token="NO-SUCH-TOKEN")])
    assert same_person(rows, "1", "R_a") and rows.loc["R_a", "link_method"] == "probabilistic"
    assert metadata["counts_by_wave"]["w2_2023"]["tokens_without_invitation"] == 1


def test_a_person_gets_at_most_one_response_of_record_per_wave():
    twin = dict(OLENA, kommune_code_2024="0301")
    rows, _ = link(background_w1() + [
        response("w1_2022", "1", OLENA, email="olena.k@gmail.com"),
        response("w2_2023", "R_a", OLENA, email="olena.k@gmail.com"),
        response("w2_2023", "R_b", twin, email="olena.k@gmial.com")])
    records = rows[rows.is_response_of_record].groupby(["person_id", "wave_id"]).size()
    assert records.max() == 1
    assert same_person(rows, "1", "R_a")


def test_staging_with_a_response_id_twice_in_a_wave_is_refused():
    from linkage.run import LinkageInputError
    with pytest.raises(LinkageInputError, match="R_a.*w2_2023"):
        link([response("w2_2023", "R_a", OLENA), response("w2_2023", "R_a", TARAS)])


def test_missing_values_are_recognised_in_every_form_a_frame_gives_them():
    import numpy as np

    from linkage.rules import is_missing

    assert [is_missing(v) for v in (None, float("nan"), np.float64("nan"), pd.NaT, pd.NA, np.nan)] == [True] * 6
    assert [is_missing(v) for v in ("", "UA-14", 0, 1984, 1984.0, np.int64(3), False, date(2022, 4, 1))] == [False] * 8


def test_an_entity_s_record_and_attributes_follow_members_added_later():
    """Grouping asks an entity for its record and attributes tens of thousands of times, so they are kept
    between calls; a member added afterwards (a repeat folded in) must still count."""
    from linkage.assign import Entity

    unasked = {"language": "uk", "partner_location": None, "invitation_hash": None, "invitation_bloom": None}
    partial = {**response("w2_2023", "r1", {**OLENA, "kommune_code_2024": None}, complete=False), **unasked}
    entity = Entity(order=0, members=[partial])
    assert entity.record["response_id"] == "r1" and entity.attributes["kommune_code_2024"] is None
    entity.attributes["gender"] = "changed by a caller"  # a copy: the kept attributes are not touched
    assert entity.attributes["gender"] == "female"

    complete = {**response("w2_2023", "r2", OLENA, submitted="2022-06-10 09:00"), **unasked}
    entity.members.append(complete)
    assert entity.record["response_id"] == "r2"  # a complete answer is the better record
    assert entity.attributes["kommune_code_2024"] == "3205"
