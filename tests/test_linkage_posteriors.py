"""The posteriors of linkage.assign, grouped once per wave, are exactly those of the formula computed
afresh for each kind of entity and each set of free persons (same floats, not just close)."""
from __future__ import annotations

import random

import pytest

from linkage import assign
from linkage.assign import SHARE_PRIOR, match_posteriors, posteriors_at_share


def _reference(factors: dict, orders: list[int], n_persons: int) -> tuple[dict, float]:
    """match_posteriors as first written: candidates grouped, and their sums taken, in every iteration."""
    wanted, by_entity = set(orders), {}
    for (order, person_id), (log2_factor, _) in factors.items():
        if order in wanted:
            by_entity.setdefault(order, []).append((person_id, 2.0 ** min(log2_factor, 200.0)))
    share = SHARE_PRIOR[0] / sum(SHARE_PRIOR)
    for _ in range(200):
        weight = share / max(n_persons, 1)
        total = sum(weight * sum(f for _, f in c) / (weight * sum(f for _, f in c) + 1 - share)
                    for c in by_entity.values())
        new_share = (total + SHARE_PRIOR[0]) / (len(orders) + sum(SHARE_PRIOR))
        if abs(new_share - share) < 1e-7:
            break
        share = new_share
    weight = share / max(n_persons, 1)
    posteriors = {}
    for order, cands in by_entity.items():
        denominator = weight * sum(f for _, f in cands) + 1 - share
        for person_id, factor in cands:
            posteriors[(order, person_id)] = weight * factor / denominator
    return posteriors, share


def _factors(rng: random.Random, contiguous: bool) -> dict:
    pairs = [(order, f"P{rng.randrange(60)}") for order in range(300) for _ in range(rng.randrange(0, 6))]
    if not contiguous:
        rng.shuffle(pairs)
    return {pair: (rng.uniform(-20, 40), f"w1:{pair[1]}") for pair in pairs}


def test_match_posteriors_and_posteriors_at_share_equal_the_formula():
    for seed in range(5):
        rng = random.Random(seed)
        factors = _factors(rng, contiguous=seed % 2 == 0)
        orders = sorted(rng.sample(range(300), 200))
        posteriors, share = match_posteriors(factors, orders, 500)
        assert (posteriors, share) == _reference(factors, orders, 500)
        assert list(posteriors) == list(_reference(factors, orders, 500)[0])
        assert posteriors_at_share(factors, orders, 500, 0.3) == _reference_at(factors, orders, 500, 0.3)


def _reference_at(factors, orders, n_persons, share):
    wanted, by_entity = set(orders), {}
    for (order, person_id), (log2_factor, _) in factors.items():
        if order in wanted:
            by_entity.setdefault(order, []).append((person_id, 2.0 ** min(log2_factor, 200.0)))
    weight = share / max(n_persons, 1)
    return {(o, p): weight * f / (weight * sum(g for _, g in c) + 1 - share) for o, c in by_entity.items() for p, f in c}


def test_grouping_once_per_wave_equals_match_posteriors_per_kind_over_free_persons():
    """What _link_entities does: group the open entities' free candidates once, then split by kind."""
    for seed in range(6):
        rng = random.Random(100 + seed)
        factors = _factors(rng, contiguous=seed % 2 == 0)
        taken = {f"P{i}" for i in rng.sample(range(60), 15)}
        open_entities = sorted(rng.sample(range(300), 220))
        kinds = {order: rng.choice(["typed address", "no typed address"]) for order in range(300)}
        every = assign._by_entity(factors)
        free = assign._by_entity(factors, set(open_entities), taken)
        if seed % 2 == 0:  # each entity's pairs together, as _bayes_factors gives them: the shortcut
            shortcut = assign._without_persons(assign._of_entities(every, open_entities), taken)
            assert shortcut == free and list(shortcut) == list(free)
            free = shortcut
        free_factors = {k: v for k, v in factors.items() if k[1] not in taken}
        for kind in sorted(set(kinds.values())):
            orders = [o for o in open_entities if kinds[o] == kind]
            grouped = assign._of_entities(free, orders)
            shares = assign._returning_shares(grouped, len(orders), assign.Pool(45))
            posteriors = assign._posteriors(grouped, assign.Pool(45), shares)
            expected, expected_share = _reference(free_factors, orders, 45)
            assert shares == (expected_share, 0.0) and posteriors == expected and list(posteriors) == list(expected)
            all_orders = [o for o in range(300) if kinds[o] == kind]
            assert assign._posteriors(assign._of_entities(every, all_orders), assign.Pool(60), shares) == \
                posteriors_at_share(factors, all_orders, 60, expected_share) == \
                _reference_at(factors, all_orders, 60, expected_share)


