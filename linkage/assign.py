"""Link one wave's responses to the persons that already exist, and turn the links into person ids.

Order of strength: invitation token (-> the address it was sent to -> the person who gave it), equal
e-mail hash, then the Splink model, whose Bayes factors become probabilities in `match_posteriors`.
Exact links are only taken when gender and birth year agree, so a family address shared by two people
never merges them. A person gets at most one response of record per wave: a second exact claim on the
same person is a same-wave duplicate when it agrees with the first; any other second claim tries its
next candidate or becomes a new person. See linkage/README.md.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice

import numpy as np
import pandas as pd

from linkage.encoding import dice_similarity
from linkage.model import EVIDENCE_COLUMNS, TYPO_DICE, score_pairs, split_share_prior, with_email_m
from linkage.rules import attributes_compatible, is_missing, person_id_for, record_sort_key, same_submitter

# Posterior probability (match_posteriors) a model link needs.
MATCH_THRESHOLD = 0.8
# Beta(a, b) prior of the returning share pi: mean 5%, worth 20 responses.
SHARE_PRIOR = (1.0, 19.0)
METHOD_RANK = {"token": 0, "email_exact": 1, "probabilistic": 2}
ATTRIBUTES = ("gender", "birth_year", "oblast_iso", "arrival_month", "kommune_code_2024", "children_in_norway",
              "language", "partner_location")


def _present(value) -> bool:
    kind = type(value)
    if kind is str or kind is int:  # most cells: answered without a call
        return True
    return not is_missing(value)


# What the exact step asks of a person's latest record: who, which record, and what rules out a shared address.
LATEST_COLUMNS = ("person_id", "record_id", "gender", "birth_year")


@dataclass
class History:
    """What earlier waves established: their responses of record and the addresses of each person."""

    records: pd.DataFrame  # record_id, person_id, wave_number, attributes, email_hash, email_bloom
    address_persons: dict[str, dict[str, str]]  # email_hash -> {person_id: record_id that gave it}
    latest: dict[str, dict]  # person_id -> LATEST_COLUMNS of the person's latest response of record

    @classmethod
    def from_linked(cls, linked: pd.DataFrame) -> "History":
        """Build from responses already assigned (response columns + person_id, is_response_of_record)."""
        address_persons: dict[str, dict[str, str]] = {}
        ordered = linked.sort_values(["wave_number", "response_id"])
        keys = (ordered["wave_id"] + ":" + ordered["response_id"]).tolist()
        # Each (address, person) with the first response (in wave and id order) that gave the address,
        # typed or behind its token: set-based, one row per pair instead of a loop over every response.
        uses = pd.DataFrame({"address": ordered["email_hash"].tolist() + ordered["invitation_hash"].tolist(),
                             "person_id": ordered["person_id"].tolist() * 2, "key": keys * 2,
                             "position": list(range(len(keys))) * 2})
        uses = uses[uses["address"].notna()].sort_values("position", kind="stable")
        uses = uses.drop_duplicates(["address", "person_id"], keep="first")
        for address, person_id, key in zip(uses["address"].tolist(), uses["person_id"].tolist(), uses["key"].tolist()):
            address_persons.setdefault(address, {})[person_id] = key
        records = ordered[ordered["is_response_of_record"]].copy()
        records["record_id"] = records["wave_id"] + ":" + records["response_id"]
        records["email_hash"] = records["email_hash"].fillna(records["invitation_hash"])
        records["email_bloom"] = records["email_bloom"].fillna(records["invitation_bloom"])
        newest = records.drop_duplicates("person_id", keep="last")[list(LATEST_COLUMNS)]
        latest = {row["person_id"]: row for row in _records(newest)}
        return cls(records, address_persons, latest)

    @cached_property
    def persons_without_address(self) -> frozenset[str]:
        """Persons none of whose earlier responses gave an address, typed or behind a token (a History is
        never changed once built: computed once per wave, not once per use)."""
        with_address = {person_id for persons in self.address_persons.values() for person_id in persons}
        return frozenset(set(self.latest) - with_address)

    @classmethod
    def empty(cls) -> "History":
        return cls(pd.DataFrame(), {}, {})


@dataclass
class Entity:
    """Responses of one wave that are one submitter (same address or token, compatible answers)."""

    order: int
    members: list[dict]
    keys: set[str] = field(default_factory=set)
    # members ranked best record first, attributes and the record's submission time, computed for this
    # many members: members are only ever added, so the count says whether they are current (grouping
    # asks for them millions of times per wave at scale 100)
    _derived: tuple[int, list, dict, pd.Timestamp] | None = field(default=None, repr=False, compare=False)

    def _current(self) -> tuple[list, dict, pd.Timestamp]:
        if self._derived is None or self._derived[0] != len(self.members):
            if len(self.members) == 1:  # most entities: nothing to rank
                ranked = list(self.members)
                attributes = {a: v if _present(v) else None for a, v in zip(ATTRIBUTES, map(ranked[0].get, ATTRIBUTES))}
            else:
                ranked = sorted(self.members, key=record_sort_key, reverse=True)
                attributes = {a: next((m[a] for m in ranked if _present(m[a])), None) for a in ATTRIBUTES}
            submitted = ranked[0]["submitted_at"]
            if type(submitted) is not pd.Timestamp:  # most are one already: no copy
                submitted = pd.Timestamp(submitted)
            self._derived = (len(self.members), ranked, attributes, submitted)
        return self._derived[1:]

    @property
    def record(self) -> dict:
        return self._current()[0][0]

    @property
    def attributes(self) -> dict:
        return dict(self._current()[1])

    @property
    def submitted(self) -> pd.Timestamp:
        """Submission time of the entity's response of record."""
        return self._current()[2]

    @property
    def kind(self) -> str:
        """Whether the entity typed an address: the returning share of unresolved responses differs by
        kind (one who types an address and matches none exactly is mostly new)."""
        return "typed address" if any(_present(m["email_hash"]) for m in self.members) else "no typed address"

    def addresses(self, column: str) -> list[str]:
        if len(self.members) == 1:  # most entities: no set to build and sort (asked millions of times)
            value = self.members[0][column]
            return [value] if _present(value) else []
        return sorted({m[column] for m in self.members if _present(m[column])})

    def model_row(self) -> dict:
        """Attributes and the typed address only: a token's address would teach the model that
        matches always share an address, which is exactly what open-link respondents do not do."""
        typed = next((m for m in self._current()[0] if _present(m["email_hash"])), None)
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
    return _merge_repeats_without_shared_key(entities)


