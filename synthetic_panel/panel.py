"""The clean panel: who answers which wave, from where, and what they say (no mess yet).

Waves 1-3 are drawn from the *core* random stream only, so the calibrated base (responses of record) is the
same whatever the mess level; mess is added afterwards by `synthetic_panel.mess`. Each later wave (w4_2025,
...) has a stream of its own and is drawn after the mess of the waves before it, so adding waves leaves the
files of the earlier ones byte-identical.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from synthetic_panel import config
from synthetic_panel.people import Person, choose, draw_person, draw_relative, month_index

W1, W2, W3 = config.WAVES


def wave_month(wave_id: str) -> int:
    """The month a wave opened (where everyone's country is read)."""
    start = config.field_period(wave_id)[0]
    return month_index(start.year, start.month)

EVERYONE_REASONS = [3, 4, 6, 7, 8, 9, 11]
RETURNED_REASONS = [1, 2, 5, 10]
ONWARD_REASONS = [12, 13, 14]
# Probability that a leaver answering in w3 names a reason (where it is shown).
PREFER_NOT_TO_SAY = "prefer_not_to_say"
W3_REASON_P = {1: 0.4, 2: 0.35, 3: 0.35, 4: 0.25, 5: 0.25, 6: 0.2, 7: 0.25, 8: 0.15, 9: 0.15, 10: 0.15, 11: 0.15,
               12: 0.4, 13: 0.4, 14: 0.2}


@dataclass
class Response:
    """One submitted questionnaire in canonical form; writers turn it into each export's layout.

    `answers` maps concepts to canonical values (None = blank); `raw` holds verbatim values that replace
    a concept's rendering (mess such as out-of-range values or odd label spelling).
    """

    wave_id: str
    person_id: str
    submitted: dt.datetime
    complete: bool
    channel: str
    kind: str
    answers: dict[str, object]
    raw: dict[str, object] = field(default_factory=dict)
    mess: list[str] = field(default_factory=list)
    token: str | None = None
    response_id: str = ""
    copy_of: "Response | None" = None
    defects: list[tuple[str, str]] = field(default_factory=list)  # (concept, kind): optional cells made invalid


@dataclass
class Panel:
    persons: dict[str, Person]
    responses: dict[str, list[Response]]
    relative_pairs: list[tuple[str, str]]
    core: "CoreSimulation"


def scaled(n: float, scale: float) -> int:
    return int(round(n * scale))


def reasons_shown(destination: str) -> list[int]:
    return sorted(EVERYONE_REASONS + (RETURNED_REASONS if destination == "ukraine" else ONWARD_REASONS))


INVITATIONS_SENT = dt.time(10, 0)
# Earlier respondents without an invitation (no address or no consent) who find the open link again.
UNINVITED_RETURN_P = 0.02


def submit_time(rng: np.random.Generator, wave_id: str, earliest: dt.date | None = None,
                channel: str = "open") -> dt.datetime:
    """A submission time in the field period, most answers in the first two weeks.

    Token answers come after the invitations went out (10:00 on the first day of the field period).
    """
    field_start, end = config.field_period(wave_id)
    start = max(field_start, earliest or field_start)
    offset = min(int(rng.exponential(9.0)), (end - start).days)
    day = start + dt.timedelta(days=offset)
    first_hour = 10.5 if channel == "token" and day == field_start else 7
    seconds = int(rng.integers(int(first_hour * 3600), 24 * 3600))
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


def draw_arrival(rng: np.random.Generator, wave_id: str) -> int:
    if wave_id == W1:
        return month_index(2022, int(choose(rng, {2: 0.02, 3: 0.42, 4: 0.28, 5: 0.17, 6: 0.11})))
    if wave_id == W2:
        year = choose(rng, {2022: 0.7, 2023: 0.3})
        return month_index(2022, int(rng.integers(3, 13))) if year == 2022 else month_index(2023, int(rng.integers(1, 6)))
    if wave_id == W3:
        year = choose(rng, {2022: 0.5, 2023: 0.32, 2024: 0.18})
    else:  # later newcomers: mostly recent arrivals
        wave_year = config.wave_year(wave_id)
        year = choose(rng, {y: 1.0 + (y - 2022) for y in range(2022, wave_year + 1)})
    last = config.field_period(wave_id)[0].month if year == config.wave_year(wave_id) else 12
    return month_index(year, int(rng.integers(3 if year == 2022 else 1, last + 1)))


def allocate_table1(rng: np.random.Generator, destinations: list[str], counts: dict[int, int]) -> list[dict[int, bool]]:
    """Reasons per leaver whose column totals are exactly `counts`, respecting who was shown which reason.

    Greedy: each reason goes to the eligible leavers with the fewest reasons so far, so everyone gets one.
    """
    chosen: list[set[int]] = [set() for _ in destinations]
    for code in sorted(counts, key=lambda c: (-counts[c], c)):
        eligible = [i for i, d in enumerate(destinations) if code in reasons_shown(d)]
        order = sorted(eligible, key=lambda i: (len(chosen[i]), rng.random()))
        for i in order[: counts[code]]:
            chosen[i].add(code)
    for i, d in enumerate(destinations):
        if not chosen[i]:  # only at tiny scales, where the rounded counts run out
            chosen[i].add(3)
    return [{c: c in chosen[i] for c in reasons_shown(d)} for i, d in enumerate(destinations)]


def scaled_table1(n_leavers: int, n_ukraine: int, scale: float) -> dict[int, int]:
    n_onward = n_leavers - n_ukraine
    limits = {c: (n_ukraine if c in RETURNED_REASONS else n_onward if c in ONWARD_REASONS else n_leavers)
              for c in config.TABLE1_COUNTS}
    return {c: min(scaled(n, scale), limits[c]) for c, n in config.TABLE1_COUNTS.items()}


def rank_assign(scores: dict[str, float], n_top: int, n_bottom: int) -> dict[str, str]:
    """`top` for the n_top highest scores, `bottom` for the n_bottom lowest, `middle` otherwise (exact counts)."""
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))
    labels = {pid: "middle" for pid in order}
    for pid in order[:n_top]:
        labels[pid] = "top"
    for pid in order[len(order) - n_bottom:] if n_bottom else []:
        labels[pid] = "bottom"
    return labels