def _reference_two_groups(factors: dict, orders: list[int], n_persons: int, without: set) -> tuple[dict, tuple]:
    """The mixture with a returning share per group of persons (an address on record or not), written
    out plainly: EM recomputing every posterior in every iteration, the prior's returning weight split
    by group size."""
    wanted = set(orders)
    pairs = {key: 2.0 ** min(log2, 200.0) for key, (log2, _) in factors.items() if key[0] in wanted}
    sizes = (n_persons - len(without), len(without))
    prior = tuple(SHARE_PRIOR[0] * size / n_persons for size in sizes)
    shares = tuple(p / sum(SHARE_PRIOR) for p in prior)

    def posteriors_at(shares):
        weight = lambda person: shares[person in without] / sizes[person in without]  # noqa: E731
        denominators = {}
        for (order, person), factor in pairs.items():
            denominators[order] = denominators.get(order, 1 - sum(shares)) + weight(person) * factor
        return {(order, person): weight(person) * factor / denominators[order] for (order, person), factor in pairs.items()}

    for _ in range(200):
        posteriors = posteriors_at(shares)
        new = tuple((sum(p for (_, person), p in posteriors.items() if (person in without) == group) + prior[group])
                    / (len(orders) + sum(SHARE_PRIOR)) for group in (False, True))
        if max(abs(a - b) for a, b in zip(new, shares)) < 1e-7:
            break
        shares = new
    return posteriors_at(shares), shares


def test_a_returning_share_per_group_of_persons_equals_the_mixture_written_out():
    for seed in range(4):
        rng = random.Random(200 + seed)
        factors = _factors(rng, contiguous=seed % 2 == 0)
        orders = sorted(rng.sample(range(300), 200))
        without = {f"P{i}" for i in rng.sample(range(60), 12)}
        pool = assign.Pool(60, frozenset(without))
        grouped = assign._by_entity(factors, set(orders))
        shares = assign._returning_shares(grouped, len(orders), pool)
        expected, expected_shares = _reference_two_groups(factors, orders, 60, without)
        assert shares == pytest.approx(expected_shares, rel=1e-6)
        assert assign._posteriors(grouped, pool, shares) == pytest.approx(expected, rel=1e-6, abs=1e-12)
        posteriors, share = match_posteriors(factors, orders, 60, frozenset(without))
        assert share == pytest.approx(sum(expected_shares), rel=1e-6)


def test_persons_without_an_address_who_come_back_more_often_get_the_higher_posterior():
    """Equal evidence, unequal groups: among 1,000 free persons the 50 without an address are behind half
    of the unresolved responses, so the same Bayes factor means more for one of them than for one with an
    address; with one share for all both got the same (low) posterior."""
    without = frozenset(f"N{i}" for i in range(50))
    factors = {}
    for order in range(100):  # half the responses: clearly someone without an address
        factors[(order, f"N{order % 50}")] = (14.0, "w1:x")
    for order in range(100, 200):  # the rest: weak look-alikes among those with an address
        factors[(order, f"A{order}")] = (2.0, "w1:y")
    factors[(200, "N7")] = (8.0, "w1:z")
    factors[(200, "A7")] = (8.0, "w1:z")
    posteriors, share = match_posteriors(factors, list(range(201)), 1000, without)
    one_pool, _ = match_posteriors(factors, list(range(201)), 1000)
    assert posteriors[(200, "N7")] > 10 * posteriors[(200, "A7")]
    assert one_pool[(200, "N7")] == one_pool[(200, "A7")]
    assert posteriors[(0, "N0")] > one_pool[(0, "N0")]