BLOCK_ATTRIBUTES = ("gender", "birth_year", "oblast_iso", "arrival_month")
# Repeats are submitted within days of each other; a field period lasts six weeks or more.
MAX_REPEAT_GAP = pd.Timedelta(days=3)


def _submitted(entity: Entity) -> pd.Timestamp:
    return entity.submitted


def _is_repeat(a: Entity, b: Entity) -> bool:
    """A repeat submission that shares no address with the first: an abandoned partial (its e-mail
    question never reached), a resubmission with the address retyped slightly differently, or a
    resubmission without any address that gives exactly the same answers. Only submissions both with a
    known time can be told to be days apart: without one, never a repeat."""
    first, second = a._current()[1], b._current()[1]  # read only: no copies in this hot path
    if not _may_be_within(_stamp(a), _stamp(b), MAX_REPEAT_GAP.value) or not same_submitter(first, second):
        return False
    differing = [c for c in ("kommune_code_2024", "children_in_norway")
                 if _present(first[c]) and _present(second[c]) and first[c] != second[c]]
    if differing:
        return False
    invited_a, invited_b = a.addresses("invitation_hash"), b.addresses("invitation_hash")
    if invited_a and invited_b and not set(invited_a) & set(invited_b):
        return False
    typed_a, typed_b = a.addresses("email_bloom"), b.addresses("email_bloom")
    if typed_a and typed_b:
        return max(dice_similarity(x, y) for x in typed_a for y in typed_b) >= TYPO_DICE
    partial = not all(m["is_complete"] for m in a.members + b.members)
    same_answers = all(_present(first[c]) and first[c] == second[c] for c in ATTRIBUTES[:6])
    return partial or (same_answers and not (typed_a or typed_b or invited_a or invited_b))