class CoreSimulation:
    """Draws the clean panel wave by wave."""

    def __init__(self, scale: float, rng: np.random.Generator, kommuner: dict[str, float],
                 w1_shares: dict[str, float]):
        self.scale = scale
        self.rng = rng
        self.kommuner = kommuner
        self.w1_shares = w1_shares
        self.persons: dict[str, Person] = {}
        self.taken_emails: set[str] = set()
        self.relative_pairs: list[tuple[str, str]] = []
        self.respondents: dict[str, dict[str, str]] = {w: {} for w in config.WAVES}  # person -> channel
        self.scores: dict[str, dict[str, float]] = {w: {} for w in config.WAVES}

    # ---- people -------------------------------------------------------------------------------------------
    def new_id(self) -> str:
        return f"P{len(self.persons) + 1:06d}"

    def add_person(self, wave_id: str, gender_weights: dict[str, float], reference_year: int) -> Person:
        person = draw_person(self.rng, self.new_id(), wave_id, draw_arrival(self.rng, wave_id), self.taken_emails,
                             gender_weights, reference_year, self.kommuner)
        self.persons[person.person_id] = person
        return person

    def add_relative(self, anchor: Person) -> Person:
        relative = draw_relative(self.rng, self.new_id(), anchor, self.taken_emails)
        self.persons[relative.person_id] = relative
        self.relative_pairs.append((anchor.person_id, relative.person_id))
        return relative

    def draw_contact(self, person: Person, wave_id: str, channel: str) -> None:
        """Whether the person leaves an e-mail address and agrees to later surveys."""
        if channel == "token":
            person.gives_email[wave_id] = False
            person.consent[wave_id] = choose(self.rng, {True: 0.9, False: 0.05, None: 0.05})
            return
        pattern = choose(self.rng, {"both": 0.76, "email_only": 0.03, "consent_only": 0.02, "neither": 0.19})
        person.gives_email[wave_id] = pattern in ("both", "email_only")
        person.consent[wave_id] = pattern in ("both", "consent_only")

    def draw_working(self, person: Person, wave_id: str, share: float) -> None:
        earlier = [v for w, v in person.working.items() if w != wave_id]
        if earlier and earlier[-1]:
            person.working[wave_id] = bool(self.rng.random() < 0.85)
        else:
            age = int(wave_id[-4:]) - person.birth_year
            person.working[wave_id] = bool(self.rng.random() < (share if age < 65 else 0.03))

    def move(self, person: Person, wave_from: str, wave_to: str, p_move: float = 0.08) -> None:
        current = person.kommune.get(wave_from) or next(iter(person.kommune.values()))
        person.kommune[wave_to] = choose(self.rng, self.kommuner) if self.rng.random() < p_move else current

    # ---- waves --------------------------------------------------------------------------------------------
    def wave1(self) -> None:
        n_base = scaled(config.W1_COMPLETE_OF_RECORD, self.scale)
        n_pairs = min(scaled(config.FAMILY_PAIRS_W1, self.scale), n_base // 4)
        singles = [self.add_person(W1, {"female": 0.72, "male": 0.265, "other": 0.015}, 2022)
                   for _ in range(n_base - n_pairs)]
        anchors = self.rng.choice(len(singles), size=n_pairs, replace=False)
        for index in sorted(int(i) for i in anchors):
            self.add_relative(singles[index])
        base = [p for p in self.persons.values() if p.entry_wave == W1]
        n_return = round(n_base * self.w1_shares["return_asap"])
        n_stay = round(n_base * self.w1_shares["stay_norway"])
        labels = rank_assign({p.person_id: p.score for p in base}, n_return, n_stay)
        names = {"top": "return_asap", "middle": "uncertain", "bottom": "stay_norway"}
        for person in base:
            person.aspiration[W1] = names[labels[person.person_id]]
            self.scores[W1][person.person_id] = person.score
            self.draw_working(person, W1, 0.10)
            self.draw_contact(person, W1, "open")
            self.respondents[W1][person.person_id] = "open"

    def invited_after_w1(self, person: Person) -> bool:
        return bool(person.gives_email.get(W1) and person.consent.get(W1))

    def leave_before_w2(self) -> None:
        """Exactly the calibrated number of w2 leavers answer by token; some more leave and stay silent."""
        base = [p for p in self.persons.values() if p.entry_wave == W1]
        invited = [p for p in base if self.invited_after_w1(p)]
        n_leavers = min(scaled(config.W2_LEAVERS, self.scale), len(invited))
        responders = self.weighted_sample(invited, n_leavers, lambda p: np.exp(1.2 * p.score))
        n_ukraine = round(n_leavers * config.W2_LEAVERS_TO_UKRAINE / config.W2_LEAVERS)
        by_score = sorted(responders, key=lambda p: (-p.score, p.person_id))
        destinations = ["ukraine"] * n_ukraine + ["other"] * (n_leavers - n_ukraine)
        reasons = allocate_table1(self.rng, destinations, scaled_table1(n_leavers, n_ukraine, self.scale))
        for person, destination, chosen in zip(by_score, destinations, reasons):
            self.set_leaver(person, destination, month_index(2022, 8), month_index(2023, 4))
            person.reasons = chosen
            self.respondents[W2][person.person_id] = "token"
        rest = [p for p in base if p.person_id not in self.respondents[W2]]
        for person in self.weighted_sample(rest, scaled(0.05 * len(base), 1.0), lambda p: np.exp(0.9 * p.score)):
            self.set_leaver(person, choose(self.rng, {"ukraine": 0.8, "other": 0.2}),
                            month_index(2022, 8), month_index(2023, 4))

    def set_leaver(self, person: Person, destination: str, first: int, last: int) -> None:
        person.destination = destination
        person.left_month = int(self.rng.integers(max(first, person.arrival + 2), last + 1))

    def weighted_sample(self, people: list[Person], n: int, weight) -> list[Person]:
        if n <= 0 or not people:
            return []
        w = np.array([weight(p) for p in people], dtype=float)
        picks = self.rng.choice(len(people), size=min(n, len(people)), replace=False, p=w / w.sum())
        return [people[int(i)] for i in sorted(picks)]

    def wave2(self) -> None:
        w1_people = [p for p in self.persons.values() if p.entry_wave == W1]
        for person in w1_people:
            if person.person_id in self.respondents[W2]:
                continue
            if person.left_month is not None and person.left_month <= wave_month(W2):
                continue
            if self.invited_after_w1(person):
                if self.rng.random() < 0.50:
                    self.respondents[W2][person.person_id] = "token"
            elif self.rng.random() < UNINVITED_RETURN_P:
                self.respondents[W2][person.person_id] = "open"
        for _ in range(scaled(config.W2_NEWCOMERS, self.scale)):
            person = self.add_person(W2, {"female": 0.68, "male": 0.30, "other": 0.02}, 2023)
            self.respondents[W2][person.person_id] = "open"
        for pid, channel in self.respondents[W2].items():
            person = self.persons[pid]
            if person.entry_wave == W1:
                self.move(person, W1, W2)
            self.draw_working(person, W2, 0.35)
            self.draw_contact(person, W2, channel)
        self.assign_aspirations(W2, config.W2_NORWAY_SHARES, drift=lambda p: -0.3 * p.working[W2],
                                middle={"return_later": 0.35, "move_onward": 0.07, "uncertain": 0.58})

    def assign_aspirations(self, wave_id: str, shares: dict[str, float], drift, middle: dict[str, float]) -> None:
        """Rank the in-Norway respondents' evolving propensity and cut at the calibrated shares."""
        month = wave_month(wave_id)
        scores = {}
        for pid in self.respondents[wave_id]:
            person = self.persons[pid]
            if person.country_at(month) != "norway":
                continue
            previous = [self.scores[w][pid] for w in self.scores if w != wave_id and pid in self.scores[w]]
            base = previous[-1] if previous else person.score
            scores[pid] = base + drift(person) + self.rng.normal(0, 0.6)
        n = len(scores)
        labels = rank_assign(scores, round(n * shares["return_asap"]), round(n * shares["stay_norway"]))
        for pid in sorted(scores):
            self.scores[wave_id][pid] = scores[pid]
            label = labels[pid]
            self.persons[pid].aspiration[wave_id] = (
                "return_asap" if label == "top" else "stay_norway" if label == "bottom" else choose(self.rng, middle)
            )

    def leave_before_w3(self) -> None:
        in_norway = [p for p in self.persons.values()
                     if p.left_month is None and p.entry_wave in (W1, W2)]
        weight = lambda p: np.exp(0.9 * self.scores[W2].get(p.person_id, p.score))  # noqa: E731
        for person in self.weighted_sample(in_norway, round(0.07 * len(in_norway)), weight):
            self.set_leaver(person, choose(self.rng, {"ukraine": 0.75, "other": 0.25}),
                            month_index(2023, 7), month_index(2024, 8))

    def invitable_for_w3(self, person: Person) -> bool:
        answered_w2 = person.person_id in self.respondents[W2]
        if answered_w2 and person.consent.get(W2) is False:
            return False
        if self.invited_after_w1(person):
            return True
        return bool(answered_w2 and person.gives_email.get(W2) and person.consent.get(W2))

    def wave3(self) -> None:
        for person in list(self.persons.values()):
            pid = person.person_id
            abroad = person.country_at(wave_month(W3)) != "norway"
            if self.invitable_for_w3(person):
                answered_w2 = pid in self.respondents[W2]
                if abroad:
                    p = 0.35 if answered_w2 else 0.2
                elif person.entry_wave == W1:
                    p = 0.55 if answered_w2 else 0.22
                else:
                    p = 0.45
                if self.rng.random() < p:
                    self.respondents[W3][pid] = "token"
            elif not abroad and self.rng.random() < UNINVITED_RETURN_P:
                self.respondents[W3][pid] = "open"
        for _ in range(scaled(config.W3_NEWCOMERS, self.scale)):
            person = self.add_person(W3, {"female": 0.66, "male": 0.32, "other": 0.02}, 2024)
            self.respondents[W3][person.person_id] = "open"
        for pid, channel in self.respondents[W3].items():
            person = self.persons[pid]
            if person.entry_wave != W3:
                self.move(person, W2 if W2 in person.kommune else W1, W3)
            self.draw_working(person, W3, 0.55)
            self.draw_contact(person, W3, channel)
            if person.country_at(wave_month(W3)) != "norway" and not person.reasons:
                person.reasons = self.draw_reasons(person.destination)
        self.assign_aspirations(W3, config.W3_NORWAY_SHARES,
                                drift=lambda p: -0.5 * (p.gender == "male") - 0.2 * p.working[W3],
                                middle={"return_later": 0.35, "move_onward": 0.08, "uncertain": 0.57})

    # ---- waves after w3 -------------------------------------------------------------------------------------
    def invitable(self, person: Person, wave_id: str) -> bool:
        """Invited to `wave_id`: gave an address with consent in an earlier wave and did not withdraw it
        when last answering."""
        answered = [w for w in self.respondents if w != wave_id and person.person_id in self.respondents[w]]
        if not answered or person.consent.get(answered[-1]) is False:
            return False
        return any(person.gives_email.get(w) and person.consent.get(w) for w in answered)

    def answered_abroad(self, person: Person) -> bool:
        return any(person.person_id in respondents and person.country_at(wave_month(w)) != "norway"
                   for w, respondents in self.respondents.items())

    def later_wave(self, wave_id: str) -> None:
        previous = list(self.respondents)[-1]
        self.respondents[wave_id], self.scores[wave_id] = {}, {}
        month, previous_month = wave_month(wave_id), wave_month(previous)
        panel = [self.persons[pid] for pid in dict.fromkeys(p for r in self.respondents.values() for p in r)]
        # Some who answered abroad came back (and answer from Norway); then new leavers.
        came_back = [p for p in panel if self.answered_abroad(p) and p.returned_month is None]
        n_back = max(1, round(config.LATER_COMEBACK_SHARE * len(came_back))) if came_back else 0
        for person in self.weighted_sample(came_back, n_back, lambda p: 1.0):
            person.returned_month = int(self.rng.integers(max(person.left_month + 2, previous_month + 1), month))
            self.respondents[wave_id][person.person_id] = "token" if self.invitable(person, wave_id) else "open"
        staying = [p for p in panel if p.left_month is None]
        weight = lambda p: np.exp(0.9 * self.latest_score(p))  # noqa: E731
        for person in self.weighted_sample(staying, round(config.LATER_LEAVE_SHARE * len(staying)), weight):
            self.set_leaver(person, choose(self.rng, {"ukraine": 0.7, "other": 0.3}), previous_month + 1, month - 1)
        for person in panel:
            pid = person.person_id
            if pid in self.respondents[wave_id]:
                continue
            abroad = person.country_at(month) != "norway"
            answered_previous = pid in self.respondents[previous]
            if self.invitable(person, wave_id):
                p = (0.3 if answered_previous else 0.15) if abroad else (0.55 if answered_previous else 0.2)
                if self.rng.random() < p:
                    self.respondents[wave_id][pid] = "token"
            elif not abroad and self.rng.random() < UNINVITED_RETURN_P:
                self.respondents[wave_id][pid] = "open"
        year = config.wave_year(wave_id)
        for _ in range(scaled(config.LATER_NEWCOMERS, self.scale)):
            person = self.add_person(wave_id, {"female": 0.64, "male": 0.34, "other": 0.02}, year)
            self.respondents[wave_id][person.person_id] = "open"
        for pid, channel in self.respondents[wave_id].items():
            person = self.persons[pid]
            if person.entry_wave != wave_id:
                back = person.returned_month is not None and previous_month < person.returned_month <= month
                self.move(person, list(person.kommune)[-1], wave_id, p_move=0.5 if back else 0.08)
            self.draw_working(person, wave_id, 0.6)
            self.draw_contact(person, wave_id, channel)
            if person.country_at(month) != "norway" and not person.reasons:
                person.reasons = self.draw_reasons(person.destination)
        self.assign_aspirations(wave_id, config.later_wave_shares(wave_id),
                                drift=lambda p: -0.3 * (p.gender == "male") - 0.2 * p.working[wave_id],
                                middle={"return_later": 0.33, "move_onward": 0.07, "uncertain": 0.60})

    def latest_score(self, person: Person) -> float:
        scores = [self.scores[w][person.person_id] for w in self.scores if person.person_id in self.scores[w]]
        return scores[-1] if scores else person.score

    def draw_reasons(self, destination: str) -> dict[int, bool]:
        shown = reasons_shown(destination)
        chosen = {c: bool(self.rng.random() < W3_REASON_P[c]) for c in shown}
        if not any(chosen.values()):
            chosen[int(self.rng.choice(shown))] = True
        return chosen

    def run(self) -> None:
        self.wave1()
        self.leave_before_w2()
        self.wave2()
        self.leave_before_w3()
        self.wave3()


def record_answers(person: Person, wave_id: str, channel: str) -> dict[str, object]:
    """What the person answers in a wave (canonical values), as a complete response."""
    month = wave_month(wave_id)
    country = person.country_at(month) if wave_id != W1 else "norway"
    in_norway = country == "norway"
    answers: dict[str, object] = {
        "language": person.language,
        "gender": person.gender,
        "birth_year": person.birth_year,
        "oblast": person.oblast_iso,
        "arrival": person.arrival,
        "country": country,
        "kommune": person.kommune.get(wave_id) if in_norway else None,
        "left": person.left_month if not in_norway else None,
        "aspiration": person.aspiration.get(wave_id) if in_norway else None,
        "reasons": dict(person.reasons) if not in_norway else None,
        "children_norway": person.children_norway if in_norway else None,
        "children_ukraine": person.children_ukraine,
        "partner": person.partner,
        "network": person.network,
        "war_duration": person.war_duration,
        "working": person.working.get(wave_id),
        "email": person.email if person.gives_email.get(wave_id) and channel == "open" else None,
        "consent": person.consent.get(wave_id),
    }
    return answers


def record_response(person: Person, wave_id: str, channel: str, rng: np.random.Generator) -> Response:
    """The complete response of record of one respondent in one wave."""
    earliest = None
    if wave_id != W1:
        y, m = divmod(person.arrival, 12)
        earliest = dt.date(y, m + 1, 1)
    answers = record_answers(person, wave_id, channel)
    if config.wave_number(wave_id) >= 3 and rng.random() < 0.01:
        answers["oblast"] = PREFER_NOT_TO_SAY  # a valid answer in the SPSS layout (code 99)
    submitted = submit_time(rng, wave_id, earliest, channel)
    return Response(wave_id, person.person_id, submitted, True, channel, "record", answers)


def simulate_panel(scale: float, rng: np.random.Generator, kommuner: dict[str, float],
                   w1_shares: dict[str, float]) -> Panel:
    """Draw the clean panel of w1-w3: persons and one complete response of record per respondent and wave."""
    core = CoreSimulation(scale, rng, kommuner, w1_shares)
    core.run()
    responses = {wave_id: [record_response(core.persons[pid], wave_id, channel, rng)
                           for pid, channel in core.respondents[wave_id].items()]
                 for wave_id in config.WAVES}
    return Panel(core.persons, responses, core.relative_pairs, core)


def simulate_later_wave(panel: Panel, wave_id: str, rng: np.random.Generator) -> None:
    """Add a wave after w3 (from its own random stream): leavers, comebacks, drifting aspirations."""
    core = panel.core
    core.rng = rng
    core.later_wave(wave_id)
    panel.responses[wave_id] = [record_response(core.persons[pid], wave_id, channel, rng)
                                for pid, channel in core.respondents[wave_id].items()]
