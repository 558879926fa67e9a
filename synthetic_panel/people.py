"""Simulated refugees: who they are (attributes drawn from plausible distributions) and their e-mail addresses."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthetic_panel.reference import all_municipalities, oblast_by_iso, sample_code

# Relative weights of the regions of origin: the east, south and centre were hit hardest.
OBLAST_WEIGHTS = {
    "UA-63": 14, "UA-14": 8, "UA-12": 7, "UA-09": 3, "UA-51": 7, "UA-23": 6, "UA-48": 5, "UA-65": 5,
    "UA-43": 0.5, "UA-40": 0.3, "UA-30": 14, "UA-32": 7, "UA-05": 2, "UA-71": 1.5, "UA-53": 2, "UA-35": 1,
    "UA-74": 3, "UA-59": 2.5, "UA-18": 2, "UA-46": 2, "UA-07": 0.6, "UA-21": 0.5, "UA-26": 0.6, "UA-56": 0.6,
    "UA-61": 0.6, "UA-68": 0.8, "UA-77": 0.5,
}
KOMMUNE_WEIGHTS = {
    "Oslo": 12, "Bergen": 8, "Trondheim": 7, "Stavanger": 5, "Bærum": 5, "Kristiansand": 4, "Drammen": 4,
    "Fredrikstad": 4, "Lillestrøm": 4, "Asker": 3, "Sandnes": 3, "Tromsø": 3, "Bodø": 3, "Ålesund": 3,
    "Tønsberg": 3, "Skien": 3, "Hamar": 2, "Gjøvik": 2, "Halden": 2, "Arendal": 2, "Molde": 2, "Kongsvinger": 2,
    "Klepp": 1.5, "Vågan": 1.5, "Sogndal": 1.5, "Steinkjer": 1.5,
}
# With `--municipalities all` every other municipality gets this weight (the sample holds the big ones).
OTHER_KOMMUNE_WEIGHT = 0.3
WAR_DURATION_WEIGHTS = {1: 0.06, 2: 0.10, 3: 0.30, 4: 0.20, 9: 0.34}
WAR_DURATION_EFFECT = {1: 1.0, 2: 0.5, 3: 0.0, 4: -0.4, 9: -0.1}

FIRST_NAMES_F = ["olena", "iryna", "natalia", "tetiana", "oksana", "svitlana", "yulia", "kateryna", "maria", "anna",
                 "viktoria", "alina", "daria", "halyna", "liudmyla", "nadiia", "larysa", "inna", "olha", "sofiia"]
FIRST_NAMES_M = ["oleksandr", "serhii", "andrii", "volodymyr", "mykola", "ivan", "dmytro", "yurii", "vasyl",
                 "petro", "maksym", "bohdan", "artem", "roman", "taras", "viktor", "ihor", "oleh", "pavlo", "denys"]
SURNAMES = ["kovalenko", "shevchenko", "bondarenko", "tkachenko", "kravchenko", "melnyk", "boyko", "koval",
            "oliinyk", "lysenko", "moroz", "marchenko", "savchenko", "rudenko", "petrenko", "ponomarenko",
            "kovalchuk", "polishchuk", "levchenko", "pavlenko", "karpenko", "tkachuk", "zakharchenko", "kuzmenko",
            "hrytsenko", "sydorenko", "romanenko", "vasylenko", "ivanenko", "yakovenko"]
EMAIL_DOMAINS = {"gmail.com": 0.55, "ukr.net": 0.18, "i.ua": 0.05, "yahoo.com": 0.05, "outlook.com": 0.06,
                 "meta.ua": 0.04, "icloud.com": 0.04, "hotmail.com": 0.03}


def kommune_weights(pool: str) -> dict[str, float]:
    """Where respondents live, as 2024 code -> weight: the 26-municipality `sample`, or `all` of Norway
    (the sample's weights plus a small weight for each other municipality)."""
    weights = {sample_code(name): weight for name, weight in KOMMUNE_WEIGHTS.items()}
    if pool == "all":
        weights |= {m.code_2024: OTHER_KOMMUNE_WEIGHT for m in all_municipalities() if m.code_2024 not in weights}
    elif pool != "sample":
        raise ValueError(f"municipalities must be 'sample' or 'all', got {pool!r}")
    return weights


def month_index(year: int, month: int) -> int:
    """A month as one integer, so months can be added and compared."""
    return year * 12 + month - 1


def month_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


@dataclass
class Person:
    """One refugee followed across waves; wave-dependent facts are dicts keyed by wave id."""

    person_id: str
    entry_wave: str
    gender: str
    birth_year: int
    oblast_iso: str
    language: str
    arrival: int
    kommune: dict[str, str]  # wave id -> 2024 code of the municipality lived in
    children_norway: int
    children_ukraine: bool
    partner: int
    network: bool
    war_duration: int
    email: str
    household_id: str
    relative_of: str | None = None
    score: float = 0.0
    working: dict[str, bool] = field(default_factory=dict)
    aspiration: dict[str, str] = field(default_factory=dict)
    left_month: int | None = None
    destination: str | None = None
    returned_month: int | None = None  # a leaver who came back to Norway (later waves only)
    reasons: dict[int, bool] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    gives_email: dict[str, bool] = field(default_factory=dict)

    def country_at(self, month: int) -> str:
        """Where the person lives in a given month."""
        if self.returned_month is not None and month >= self.returned_month:
            return "norway"
        if self.left_month is not None and month >= self.left_month:
            return self.destination or "ukraine"
        return "norway"


def choose(rng: np.random.Generator, weights: dict):
    """One key of `weights`, drawn with probability proportional to its value."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def draw_birth_year(rng: np.random.Generator, gender: str, reference_year: int) -> int:
    """Adult respondents; the men who came were mostly young (just 18) or older than 60 (martial law)."""
    if gender == "male":
        band = choose(rng, {"young": 0.30, "middle": 0.30, "old": 0.40})
        age = {"young": lambda: rng.integers(18, 25), "middle": lambda: rng.integers(25, 60),
               "old": lambda: rng.integers(60, 81)}[band]()
    elif gender == "female":
        age = int(np.clip(round(rng.normal(40, 12)), 18, 80))
    else:
        age = int(rng.integers(18, 66))
    return reference_year - int(age)


def draw_children_norway(rng: np.random.Generator, gender: str, age: int) -> int:
    if age < 25 or age > 55:
        return int(choose(rng, {0: 0.9, 1: 0.1}))
    if gender == "male":
        return int(choose(rng, {0: 0.4, 1: 0.2, 2: 0.15, 3: 0.2, 4: 0.05}))
    return int(choose(rng, {0: 0.35, 1: 0.35, 2: 0.22, 3: 0.07, 4: 0.01}))


def draw_partner(rng: np.random.Generator, gender: str, age: int) -> int:
    if age < 25:
        return int(choose(rng, {1: 0.15, 2: 0.1, 3: 0.05, 4: 0.7}))
    if gender == "male":
        return int(choose(rng, {1: 0.55, 2: 0.12, 3: 0.03, 4: 0.30}))
    return int(choose(rng, {1: 0.22, 2: 0.38, 3: 0.04, 4: 0.36}))


def draw_language(rng: np.random.Generator, oblast_iso: str) -> str:
    if oblast_by_iso(oblast_iso).macro_region in ("east", "south"):
        return choose(rng, {"uk": 0.45, "ru": 0.45, "en": 0.05, "nb": 0.05})
    return choose(rng, {"uk": 0.78, "ru": 0.12, "en": 0.05, "nb": 0.05})


def make_email(rng: np.random.Generator, gender: str, birth_year: int, taken: set[str]) -> str:
    """A unique, plausible personal address (transliterated name, sometimes with digits)."""
    first = str(rng.choice(FIRST_NAMES_F if gender == "female" else FIRST_NAMES_M))
    last = str(rng.choice(SURNAMES))
    domain = choose(rng, EMAIL_DOMAINS)
    for attempt in range(100):
        pattern = int(rng.integers(0, 4))
        local = [f"{first}.{last}", f"{first}{last}{birth_year % 100:02d}", f"{first[0]}.{last}{birth_year}",
                 f"{last}.{first}{int(rng.integers(1, 999))}"][pattern]
        if attempt:
            local += str(int(rng.integers(1, 9999)))
        address = f"{local}@{domain}"
        if address not in taken:
            taken.add(address)
            return address
    raise RuntimeError("could not draw a unique e-mail address")


def return_propensity(person: Person, reference_year: int) -> float:
    """Systematic part of the wish to return (docs/domain.md: men, young, children in Norway -> stay...)."""
    age = reference_year - person.birth_year
    score = {"male": -0.6, "other": -0.2}.get(person.gender, 0.0)
    score += 0.025 * (age - 40)
    score += -0.7 if person.children_norway > 0 else 0.0
    score += 0.6 if person.children_ukraine else 0.0
    score += {2: 0.9, 1: -0.4}.get(person.partner, 0.0)
    score += 0.35 if person.network else 0.0
    score += WAR_DURATION_EFFECT[person.war_duration]
    return score


def draw_person(rng: np.random.Generator, person_id: str, entry_wave: str, arrival: int, taken: set[str],
                gender_weights: dict[str, float], reference_year: int, kommuner: dict[str, float]) -> Person:
    """A new refugee with independent attributes."""
    gender = choose(rng, gender_weights)
    birth_year = draw_birth_year(rng, gender, reference_year)
    age = reference_year - birth_year
    oblast_iso = choose(rng, OBLAST_WEIGHTS)
    person = Person(
        person_id=person_id,
        entry_wave=entry_wave,
        gender=gender,
        birth_year=birth_year,
        oblast_iso=oblast_iso,
        language=draw_language(rng, oblast_iso),
        arrival=arrival,
        kommune={entry_wave: choose(rng, kommuner)},
        children_norway=draw_children_norway(rng, gender, age),
        children_ukraine=bool(rng.random() < (0.08 if age < 35 else 0.25 if age <= 50 else 0.55)),
        partner=draw_partner(rng, gender, age),
        network=bool(rng.random() < 0.67),
        war_duration=int(choose(rng, WAR_DURATION_WEIGHTS)),
        email=make_email(rng, gender, birth_year, taken),
        household_id=f"H{person_id[1:]}",
    )
    person.score = return_propensity(person, reference_year) + rng.normal(0, 0.9)
    return person


def draw_relative(rng: np.random.Generator, person_id: str, anchor: Person, taken: set[str]) -> Person:
    """A family member of `anchor` answering the same wave: same origin, arrival and municipality."""
    kind = choose(rng, {"spouse": 0.4, "parent_child": 0.4, "sibling": 0.2})
    if kind == "spouse":
        gender = "male" if anchor.gender == "female" else "female"
        birth_year = anchor.birth_year + int(rng.integers(-4, 5))
    elif kind == "parent_child":
        gender = choose(rng, {"female": 0.7, "male": 0.3})
        older = anchor.birth_year > 1975
        birth_year = anchor.birth_year + (-1 if older else 1) * int(rng.integers(22, 32))
    else:
        gender = choose(rng, {"female": 0.6, "male": 0.4})
        birth_year = anchor.birth_year + int(rng.choice([-6, -5, -4, -3, -2, 2, 3, 4, 5, 6]))
    birth_year = int(min(max(birth_year, 1935), 2004))
    if birth_year == anchor.birth_year:
        birth_year += 2 if birth_year < 2000 else -2
    age = 2022 - birth_year
    relative = Person(
        person_id=person_id, entry_wave=anchor.entry_wave, gender=gender, birth_year=birth_year,
        oblast_iso=anchor.oblast_iso, language=anchor.language, arrival=anchor.arrival,
        kommune=dict(anchor.kommune), children_norway=draw_children_norway(rng, gender, age),
        children_ukraine=bool(rng.random() < 0.3), partner=draw_partner(rng, gender, age),
        network=anchor.network, war_duration=int(choose(rng, WAR_DURATION_WEIGHTS)),
        email=make_email(rng, gender, birth_year, taken), household_id=anchor.household_id,
        relative_of=anchor.person_id,
    )
    relative.score = return_propensity(relative, 2022) + rng.normal(0, 0.9)
    return relative