def _stamp(entity: Entity) -> int | None:
    submitted = entity.submitted
    return None if submitted is pd.NaT else submitted.value


def _may_be_within(a: int | None, b: int | None, gap: int) -> bool:
    """Both submission times known (ns) and at most `gap` apart: the time rule of a repeat (_is_repeat), kept
    here alone. Without a time nobody can tell two submissions are days apart, so never a repeat."""
    return a is not None and b is not None and abs(a - b) <= gap


def _chronological(entity: Entity) -> tuple:
    """Entities by their record's submission time, unknown times last, then by order: the order of
    (str(submitted_at), order), without formatting a time per entity."""
    stamp = _stamp(entity)
    return (stamp is None, stamp or 0, entity.order)


def _merge_repeats_without_shared_key(entities: list[Entity]) -> list[Entity]:
    """Fold repeats (same gender, birth year, oblast and arrival month, nothing contradicting, within
    days) into the nearest-in-time entity of their block; renumber so entity order stays dense."""
    kept: list[Entity] = []
    by_block: dict[tuple, list[Entity]] = {}
    # Submission time in ns per entity (None for NaT), kept current as members are added: a block holds
    # thousands of entities at scale 100, and most are weeks apart, which this rules out without a call.
    stamps: dict[int, int | None] = {}
    # Per block, how many of its first entities are out of reach for good (see _first_in_reach).
    out_of_reach: dict[tuple, int] = {}
    gap = MAX_REPEAT_GAP.value
    for entity in sorted(entities, key=_chronological):
        attributes = entity._current()[1]
        block = tuple(attributes[c] for c in BLOCK_ATTRIBUTES)
        complete_block = all(_present(v) for v in block)
        stamp = _stamp(entity)
        first = _first_in_reach(by_block, block, out_of_reach, stamps, stamp, gap) if complete_block else 0
        repeats = [e for e in islice(by_block.get(block, ()), first, None)
                   if _may_be_within(stamps[e.order], stamp, gap) and _is_repeat(e, entity)] if complete_block else []
        if not repeats:
            kept.append(entity)
            if complete_block:
                by_block.setdefault(block, []).append(entity)
                stamps[entity.order] = stamp
            continue
        home = min(repeats, key=lambda e: (abs(_submitted(e) - _submitted(entity)), e.order))
        home.members.extend(entity.members)
        home.keys |= entity.keys
        stamps[home.order] = _stamp(home)
    kept.sort(key=lambda e: e.order)
    for order, entity in enumerate(kept):
        entity.order = order
    return kept


def _first_in_reach(by_block: dict, block: tuple, out_of_reach: dict, stamps: dict, stamp: int | None, gap: int) -> int:
    """Index of the block's first entity that may still be within `gap` of `stamp`. Entities come in time
    order (_chronological), so one submitted more than `gap` before this one is out of reach of every later
    one too, and its time no longer changes (it can take in no repeat). Nothing is within reach of an unknown
    time, and an entity with one is out of reach of every other (`_may_be_within`)."""
    block_entities = by_block.get(block, ())
    if stamp is None:
        return len(block_entities)
    first = out_of_reach.get(block, 0)
    while first < len(block_entities):
        earlier = stamps[block_entities[first].order]
        if earlier is not None and stamp - earlier <= gap:
            break
        first += 1
    out_of_reach[block] = first
    return first


