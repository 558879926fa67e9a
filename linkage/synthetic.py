"""Synthetic panel in the staging shape, with known truth, for linkage tests and the benchmark.

Not the project's data generator (`synthetic_panel` writes raw provider files); this builds the two
staging relations linkage reads directly, with every kind of linkage mess at a tunable rate:
ignored tokens, address typos, changed and missing addresses, family addresses, duplicate submissions,
people who skip a wave, and small slips in the stable answers.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pandas as pd

from panel_ingest.pseudonymise import email_bloom, email_hash

KEY = b"synthetic-linkage-key"
WAVES = (("w1_2022", 1, datetime(2022, 6, 1)), ("w2_2023", 2, datetime(2023, 5, 2)), ("w3_2024", 3, datetime(2024, 9, 16)),
         ("w4_2025", 4, datetime(2025, 9, 15)))
# Wave in which a person first answers, by number of waves (most join in the first).
FIRST_WAVE_WEIGHTS = {3: [70, 20, 10], 4: [62, 18, 10, 10]}
OBLASTS = ["UA-05", "UA-07", "UA-09", "UA-12", "UA-14", "UA-18", "UA-21", "UA-23", "UA-26", "UA-30", "UA-32",
           "UA-35", "UA-46", "UA-48", "UA-51", "UA-53", "UA-56", "UA-59", "UA-61", "UA-63", "UA-65", "UA-68"]
KOMMUNER = ["0301", "1103", "4601", "5001", "3201", "3205", "1108", "3301", "5501", "4204", "3907", "1506"]
DOMAINS = ["gmail.com", "ukr.net", "outlook.com", "i.ua", "yahoo.com", "meta.ua"]
STAGING_RESPONSE_COLUMNS = {
    "wave_id": "VARCHAR", "wave_number": "INTEGER", "layout": "VARCHAR", "source_file": "VARCHAR",
    "row_number": "INTEGER", "response_id": "VARCHAR", "submitted_at": "TIMESTAMP", "is_complete": "BOOLEAN",
    "gender": "VARCHAR", "birth_year": "INTEGER", "oblast_iso": "VARCHAR", "arrival_month": "DATE",
    "kommune_code_2024": "VARCHAR", "children_in_norway": "INTEGER", "language": "VARCHAR",
    "partner_location": "VARCHAR", "country_now": "VARCHAR", "macro_region": "VARCHAR", "left_month": "DATE",
    "aspiration": "VARCHAR", "aspiration_coarse": "VARCHAR",
    "token": "VARCHAR", "email_hash": "VARCHAR", "email_bloom": "VARCHAR", "consent": "BOOLEAN",
}
STAGING_INVITATION_COLUMNS = {"wave_id": "VARCHAR", "token": "VARCHAR", "email_hash": "VARCHAR",
                              "email_bloom": "VARCHAR", "invited_at": "TIMESTAMP", "source_wave": "VARCHAR"}


@dataclass(frozen=True)
class MessRates:
    """Probabilities of each kind of mess at mess factor 1.0."""

    token_ignored: float = 0.10
    address_typo: float = 0.06
    address_changed: float = 0.05
    address_missing: float = 0.03
    family_address: float = 0.05
    duplicate_submission: float = 0.03
    birth_year_slip: float = 0.02

    def scaled(self, factor: float) -> "MessRates":
        return MessRates(**{k: min(0.5, v * factor) for k, v in self.__dict__.items()})


@dataclass
class Population:
    responses: pd.DataFrame
    invitations: pd.DataFrame
    truth: pd.DataFrame  # wave_id, response_id, person_id


def _typo(rng: random.Random, address: str) -> str:
    local, _, domain = address.partition("@")
    if rng.random() < 0.5 and len(local) > 2:
        i = rng.randrange(len(local) - 1)
        local = local[:i] + local[i + 1] + local[i] + local[i + 2:]
    else:
        domain = {"gmail.com": "gmial.com", "ukr.net": "ukr.ner"}.get(domain, domain.replace(".", ",", 1))
    return f"{local}@{domain}"


def _display(rng: random.Random, address: str) -> str:
    """How a respondent types an address: sometimes capitals, spaces or a trailing dot."""
    choice = rng.random()
    return address.upper() if choice < 0.05 else f" {address} " if choice < 0.1 else f"{address}." if choice < 0.13 else address


class _Builder:
    def __init__(self, n_persons: int, seed: int, rates: MessRates, n_waves: int = 3):
        self.rng = random.Random(seed)
        self.waves = WAVES[:n_waves]
        self.rates = rates
        self.n_persons = n_persons
        self.responses: list[dict] = []
        self.invitations: list[dict] = []
        self.truth: list[tuple] = []
        self.consented: dict[str, list[str]] = {}  # wave_id -> addresses given with consent
        self.encoded: dict[str, tuple] = {}

    def encode(self, typed: str | None) -> tuple:
        if typed is None:
            return None, None
        if typed not in self.encoded:
            self.encoded[typed] = (email_hash(typed, KEY), email_bloom(typed, KEY))
        return self.encoded[typed]

    def person(self, number: int) -> dict:
        rng = self.rng
        local = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 10))) + str(rng.randint(1, 99))
        return {
            "person": f"T{number:07d}", "gender": rng.choice(["female"] * 7 + ["male"] * 3),
            "birth_year": rng.randint(1950, 2005), "oblast_iso": rng.choice(OBLASTS),
            "arrival_month": datetime(2022, rng.randint(3, 12), 1).date(), "kommune": rng.choice(KOMMUNER),
            "children": rng.choice([0, 0, 1, 1, 2, 3]), "address": f"{local}@{rng.choice(DOMAINS)}",
            "first_wave": rng.choices(range(1, len(self.waves) + 1), weights=FIRST_WAVE_WEIGHTS[len(self.waves)])[0],
            "language": rng.choice(["uk", "uk", "ru"]), "partner": rng.choice(["norway", "ukraine", "none"]),
        }

    def spouse_of(self, number: int, partner: dict) -> dict:
        spouse = self.person(number)
        spouse.update(gender="male" if partner["gender"] == "female" else "female",
                      birth_year=partner["birth_year"] + self.rng.choice([-6, -4, -3, 2, 3, 5]),
                      address=partner["address"], oblast_iso=partner["oblast_iso"],
                      arrival_month=partner["arrival_month"], kommune=partner["kommune"],
                      first_wave=partner["first_wave"], spouse=True)
        return spouse

    def response_id(self, wave_number: int) -> str:
        n = len(self.responses) + 1
        if wave_number == 2:
            return "R_" + "".join(self.rng.choices(string.ascii_letters + string.digits, k=15))
        return str(100000 * wave_number + n)

    def add_response(self, person: dict, wave: tuple, token: str | None, typed: str | None, complete=True):
        rng, rates = self.rng, self.rates
        wave_id, wave_number, start = wave
        hashed, bloom = self.encode(typed)
        year = person["birth_year"] + (rng.choice([-1, 1]) if rng.random() < rates.birth_year_slip else 0)
        kommune = person["kommune"] if rng.random() < 0.8 else rng.choice(KOMMUNER)
        row = {
            "wave_id": wave_id, "wave_number": wave_number, "layout": f"w{wave_number}",
            "source_file": f"survey/{wave_id}/responses", "row_number": len(self.responses) + 1,
            "response_id": self.response_id(wave_number),
            "submitted_at": start + timedelta(minutes=rng.randint(0, 60 * 24 * 40)), "is_complete": complete,
            "gender": person["gender"], "birth_year": year, "oblast_iso": person["oblast_iso"],
            "arrival_month": person["arrival_month"], "kommune_code_2024": kommune,
            "children_in_norway": max(0, person["children"] + (rng.choice([-1, 1]) if rng.random() < 0.15 else 0)),
            "language": person["language"], "partner_location": person["partner"],
            "country_now": "norway", "token": token, "email_hash": hashed, "email_bloom": bloom, "consent": True,
        }
        self.responses.append(row)
        self.truth.append((wave_id, row["response_id"], person["person"]))
        if typed is not None:
            self.consented.setdefault(wave_id, []).append(typed)
        return row

    def typed_address(self, person: dict) -> str | None:
        rng, rates = self.rng, self.rates
        draw = rng.random()
        if draw < rates.address_missing:
            return None
        if draw < rates.address_missing + rates.address_typo:
            return _display(rng, _typo(rng, person["address"]))
        if draw < rates.address_missing + rates.address_typo + rates.address_changed:
            person["address"] = person["address"].split("@")[0][::-1] + "@" + rng.choice(DOMAINS)
        return _display(rng, person["address"])

    def invite(self, wave: tuple) -> dict[str, str]:
        """One token per distinct address given with consent in any earlier wave."""
        wave_id, wave_number, start = wave
        tokens = {}
        for source_wave, addresses in sorted(self.consented.items()):
            for typed in addresses:
                hashed, bloom = self.encode(typed)
                if hashed in tokens:
                    continue
                token = "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=12))
                tokens[hashed] = token
                self.invitations.append({"wave_id": wave_id, "token": token, "email_hash": hashed,
                                         "email_bloom": bloom, "invited_at": start, "source_wave": source_wave})
        return tokens

    def respond(self, person: dict, wave: tuple, tokens: dict[str, str], first: bool) -> None:
        rng, rates = self.rng, self.rates
        token = tokens.get(self.encode(person.get("given"))[0]) if person.get("given") else None
        if first or token is None or rng.random() < rates.token_ignored:
            typed = self.typed_address(person)
            person["given"] = person.get("given") or typed
            submitted = [(None, typed)]
        else:
            submitted = [(token, None)]
        if rng.random() < rates.duplicate_submission:
            submitted = [submitted[0], submitted[0]]
        for i, (tok, typed) in enumerate(submitted):
            self.add_response(person, wave, tok, typed, complete=(i == len(submitted) - 1) or rng.random() < 0.5)

    def build(self) -> Population:
        people = []
        for number in range(self.n_persons):
            if people and not people[-1].get("spouse") and self.rng.random() < self.rates.family_address:
                people.append(self.spouse_of(number, people[-1]))
            else:
                people.append(self.person(number))
        for wave in self.waves:
            tokens = self.invite(wave) if wave[1] > 1 else {}
            for person in people:
                joined = person["first_wave"] < wave[1] and person.get("seen")
                if person["first_wave"] == wave[1] or (joined and self.rng.random() < 0.6):
                    self.respond(person, wave, tokens, first=not person.get("seen"))
                    person["seen"] = True
        return Population(pd.DataFrame(self.responses), pd.DataFrame(self.invitations),
                          pd.DataFrame(self.truth, columns=["wave_id", "response_id", "person_id"]))


def build_population(n_persons: int, seed: int = 7, mess: float = 1.0, waves: int = 3) -> Population:
    """A panel of `waves` waves (3 or 4) of about `n_persons` people with mess at `mess` times the
    default rates."""
    if waves not in FIRST_WAVE_WEIGHTS:
        raise ValueError(f"waves must be one of {sorted(FIRST_WAVE_WEIGHTS)}")
    return _Builder(n_persons, seed, MessRates().scaled(mess), waves).build()


def write_staging(con: duckdb.DuckDBPyConnection, responses: pd.DataFrame, invitations: pd.DataFrame) -> None:
    """Create `staging.stg_survey__responses` / `stg_survey__invitations` as plain tables (tests, bench)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    for name, columns, frame in (("stg_survey__responses", STAGING_RESPONSE_COLUMNS, responses),
                                 ("stg_survey__invitations", STAGING_INVITATION_COLUMNS, invitations)):
        con.execute(f"DROP TABLE IF EXISTS staging.{name}")
        con.execute(f"CREATE TABLE staging.{name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        if frame is not None and not frame.empty:
            present = frame.reindex(columns=list(columns)).astype(object)
            con.register("staging_frame", present.where(present.notna(), None))
            con.execute(f"INSERT INTO staging.{name} SELECT * FROM staging_frame")
            con.unregister("staging_frame")
