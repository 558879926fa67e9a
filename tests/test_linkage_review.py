"""Clerical review loop on a linked synthetic panel (no refresh): the review queue, the decisions file,
and how the next run honours decisions without changing anyone else's person id."""
from __future__ import annotations

import csv
import shutil

import duckdb
import pandas as pd
import pytest

from linkage.decisions import DECISION_COLUMNS, DecisionsFileError, read_decisions
from linkage.estimate import overall_estimate
from linkage.review import export_review_queue
from linkage.run import link_waves
from linkage.synthetic import build_population, write_staging

HEADER = ",".join(DECISION_COLUMNS)


@pytest.fixture(scope="module")
def linked_file(tmp_path_factory):
    """A warehouse file with a linked three-wave panel; tests work on copies."""
    path = tmp_path_factory.mktemp("review") / "warehouse.duckdb"
    population = build_population(500, seed=21, mess=2.0)
    con = duckdb.connect(str(path))
    write_staging(con, population.responses, population.invitations)
    link_waves(con)
    con.close()
    return path


@pytest.fixture
def con(linked_file, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(linked_file, copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def assignments(con) -> pd.DataFrame:
    return con.execute("SELECT wave_id, response_id, person_id FROM linkage.response_persons ORDER BY ALL").df()


def accepted_link(con) -> tuple:
    """(earlier wave, earlier response, later wave, later response) of an accepted probabilistic link."""
    return con.execute("""
        SELECT e.wave_id, e.response_id, l.wave_id, l.response_id
        FROM linkage.response_persons l
        JOIN linkage.response_persons e ON e.person_id = l.person_id AND e.response_id = l.linked_to_response_id
         AND e.wave_number < l.wave_number
        WHERE l.is_response_of_record AND l.link_method = 'probabilistic'
        ORDER BY l.match_probability, l.response_id LIMIT 1""").fetchone()


def rejected_pair(con) -> tuple:
    """The most probable scored pair that was not linked and could be: the earlier person has no
    response in the later wave."""
    return con.execute("""
        SELECT c.earlier_wave_id, c.earlier_response_id, c.wave_id, c.response_id
        FROM linkage.candidate_pairs c
        JOIN linkage.response_persons l ON l.wave_id = c.wave_id AND l.response_id = c.response_id
        WHERE NOT c.is_linked AND c.match_probability IS NOT NULL AND l.person_id <> c.person_id
          AND NOT EXISTS (SELECT 1 FROM linkage.response_persons x WHERE x.wave_id = c.wave_id AND x.person_id = c.person_id)
        ORDER BY c.match_probability DESC, c.response_id LIMIT 1""").fetchone()


def write_decisions(path, rows: list[tuple]) -> None:
    lines = [HEADER] + [",".join([*pair, decision, "reviewer-1", "2026-11-28"]) for *pair, decision in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def group_of(con, wave_id: str, response_id: str) -> set[tuple]:
    """Rows of the response's person in its wave (the response with its same-wave duplicates)."""
    return set(con.execute("""SELECT wave_id, response_id FROM linkage.response_persons
        WHERE wave_id = ? AND person_id = (SELECT person_id FROM linkage.response_persons
                                           WHERE wave_id = ? AND response_id = ?)""",
                           [wave_id, wave_id, response_id]).fetchall())


def test_a_split_and_a_join_are_honoured_and_change_nobody_else(con, tmp_path):
    split, join = accepted_link(con), rejected_pair(con)
    moved = group_of(con, *split[2:]) | group_of(con, *join[2:])
    before = assignments(con)
    decisions = tmp_path / "linkage_decisions.csv"
    write_decisions(decisions, [(*split, "non_match"), (*join, "match")])
    metadata = link_waves(con, decisions_csv=decisions)
    after = assignments(con)
    person = dict(zip(zip(after.wave_id, after.response_id), after.person_id))
    assert person[split[0], split[1]] != person[split[2], split[3]]
    assert person[join[0], join[1]] == person[join[2], join[3]]
    unchanged = before.merge(after, on=["wave_id", "response_id"], suffixes=("_before", "_after"))
    changed = unchanged[unchanged.person_id_before != unchanged.person_id_after]
    assert set(zip(changed.wave_id, changed.response_id)) <= moved and len(changed) >= 2
    recorded = con.execute("""SELECT decision, status, reviewer FROM linkage.decisions_applied
                              ORDER BY file_row""").fetchall()
    assert recorded == [("non_match", "honoured", "reviewer-1"), ("match", "honoured", "reviewer-1")]
    assert metadata["review_decisions"] == {"honoured": 2, "already_in_effect": 0, "unusable": 0}
    # The next run keeps both (the waves are kept) and records them again as in effect.
    link_waves(con, decisions_csv=decisions)
    pd.testing.assert_frame_equal(assignments(con), after)
    statuses = con.execute("""SELECT status FROM linkage.decisions_applied WHERE linkage_run_id =
        (SELECT max_by(linkage_run_id, started_at) FROM linkage.runs) ORDER BY file_row""").fetchall()
    assert statuses == [("already_in_effect",), ("already_in_effect",)]


def test_decisions_are_honoured_when_a_wave_is_linked_afresh(con, tmp_path):
    split = accepted_link(con)
    decisions = tmp_path / "linkage_decisions.csv"
    write_decisions(decisions, [(*split, "non_match")])
    con.execute("DELETE FROM linkage.response_persons WHERE wave_id = ?", [split[2]])  # forces a relink
    link_waves(con, decisions_csv=decisions)
    person = dict(con.execute("SELECT wave_id || ':' || response_id, person_id FROM linkage.response_persons").fetchall())
    assert person[f"{split[0]}:{split[1]}"] != person[f"{split[2]}:{split[3]}"]


def test_a_reviewed_match_raises_the_estimated_precision_above_the_model_only_one(con, tmp_path):
    accepted = accepted_link(con)
    decisions = tmp_path / "linkage_decisions.csv"
    write_decisions(decisions, [(*accepted, "match")])
    link_waves(con, decisions_csv=decisions)
    estimate = overall_estimate(con)
    assert estimate["estimated_precision"] > estimate["estimated_precision_without_review"]
    reviewed = con.execute("SELECT sum(reviewed_pairs) FROM linkage.quality_estimates WHERE method = 'all'").fetchone()[0]
    assert reviewed >= 1


def test_unusable_decisions_are_recorded_with_a_reason(con, tmp_path):
    wave_pair = con.execute("""SELECT min(response_id) FILTER (WHERE wave_id = 'w1_2022'),
                                      max(response_id) FILTER (WHERE wave_id = 'w1_2022')
                               FROM linkage.response_persons""").fetchone()
    decisions = tmp_path / "linkage_decisions.csv"
    write_decisions(decisions, [("w1_2022", "no-such-response", "w2_2023", "R_x", "match"),
                                ("w1_2022", wave_pair[0], "w1_2022", wave_pair[1], "non_match")])
    before = assignments(con)
    link_waves(con, decisions_csv=decisions)
    pd.testing.assert_frame_equal(assignments(con), before)
    reasons = con.execute("SELECT status, reason FROM linkage.decisions_applied ORDER BY file_row").fetchall()
    assert [s for s, _ in reasons] == ["unusable", "unusable"]
    assert "not among the loaded responses" in reasons[0][1] and "one wave" in reasons[1][1]


@pytest.mark.parametrize("content, message", [
    ("earlier_wave_id,earlier_response_id,later_wave_id,decision,reviewer,decided_on\n", "header: column later_response_id is missing"),
    (HEADER + "\nw1_2022,1,w2_2023,R_a,maybe-SECRET,ann,2026-11-28\n", "row 1: column decision must be"),
    (HEADER + "\nw1_2022,1,w2_2023,R_a,match,ann,2026-11-28\nw1_2022,1,w2_2023,R_a,match,ann,28.11.2026-SECRET\n",
     "row 2: column decided_on must be a date"),
    (HEADER + "\nw1_2022,1,w2_2023,R_a,match,,2026-11-28\n", "row 1: column reviewer is empty"),
])
def test_a_malformed_decisions_file_names_file_row_and_column_never_a_value(tmp_path, content, message):
    path = tmp_path / "linkage_decisions.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DecisionsFileError, match=message) as error:
        read_decisions(path)
    assert str(path) in str(error.value) and "SECRET" not in str(error.value)


def test_a_malformed_decisions_file_stops_the_run_before_anything_changes(con, tmp_path):
    path = tmp_path / "linkage_decisions.csv"
    path.write_text(HEADER + "\nw1_2022,1,w2_2023,R_a,yes,ann,2026-11-28\n", encoding="utf-8")
    runs = con.execute("SELECT count(*) FROM linkage.runs").fetchone()[0]
    with pytest.raises(DecisionsFileError):
        link_waves(con, decisions_csv=path)
    assert con.execute("SELECT count(*) FROM linkage.runs").fetchone()[0] == runs


def test_review_queue_holds_evidence_only_and_round_trips_as_decisions(con, linked_file, tmp_path):
    queue = con.execute("SELECT * FROM linkage.review_queue").df()
    assert set(queue.queue_reason) == {"near_threshold", "audit_sample"}
    assert not [c for c in queue.columns if "hash" in c or "bloom" in c or "token" in c or "address" in c]
    near = queue[queue.queue_reason == "near_threshold"]
    assert near.match_probability.notna().all() and near.gender_agreement.notna().all()
    target = tmp_path / "review" / "review_queue.csv"
    assert export_review_queue(linked_file, target) == len(queue)
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"decision", "reviewer", "decided_on", "email_dice"} <= set(rows[0])
    rows[0].update(decision="non_match", reviewer="ann", decided_on="2026-11-28")
    decided = tmp_path / "linkage_decisions.csv"
    with decided.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    decisions = read_decisions(decided)  # undecided rows are skipped, the evidence columns ignored
    assert len(decisions) == 1 and decisions[0].later_response_id == rows[0]["later_response_id"]