@dataclass
class Candidate:
    entity: Entity
    person_id: str
    method: str
    linked_to: str | None
    score: float  # log2 Bayes factor for exact links (tie-break), posterior probability for model links

    def sort_key(self) -> tuple:
        return (METHOD_RANK[self.method], -self.score, self.entity.order, self.person_id)


@dataclass
class WaveResult:
    rows: list[dict]
    counts: Counter
    model: dict
    candidates: pd.DataFrame = field(default_factory=pd.DataFrame)  # scored pairs, see candidate_rows


def _exact_candidates(entity: Entity, history: History, counts: Counter) -> list[Candidate]:
    found: list[Candidate] = []
    for method, column in (("token", "invitation_hash"), ("email_exact", "email_hash")):
        for address in entity.addresses(column):
            for person_id, record_id in sorted(history.address_persons.get(address, {}).items()):
                if not attributes_compatible(entity._current()[1], history.latest[person_id]):
                    counts[f"{method}_rejected_incompatible"] += 1
                    continue
                found.append(Candidate(entity, person_id, method, record_id, 0.0))
    return found


def _token_labels(exact: list[Candidate], history: History) -> list[tuple[str, str]]:
    """(entity, person's latest record) for entities whose token points to exactly one person."""
    persons: dict[int, set[str]] = {}
    for candidate in exact:
        if candidate.method == "token":
            persons.setdefault(candidate.entity.order, set()).add(candidate.person_id)
    return [(str(order), history.latest[next(iter(ids))]["record_id"])
            for order, ids in sorted(persons.items()) if len(ids) == 1]


# A person's best-scoring record per entity: (entity) order, person_id, record_id, log2_bayes_factor
# and the reviewer's evidence (model.EVIDENCE_COLUMNS), sorted by order and person.
STRONGEST_COLUMNS = ("order", "person_id", "record_id", "log2_bayes_factor", *EVIDENCE_COLUMNS)


def _bayes_factors(entities: list[Entity], history: History, labels) -> tuple[dict, dict, pd.DataFrame]:
    """Best log2 Bayes factor (and its record) per (entity order, person_id), the model used, and
    those best pairs with their evidence as a frame (STRONGEST_COLUMNS): one row per pair, not one dict,
    so that hundreds of thousands of pairs fit in memory."""
    if history.records.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in STRONGEST_COLUMNS})
        return {}, {"trained": False, "settings": "first wave: nothing to score against"}, empty
    left = pd.DataFrame([e.model_row() for e in entities])
    right = history.records[["record_id", *ATTRIBUTES, "email_hash", "email_bloom"]]
    scored = score_pairs(left, right, labels)
    persons = history.records.set_index("record_id")["person_id"]
    typed = left.loc[left["email_hash"].notna(), "entity_id"].tolist()
    scored = with_email_m(scored, persons, len(history.latest), typed, SHARE_PRIOR,
                          history.persons_without_address)
    records = history.records[["record_id", "person_id"]]
    # each earlier record's rank among the ids (of records, of persons), so that strongest_per_person sorts
    # the pairs by integers ranked once per wave rather than factorising millions of pairs' text ids
    records = records.assign(record_rank=pd.factorize(records["record_id"], sort=True)[0],
                             person_rank=pd.factorize(records["person_id"], sort=True)[0])
    strongest = strongest_per_person(scored.pairs.merge(records, on="record_id"))
    best = dict(zip(zip(strongest["order"].tolist(), strongest["person_id"].tolist()),
                    zip(strongest["log2_bayes_factor"].astype(float).tolist(), strongest["record_id"].tolist())))
    return best, scored.parameters, strongest


