"""Clerical decisions (`$PANEL_DATA_DIR/linkage_decisions.csv`) that every refresh honours.

A row names a pair of responses of two waves and says whether they are one person (`match`) or not
(`non_match`). The decision moves only the later response (with its same-wave duplicates, i.e. every
row of its person in its wave): a `non_match` gives it a person of its own, a `match` moves it to the
earlier response's person. Nobody else's `person_id` changes, and no id is renamed. Decisions are
applied after linking, on every run, in file order; each row's outcome is stored in
`linkage.decisions_applied` (`honoured`, `already_in_effect` or `unusable` with a reason).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from linkage.rules import person_id_for

DECISIONS_FILE_NAME = "linkage_decisions.csv"
PAIR_COLUMNS = ("earlier_wave_id", "earlier_response_id", "later_wave_id", "later_response_id")
DECISION_COLUMNS = (*PAIR_COLUMNS, "decision", "reviewer", "decided_on")
DECISIONS = ("match", "non_match")


class DecisionsFileError(ValueError):
    """linkage_decisions.csv cannot be read as decisions (names file, row and column, never a value)."""


@dataclass(frozen=True)
class Decision:
    file_row: int
    earlier_wave_id: str
    earlier_response_id: str
    later_wave_id: str
    later_response_id: str
    decision: str
    reviewer: str
    decided_on: date


def _decision_from_row(path: Path, number: int, values: dict[str, str]) -> Decision | None:
    """One decision; None when the row is not decided yet (empty `decision`, as exported for review)."""
    if not values["decision"]:
        return None
    for column in DECISION_COLUMNS:
        if not values[column]:
            raise DecisionsFileError(f"{path}: row {number}: column {column} is empty")
    if values["decision"] not in DECISIONS:
        raise DecisionsFileError(f"{path}: row {number}: column decision must be `match` or `non_match`")
    try:
        decided_on = date.fromisoformat(values["decided_on"])
    except ValueError:
        raise DecisionsFileError(
            f"{path}: row {number}: column decided_on must be a date written YYYY-MM-DD") from None
    return Decision(number, *(values[c] for c in PAIR_COLUMNS), values["decision"], values["reviewer"],
                    decided_on)


def read_decisions(path: str | Path | None) -> list[Decision]:
    """Decisions of the file (none when it is absent). Extra columns, such as the evidence of the
    exported review queue, are ignored; rows with an empty `decision` are not decided yet."""
    if path is None or not Path(path).exists():
        return []
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in DECISION_COLUMNS if c not in header]
        if missing:
            raise DecisionsFileError(f"{path}: header: column {missing[0]} is missing "
                                     f"(expected {','.join(DECISION_COLUMNS)})")
        decisions = []
        for number, row in enumerate(reader, start=1):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise DecisionsFileError(f"{path}: row {number}: {len(row)} cells, the header has {len(header)}")
            cells = [cell.strip() for cell in row] + [""] * (len(header) - len(row))
            values = {c: cells[header.index(c)] for c in DECISION_COLUMNS}
            decision = _decision_from_row(path, number, values)
            if decision is not None:
                decisions.append(decision)
    return decisions


def _person_rows(con, wave_id: str, response_id: str):
    """(person_id, wave_number, response of record of that person in the wave) of a loaded response."""
    return con.execute("""
        SELECT r.person_id, r.wave_number,
               (SELECT k.response_id FROM linkage.response_persons k WHERE k.wave_id = r.wave_id
                  AND k.person_id = r.person_id AND k.is_response_of_record)
        FROM linkage.response_persons r WHERE r.wave_id = ? AND r.response_id = ?""",
                       [wave_id, response_id]).fetchone()


def _model_probability(con, later_wave: str, later_record: str, person_id: str) -> float | None:
    found = con.execute("""SELECT max(match_probability) FROM linkage.candidate_pairs
                           WHERE wave_id = ? AND response_id = ? AND person_id = ?""",
                        [later_wave, later_record, person_id]).fetchone()
    return found[0] if found else None


def _in_wave_order(con, decision: Decision) -> Decision:
    """The decision with its earlier response first (a reviewer may name the pair either way round)."""
    numbers = dict(con.execute("SELECT DISTINCT wave_id, wave_number FROM linkage.response_persons "
                               "WHERE wave_id IN (?, ?)", [decision.earlier_wave_id, decision.later_wave_id]).fetchall())
    first, second = numbers.get(decision.earlier_wave_id), numbers.get(decision.later_wave_id)
    if first is None or second is None or first <= second:
        return decision
    return replace(decision, earlier_wave_id=decision.later_wave_id, earlier_response_id=decision.later_response_id,
                   later_wave_id=decision.earlier_wave_id, later_response_id=decision.earlier_response_id)


def _apply_one(con, decision: Decision) -> tuple[str, str, float | None]:
    """Apply one decision (in wave order) to linkage.response_persons; returns (status, reason,
    the model's probability of the pair when it was scored)."""
    earlier = _person_rows(con, decision.earlier_wave_id, decision.earlier_response_id)
    later = _person_rows(con, decision.later_wave_id, decision.later_response_id)
    if earlier is None or later is None:
        side = "earlier" if earlier is None else "later"
        return "unusable", f"the {side} response is not among the loaded responses", None
    if earlier[1] == later[1]:
        return "unusable", "both responses are in one wave; a decision links responses of two waves", None
    early_key = (decision.earlier_wave_id, decision.earlier_response_id)
    late_wave = decision.later_wave_id
    (earlier_person, _, _), (later_person, _, later_record) = earlier, later
    probability = _model_probability(con, late_wave, later_record, earlier_person)
    together = earlier_person == later_person
    if decision.decision == "non_match":
        if not together:
            return "already_in_effect", "the responses belong to different persons", probability
        con.execute("""UPDATE linkage.response_persons
                       SET person_id = ?, link_method = 'single', linked_to_response_id = NULL, match_probability = NULL
                       WHERE wave_id = ? AND person_id = ?""",
                    [person_id_for(late_wave, later_record), late_wave, later_person])
        return "honoured", "the later response was split off into a person of its own", probability
    if together:
        return "already_in_effect", "the responses belong to one person", probability
    taken = con.execute("""SELECT count(*) FROM linkage.response_persons
                           WHERE wave_id = ? AND person_id = ?""", [late_wave, earlier_person]).fetchone()[0]
    if taken:
        return ("unusable", "the earlier response's person already has a response in the later wave; "
                "decide that pair first", probability)
    con.execute("""UPDATE linkage.response_persons
                   SET person_id = ?, link_method = 'probabilistic', linked_to_response_id = ?,
                       match_probability = coalesce(?, 0.0)
                   WHERE wave_id = ? AND person_id = ?""",
                [earlier_person, early_key[1], probability, late_wave, later_person])
    return "honoured", "the later response was joined to the earlier response's person", probability


def apply_decisions(con: duckdb.DuckDBPyConnection, decisions: list[Decision], run_id: str) -> dict:
    """Apply the decisions in file order and record every one in linkage.decisions_applied.

    Runs inside the caller's transaction, after this run's assignments were written. Returns counts by
    status for linkage.runs.
    """
    counts = {"honoured": 0, "already_in_effect": 0, "unusable": 0}
    for decision in decisions:
        decision = _in_wave_order(con, decision)
        status, reason, probability = _apply_one(con, decision)
        counts[status] += 1
        con.execute("INSERT INTO linkage.decisions_applied VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, decision.file_row, decision.earlier_wave_id, decision.earlier_response_id,
                     decision.later_wave_id, decision.later_response_id, decision.decision, decision.reviewer,
                     decision.decided_on, status, reason, probability])
    return counts
