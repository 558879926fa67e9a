"""Link one wave's responses to the persons that already exist, and turn the links into person ids.

Order of strength: invitation token (-> the address it was sent to -> the person who gave it), equal
e-mail hash, then the Splink model. Exact links are only taken when gender and birth year agree, so a
family address shared by two people never merges them. A person gets at most one response of record
per wave: a second response claiming the same person is a same-wave duplicate when it is compatible
with the first, otherwise it tries its next candidate or becomes a new person.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from linkage.model import score_pairs
from linkage.rules import attributes_compatible, person_id_for, record_sort_key, same_submitter

# Chosen on synthetic panels (linkage.synthetic) at 1x and 2x mess: precision stays above 0.995 while
# the one-to-one constraint keeps competing candidates out; 0.9 lost 5% recall at 2x mess.
MATCH_THRESHOLD = 0.7
METHOD_RANK = {"token": 0, "email_exact": 1, "probabilistic": 2}
ATTRIBUTES = ("gender", "birth_year", "oblast_iso", "arrival_month", "kommune_code_2024", "children_in_norway")


def _present(value) -> bool:
    return value is not None and not bool(pd.isna(value))


@dataclass
class History:
    """What earlier waves established: their responses of record and the addresses of each person."""

    records: pd.DataFrame  # record_id, person_id, wave_number, attributes, email_hash, email_bloom
    address_persons: dict[str, dict[str, str]]  # email_hash -> {person_id: record_id that gave it}
    latest: dict[str, dict]  # person_id -> attributes of the person's latest response of record

    @classmethod
    def from_linked(cls, linked: pd.DataFrame) -> "History":
        """Build from responses already assigned (response columns + person_id, is_response_of_record)."""
        address_persons: dict[str, dict[str, str]] = {}
        ordered = linked.sort_values(["wave_number", "response_id"])
        for row in ordered.itertuples(index=False):
            key = f"{row.wave_id}:{row.response_id}"
            for address in (row.email_hash, row.invitation_hash):
                if _present(address):
                    address_persons.setdefault(address, {}).setdefault(row.person_id, key)
        records = ordered[ordered["is_response_of_record"]].copy()
        records["record_id"] = records["wave_id"] + ":" + records["response_id"]
        records["email_hash"] = records["email_hash"].fillna(records["invitation_hash"])
        records["email_bloom"] = records["email_bloom"].fillna(records["invitation_bloom"])
        latest = {row["person_id"]: row for row in records.to_dict("records")}
        return cls(records, address_persons, latest)

    @classmethod
    def empty(cls) -> "History":
        return cls(pd.DataFrame(), {}, {})


@dataclass
class Entity:
    """Responses of one wave that are one submitter (same address or token, compatible answers)."""

    order: int
    members: list[dict]
    keys: set[str] = field(default_factory=set)

    @property
    def record(self) -> dict:
        return max(self.members, key=record_sort_key)

    @property
    def attributes(self) -> dict:
        ranked = sorted(self.members, key=record_sort_key, reverse=True)
        return {a: next((m[a] for m in ranked if _present(m[a])), None) for a in ATTRIBUTES}

    def addresses(self, column: str) -> list[str]:
        return sorted({m[column] for m in self.members if _present(m[column])})

    def model_row(self) -> dict:
        """Attributes and the typed address only: a token's address would teach the model that
        matches always share an address, which is exactly what open-link respondents do not do."""
        typed = next((m for m in sorted(self.members, key=record_sort_key, reverse=True)
                      if _present(m["email_hash"])), None)
        return {"entity_id": str(self.order), **self.attributes,
                "email_hash": typed["email_hash"] if typed else None,
                "email_bloom": typed["email_bloom"] if typed else None}


def group_submissions(responses: list[dict]) -> list[Entity]:
    """Group a wave's responses that share an address (typed or via token) and agree on attributes."""
    ordered = sorted(responses, key=lambda r: (str(r["submitted_at"]), str(r["response_id"])))
    entities: list[Entity] = []
    by_key: dict[str, list[Entity]] = {}
    for response in ordered:
        keys = {response[c] for c in ("email_hash", "invitation_hash") if _present(response[c])}
        home = next((e for k in sorted(keys) for e in by_key.get(k, [])
                     if all(same_submitter(response, m) for m in e.members)), None)
        if home is None:
            home = Entity(order=len(entities), members=[])
            entities.append(home)
        home.members.append(response)
        for k in keys - home.keys:
            by_key.setdefault(k, []).append(home)
        home.keys |= keys
    return entities


@dataclass
class Candidate:
    entity: Entity
    person_id: str
    method: str
    linked_to: str | None
    model_probability: float

    def sort_key(self) -> tuple:
        return (METHOD_RANK[self.method], -self.model_probability, self.entity.order, self.person_id)


@dataclass
class WaveResult:
    rows: list[dict]
    counts: Counter
    model: dict