def strongest_per_person(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each (entity, person)'s best record (highest log2 Bayes factor, then lowest record id) as
    STRONGEST_COLUMNS, sorted by entity order and person. One sort of integer codes: sorting and
    de-duplicating millions of pairs by their text ids took seconds per wave at scale 100. Integer ranks
    of the ids given with the pairs (`person_rank`, `record_rank`: in the ids' sorted order, over any
    superset of the ids) spare factorising the text ids of every pair."""
    order = pairs["entity_id"].astype(int).to_numpy()
    persons, records = (pairs[f"{c}_rank"].to_numpy() if f"{c}_rank" in pairs.columns
                        else pd.factorize(pairs[f"{c}_id"], sort=True)[0]  # codes in the ids' sorted order
                        for c in ("person", "record"))
    ranked = np.lexsort((records, -pairs["log2_bayes_factor"].to_numpy(dtype=float), persons, order))
    first = np.ones(len(ranked), dtype=bool)
    first[1:] = (np.diff(order[ranked]) != 0) | (np.diff(persons[ranked]) != 0)
    kept = ranked[first]
    strongest = pairs.iloc[kept].assign(order=order[kept])
    return strongest[list(STRONGEST_COLUMNS)].reset_index(drop=True)


@dataclass(frozen=True)
class Pool:
    """The persons an unresolved response may be: `size` of them, of whom `without_address` have no address
    on record (none typed, none behind a token) in any earlier wave.

    The two groups get a returning share each: one who never gave an address has no token and no address
    to match exactly, so if they answer again their response is always unresolved, while most others
    come back through an exact link. Among the persons left after the exact links, those without an
    address are therefore many times more likely to be the one behind an unresolved response (synthetic
    panel at scale 10, wave 2: 58% of them against 2.5% of the others), and one share for all understated
    every such pair's posterior the more, the larger the panel."""

    size: int
    without_address: frozenset = frozenset()

    @property
    def sizes(self) -> tuple[int, int]:
        """Persons with an address on record, and without."""
        return self.size - len(self.without_address), len(self.without_address)

    def prior(self) -> tuple[float, float]:
        """SHARE_PRIOR's returning weight split between the groups by size: the same prior per person as
        one pool (exactly SHARE_PRIOR when no one lacks an address)."""
        return split_share_prior(SHARE_PRIOR, self.size, len(self.without_address))

    def weights(self, shares: tuple[float, float]) -> tuple[float, float]:
        """Prior probability that an unresolved response is one given person of each group."""
        return tuple(share / max(size, 1) for share, size in zip(shares, self.sizes))


def match_posteriors(factors: dict, entity_orders: list[int], n_persons: int,
                     without_address: frozenset = frozenset()) -> tuple[dict, float]:
    """P(entity e is person j) = w_g(j) BF_ej / (sum_k w_g(k) BF_ek + 1 - pi), where w_g = pi_g / N_g is the
    prior of one person of group g (Pool: an address on record or not; `without_address` among the
    `n_persons`) and pi = sum_g pi_g the share of the unresolved responses that come from someone already
    in the panel, each pi_g estimated by EM under a Beta prior (SHARE_PRIOR, split by group size), so that
    a handful of responses cannot talk it up to certainty.

    Each response is at most one earlier person: its candidates compete for one unit of probability,
    so one clear candidate wins and two similar ones share it. Returns posteriors and pi.
    """
    by_entity = _by_entity(factors, set(entity_orders))
    pool = Pool(n_persons, without_address)
    shares = _returning_shares(by_entity, len(entity_orders), pool)
    return _posteriors(by_entity, pool, shares), sum(shares)


def posteriors_at_share(factors: dict, entity_orders: list[int], n_persons: int, share: float) -> dict:
    """The posteriors of match_posteriors (one group) for a given returning share pi."""
    return _posteriors(_by_entity(factors, set(entity_orders)), Pool(n_persons), (share, 0.0))


def _by_entity(factors: dict, wanted: set[int] | None = None, taken=()) -> dict[int, list[tuple[str, float]]]:
    """Entity order -> [(person_id, Bayes factor)] of the factors' pairs, in the factors' order, for the
    `wanted` entities (all by default) and the persons not `taken`."""
    by_entity: dict[int, list[tuple[str, float]]] = {}
    for (order, person_id), (log2_factor, _) in factors.items():
        if (wanted is None or order in wanted) and person_id not in taken:
            by_entity.setdefault(order, []).append((person_id, 2.0 ** min(log2_factor, 200.0)))
    return by_entity


def _of_entities(by_entity: dict, entity_orders) -> dict:
    """`by_entity` for these entities only, in its own order (what _by_entity builds for them)."""
    wanted = set(entity_orders)
    return {order: cands for order, cands in by_entity.items() if order in wanted}


def _without_persons(by_entity: dict, taken) -> dict:
    """`by_entity` without the candidates `taken`, entities left with none dropped: what _by_entity
    builds with `taken` (in the same order when each entity's factors are together, as _bayes_factors
    gives them), without raising every factor again."""
    kept = {}
    for order, cands in by_entity.items():
        free = [cand for cand in cands if cand[0] not in taken]
        if free:
            kept[order] = free
    return kept


def _sums(by_entity: dict, pool: Pool) -> list[tuple[float, float]]:
    """Each entity's sum of Bayes factors over its candidates with an address on record, and without."""
    without, sums = pool.without_address, []
    for cands in by_entity.values():
        with_sum = without_sum = 0.0
        for person_id, factor in cands:
            if person_id in without:
                without_sum += factor
            else:
                with_sum += factor
        sums.append((with_sum, without_sum))
    return sums


def _returning_shares(by_entity: dict, n: int, pool: Pool) -> tuple[float, float]:
    """pi_g of match_posteriors by EM over `n` entities, of which those in `by_entity` have candidates.
    Each entity's sums of Bayes factors are taken once, not once per iteration (the same sums)."""
    sums = _sums(by_entity, pool)
    prior, total_prior = pool.prior(), sum(SHARE_PRIOR)
    shares = (prior[0] / total_prior, prior[1] / total_prior)
    for _ in range(200):
        (w_with, w_without), (share_with, share_without) = pool.weights(shares), shares
        mass_with = mass_without = 0.0
        for with_sum, without_sum in sums:
            denominator = w_with * with_sum + w_without * without_sum + 1 - share_with - share_without
            mass_with += w_with * with_sum / denominator
            mass_without += w_without * without_sum / denominator
        new_shares = ((mass_with + prior[0]) / (n + total_prior), (mass_without + prior[1]) / (n + total_prior))
        if max(abs(new - old) for new, old in zip(new_shares, shares)) < 1e-7:
            break
        shares = new_shares
    return shares


def _posteriors(by_entity: dict, pool: Pool, shares: tuple[float, float]) -> dict:
    weights, without = pool.weights(shares), pool.without_address
    posteriors = {}
    for (order, cands), (with_sum, without_sum) in zip(by_entity.items(), _sums(by_entity, pool)):
        denominator = weights[0] * with_sum + weights[1] * without_sum + 1 - shares[0] - shares[1]
        for person_id, factor in cands:
            posteriors[(order, person_id)] = weights[person_id in without] * factor / denominator
    return posteriors


def _take(candidates: list[Candidate], link_of: dict, owner: dict, merged_into: dict, counts: Counter) -> None:
    """Greedy one-to-one assignment, strongest link first.

    A second exact claim on a person already taken in this wave is a same-wave duplicate when it agrees
    with the first; a second probabilistic claim is never enough to merge, it tries its next candidate.
    """
    for candidate in sorted(candidates, key=Candidate.sort_key):
        entity = candidate.entity
        if entity.order in link_of or entity.order in merged_into:
            continue
        holder = owner.get(candidate.person_id)
        if holder is None:
            link_of[entity.order] = candidate
            owner[candidate.person_id] = entity
        elif candidate.method != "probabilistic" and same_submitter(entity.attributes, holder.attributes):
            merged_into[entity.order] = holder
            counts["same_wave_duplicates_by_link"] += 1
        else:
            counts["second_claim_rejected"] += 1


def _link_entities(entities: list[Entity], history: History, counts: Counter):
    exact = [c for e in entities for c in _exact_candidates(e, history, counts)]
    factors, model, strongest = _bayes_factors(entities, history, _token_labels(exact, history))
    for candidate in exact:
        candidate.score = factors.get((candidate.entity.order, candidate.person_id), (-1e9, None))[0]
    link_of: dict[int, Candidate] = {}
    owner: dict[str, Entity] = {}
    merged_into: dict[int, Entity] = {}
    _take(exact, link_of, owner, merged_into, counts)
    open_entities = [e.order for e in entities if e.order not in link_of and e.order not in merged_into]
    without_address = history.persons_without_address
    n_free = len(set(history.latest) - set(owner))
    free_pool = Pool(n_free, frozenset(without_address - set(owner)))
    kinds = {e.order: e.kind for e in entities}
    # match_posteriors per kind over the persons not taken, each entity's candidates grouped once for
    # every kind (a kind's entities in the same order as match_posteriors would group them)
    every = _by_entity(factors)  # each Bayes factor raised from its log2 once, for both uses below
    free = _without_persons(_of_entities(every, open_entities), owner)
    posteriors, group_shares = {}, {}
    for kind in sorted(set(kinds.values())):
        orders = [order for order in open_entities if kinds[order] == kind]
        kind_free = _of_entities(free, orders)
        group_shares[kind] = _returning_shares(kind_free, len(orders), free_pool)
        posteriors.update(_posteriors(kind_free, free_pool, group_shares[kind]))
    shares = {kind: sum(pair) for kind, pair in group_shares.items()}
    pooled = tuple(sum(group_shares[kinds[o]][g] for o in open_entities) / max(len(open_entities), 1) for g in (0, 1))
    share = sum(pooled)
    by_order = {e.order: e for e in entities}
    model_links = [Candidate(by_order[order], person_id, "probabilistic", factors[(order, person_id)][1], p)
                   for (order, person_id), p in posteriors.items() if p >= MATCH_THRESHOLD]
    _take(model_links, link_of, owner, merged_into, counts)
    model = {**model, "returning_share_of_unresolved": share, "returning_share_by_kind": shares,
             "returning_share_by_kind_and_group": {
                 kind: dict(zip(("address on record", "no address on record"), pair)) for kind, pair in group_shares.items()},
             "unresolved_responses": len(open_entities), "persons_available": n_free,
             "persons_available_without_address": len(free_pool.without_address)}
    # For the quality estimate and review: every entity against every person, exact links and persons
    # already taken included (a second submission of one person that was not grouped shows up here).
    everyone = Pool(len(history.latest), frozenset(without_address))
    unconstrained = {}
    for kind in sorted(set(kinds.values())):  # a kind without unresolved responses: the pooled shares
        unconstrained.update(_posteriors(_of_entities(every, [o for o in by_order if kinds[o] == kind]),
                                         everyone, group_shares.get(kind, pooled)))
    candidates = candidate_rows(by_order, strongest, posteriors, unconstrained, link_of)
    return link_of, merged_into, model, candidates


def candidate_rows(by_order: dict, strongest: pd.DataFrame, posteriors: dict, unconstrained: dict,
                   link_of: dict) -> pd.DataFrame:
    """Every scored (entity, person) pair (`strongest`, STRONGEST_COLUMNS): the entity's response of
    record, the person's best-matching record, the Bayes factor, the posterior the link decision used
    (NULL when the entity or the person was resolved by an exact link first), the posterior among all the
    entity's candidates, whether this run linked them, and the reviewer's evidence."""
    keys = list(zip(strongest["order"].tolist(), strongest["person_id"].tolist()))
    # Each entity and each earlier record recurs in many pairs: look each up (or split its id) once and
    # spread the answers over the pairs by their codes.
    orders, distinct_orders = pd.factorize(strongest["order"])
    entity_records = [by_order[order].record for order in distinct_orders.tolist()]
    record_ids, distinct_records = pd.factorize(strongest["record_id"])
    earlier = [record_id.split(":", 1) for record_id in distinct_records.tolist()]
    linked_person = {order: link.person_id for order, link in link_of.items()}
    return pd.DataFrame({
        "wave_id": _objects(r["wave_id"] for r in entity_records)[orders],
        "response_id": _objects(r["response_id"] for r in entity_records)[orders],
        "person_id": strongest["person_id"].to_numpy(dtype=object),
        "earlier_wave_id": _objects(e[0] for e in earlier)[record_ids],
        "earlier_response_id": _objects(e[1] for e in earlier)[record_ids],
        "log2_bayes_factor": strongest["log2_bayes_factor"].astype(float).tolist(),
        "match_probability": pd.Series([posteriors.get(key) for key in keys], dtype=object),
        "probability_any_person": [unconstrained[key] for key in keys],
        "is_linked": [linked_person.get(order) == person_id for order, person_id in keys],
        # labels arrive as categoricals (model: DuckDB ENUMs); as objects they share the category strings
        **{c: strongest[c].astype(object).to_numpy() if isinstance(strongest[c].dtype, pd.CategoricalDtype)
           else strongest[c].tolist() for c in EVIDENCE_COLUMNS},
    })


def _objects(values) -> np.ndarray:
    """An object array straight from an iterable (pandas would otherwise copy a list cell by cell)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def record_of(members: list[dict]) -> dict:
    """The response of record of these members (the highest record_sort_key); a lone member is it
    without building its key (most entities at scale 100)."""
    return members[0] if len(members) == 1 else max(members, key=record_sort_key)


def _group_rows(members: list[dict], person_id: str, method: str, linked_to, probability) -> list[dict]:
    record = record_of(members)
    return [{
        "wave_id": m["wave_id"], "wave_number": int(m["wave_number"]), "response_id": m["response_id"],
        "person_id": person_id, "is_response_of_record": m is record,
        "duplicate_of_response_id": None if m is record else record["response_id"],
        "link_method": method, "linked_to_response_id": linked_to, "match_probability": probability,
    } for m in sorted(members, key=lambda m: str(m["response_id"]))]


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts, as `to_dict("records")` gives them (Python scalars, Timestamps), column by
    column: several times faster on hundreds of thousands of rows."""
    columns = list(frame.columns)
    return [dict(zip(columns, row)) for row in zip(*(frame[c].tolist() for c in columns))]


def link_wave(responses: pd.DataFrame, history: History) -> WaveResult:
    """Assign a person to every response of one wave (responses carry invitation_hash/_bloom)."""
    counts: Counter = Counter()
    entities = group_submissions(_records(responses))
    link_of, merged_into, model, candidates = _link_entities(entities, history, counts)
    absorbed: dict[int, list[dict]] = {}
    for e in entities:
        if e.order in merged_into:
            absorbed.setdefault(merged_into[e.order].order, []).extend(e.members)
    rows: list[dict] = []
    for entity in entities:
        if entity.order in merged_into:
            continue
        members = entity.members + absorbed.get(entity.order, [])
        link = link_of.get(entity.order)
        if link is None:
            record = record_of(members)
            rows += _group_rows(members, person_id_for(record["wave_id"], record["response_id"]), "single", None, None)
            continue
        probability = link.score if link.method == "probabilistic" else 1.0
        linked_to = link.linked_to.split(":", 1)[1] if link.linked_to else None
        rows += _group_rows(members, link.person_id, link.method, linked_to, probability)
    counts["responses"] = len(rows)
    counts["duplicates"] = sum(not r["is_response_of_record"] for r in rows)
    counts["tokens_without_invitation"] = int((responses["token"].notna() & responses["invitation_hash"].isna()).sum())
    for method in (*METHOD_RANK, "single"):
        counts[f"records_{method}"] = sum(r["is_response_of_record"] and r["link_method"] == method for r in rows)
    return WaveResult(rows, counts, model, candidates)