def _model_scores(entities: list[Entity], history: History) -> tuple[dict, dict]:
    """Best model probability (and record) per (entity order, person_id)."""
    if history.records.empty:
        return {}, {"trained": False, "settings": "first wave: nothing to score against"}
    left = pd.DataFrame([e.model_row() for e in entities])
    right = history.records[["record_id", *ATTRIBUTES, "email_hash", "email_bloom"]]
    scored = score_pairs(left, right)
    pairs = scored.pairs.merge(history.records[["record_id", "person_id"]], on="record_id")
    pairs = pairs.sort_values(["match_probability", "record_id"], ascending=[False, True])
    best: dict = {}
    for row in pairs.itertuples(index=False):
        best.setdefault((int(row.entity_id), row.person_id), (float(row.match_probability), row.record_id))
    return best, scored.parameters


def _exact_candidates(entity: Entity, history: History, scores: dict, counts: Counter) -> list[Candidate]:
    found: list[Candidate] = []
    for method, column in (("token", "invitation_hash"), ("email_exact", "email_hash")):
        for address in entity.addresses(column):
            for person_id, record_id in sorted(history.address_persons.get(address, {}).items()):
                if not attributes_compatible(entity.attributes, history.latest[person_id]):
                    counts[f"{method}_rejected_incompatible"] += 1
                    continue
                probability = scores.get((entity.order, person_id), (0.0, None))[0]
                found.append(Candidate(entity, person_id, method, record_id, probability))
    return found


def _candidates(entities: list[Entity], history: History, scores: dict, counts: Counter) -> list[Candidate]:
    candidates = [c for e in entities for c in _exact_candidates(e, history, scores, counts)]
    by_order = {e.order: e for e in entities}
    for (order, person_id), (probability, record_id) in scores.items():
        if probability >= MATCH_THRESHOLD:
            candidates.append(Candidate(by_order[order], person_id, "probabilistic", record_id, probability))
    return sorted(candidates, key=Candidate.sort_key)


def _assign(entities: list[Entity], candidates: list[Candidate], counts: Counter):
    """Greedy one-to-one assignment, strongest link first; compatible second claims become duplicates."""
    link_of: dict[int, Candidate] = {}
    owner: dict[str, Entity] = {}
    merged_into: dict[int, Entity] = {}
    for candidate in candidates:
        entity = candidate.entity
        if entity.order in link_of or entity.order in merged_into:
            continue
        holder = owner.get(candidate.person_id)
        if holder is None:
            link_of[entity.order] = candidate
            owner[candidate.person_id] = entity
        elif attributes_compatible(entity.attributes, holder.attributes):
            merged_into[entity.order] = holder
            counts["same_wave_duplicates_by_link"] += 1
        else:
            counts["second_claim_rejected"] += 1
    return link_of, merged_into


def _group_rows(members: list[dict], person_id: str, method: str, linked_to, probability) -> list[dict]:
    record = max(members, key=record_sort_key)
    return [{
        "wave_id": m["wave_id"], "wave_number": int(m["wave_number"]), "response_id": m["response_id"],
        "person_id": person_id, "is_response_of_record": m is record,
        "duplicate_of_response_id": None if m is record else record["response_id"],
        "link_method": method, "linked_to_response_id": linked_to, "match_probability": probability,
    } for m in sorted(members, key=lambda m: str(m["response_id"]))]


def link_wave(responses: pd.DataFrame, history: History) -> WaveResult:
    """Assign a person to every response of one wave (responses carry invitation_hash/_bloom)."""
    counts: Counter = Counter()
    entities = group_submissions(responses.to_dict("records"))
    scores, model = _model_scores(entities, history)
    link_of, merged_into = _assign(entities, _candidates(entities, history, scores, counts), counts)
    rows: list[dict] = []
    for entity in entities:
        if entity.order in merged_into:
            continue
        members = entity.members + [m for e in entities if merged_into.get(e.order) is entity for m in e.members]
        link = link_of.get(entity.order)
        if link is None:
            record = max(members, key=record_sort_key)
            rows += _group_rows(members, person_id_for(record["wave_id"], record["response_id"]), "single", None, None)
            continue
        probability = link.model_probability if link.method == "probabilistic" else 1.0
        linked_to = link.linked_to.split(":", 1)[1] if link.linked_to else None
        rows += _group_rows(members, link.person_id, link.method, linked_to, probability)
    counts["responses"] = len(rows)
    counts["duplicates"] = sum(not r["is_response_of_record"] for r in rows)
    counts["tokens_without_invitation"] = int((responses["token"].notna() & responses["invitation_hash"].isna()).sum())
    for method in METHOD_RANK | {"single": 3}:
        counts[f"records_{method}"] = sum(r["is_response_of_record"] and r["link_method"] == method for r in rows)
    return WaveResult(rows, counts, model)
