"""Cells as real exports carry them: municipality names as people type them, and optional-cell defects on
the responses of record of real panel members (each listed in `_truth/defects.csv`).

A defect never sits in a cell that a published figure uses (aspiration, exit reasons, country, completion),
so the figures stay exact while the warehouse must show that one bad answer costs only that cell.
Every wave draws from streams of its own (`streams(kind, wave_id)`), so names and defects leave the rest
of the data set untouched.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from synthetic_panel import config
from synthetic_panel.config import layout_of
from synthetic_panel.people import month_index, month_of
from synthetic_panel.reference import all_municipalities, ambiguous_short_names, municipality_by_code

W1, W2, W3 = config.WAVES
NAME_STREAM, DEFECT_STREAM = 6, 7
# Codes that are not in the layout's list, per concept (rendered verbatim by the writers).
UNKNOWN_CODES = {
    W1: {"gender": 4, "aspiration": 7, "partner": 8, "war_duration": 5},
    W2: {"gender": "Prefer not to answer", "country": 4, "aspiration": 9, "language": "German"},
    W3: {"gender": 4, "aspiration": 8, "country": 7, "language": 9},
}
# Concepts of published figures: never given a defect on a response of record.
PUBLISHED_CONCEPTS = {"aspiration", "country", "reasons"}
# How people name their municipality (short names that are ambiguous are written as SSB does instead).
NAME_STYLES = {"short": 0.55, "ssb": 0.35, "name_2024": 0.10}
NOT_MUNICIPALITIES = ["Sandvika", "Kolbotn", "Lysaker", "Fornebu", "Jessheim", "Nesttun", "Heimdal", "Mjøndalen"]
UNKNOWN_MUNICIPALITY_CODE = "9999"
WAR_STARTED = month_index(2022, 2)


def typed_name(code_2024: str, style: str) -> str:
    municipality = municipality_by_code(code_2024)
    if style == "short" and municipality.name_short not in ambiguous_short_names():
        return municipality.name_short
    return municipality.name_2024 if style == "name_2024" else municipality.name


def spacing_variant(text: str, variant: int) -> str:
    """Case and spacing are not guaranteed: four ways a typed name may come out."""
    return [text.lower(), text.upper(), f" {text}  ", text.replace(" ", "  ") if " " in text else f"{text} "][variant]


def month_text(wave_id: str, index: int) -> str:
    year, month = month_of(index)
    return f"{year:04d}-{month:02d}" if wave_id == W1 else f"{month:02d}/{year:04d}"


class CellDefects:
    """Types the municipality names of a wave and puts optional-cell defects on its responses of record."""

    def __init__(self, streams: Callable[[int, str], np.random.Generator]):
        self.streams = streams

    def apply(self, wave_id: str, panel, mess: float) -> None:
        text_layout = layout_of(wave_id) in (W1, W2)
        rng = self.streams(DEFECT_STREAM, wave_id)
        if text_layout:
            n_ambiguous = self.count("ambiguous_municipality", mess, panel.responses[wave_id])
            ambiguous = self.move_to_ambiguous_places(wave_id, panel, rng, n_ambiguous)
            self.type_names(wave_id, panel.responses[wave_id], mess)
            for row in ambiguous:
                short_name = municipality_by_code(row.answers["kommune"]).name_short
                self.mark(row, "kommune", "ambiguous_municipality", short_name)
        self.defect_records(wave_id, panel, mess, text_layout, rng)

    @staticmethod
    def count(kind: str, mess: float, rows: list) -> int:
        """Records to give a defect of `kind`: the rate, but at least one per wave when there is mess."""
        records = [r for r in rows if r.kind == "record"]
        return max(1, round(config.MESS_RATES[kind] * mess * len(records))) if mess > 0 else 0

    def move_to_ambiguous_places(self, wave_id: str, panel, rng: np.random.Generator, n: int) -> list:
        """Records of people who live in Herøy or Våler (moved there from this wave on, until they move on),
        who will type just that name."""
        records = [r for r in panel.responses[wave_id] if r.kind == "record" and r.answers.get("kommune")]
        places = [m for m in all_municipalities() if m.name_short in ambiguous_short_names()]
        chosen = self.pick(rng, records, n)
        later_waves = list(panel.responses)[list(panel.responses).index(wave_id):]
        for row in chosen:
            person, old = panel.persons[row.person_id], row.answers["kommune"]
            new = places[int(rng.integers(0, len(places)))].code_2024
            for wave in later_waves:
                if wave in person.kommune and person.kommune[wave] != old:
                    break
                if wave in person.kommune:
                    person.kommune[wave] = new
                for response in panel.responses[wave]:
                    if response.person_id == person.person_id and response.answers.get("kommune") == old:
                        response.answers["kommune"] = new
        return chosen

    # ---- names --------------------------------------------------------------------------------------------
    def type_names(self, wave_id: str, rows: list, mess: float) -> None:
        rng = self.streams(NAME_STREAM, wave_id)
        named = [r for r in rows if r.answers.get("kommune")]
        for row in named:
            style = list(NAME_STYLES)[int(rng.choice(len(NAME_STYLES), p=list(NAME_STYLES.values())))]
            row.raw["kommune"] = typed_name(row.answers["kommune"], style)
        n_odd = int(round(config.MESS_RATES["municipality_formatting"] * mess * len(named)))
        for index in sorted(rng.choice(len(named), size=min(n_odd, len(named)), replace=False)) if named else []:
            row = named[int(index)]
            row.raw["kommune"] = spacing_variant(row.raw["kommune"], int(rng.integers(0, 4)))
            row.mess.append("municipality_formatting")

    # ---- defects on records -------------------------------------------------------------------------------
    def defect_records(self, wave_id: str, panel, mess: float, text_layout: bool, rng: np.random.Generator) -> None:
        records = [r for r in panel.responses[wave_id] if r.kind == "record"]
        makers = {
            "record_out_of_range": self.out_of_range, "record_unknown_code": self.unknown_code,
            "unparseable_date": self.unparseable_date, "impossible_date": self.impossible_date,
            "unknown_municipality": self.unknown_municipality, "address_in_free_text": self.address_in_free_text,
        }
        for kind, maker in makers.items():
            maker(wave_id, rng, [r for r in records if not r.defects], self.count(kind, mess, records), text_layout,
                  panel)

    @staticmethod
    def pick(rng: np.random.Generator, rows: list, n: int) -> list:
        n = min(n, len(rows))
        return [rows[int(i)] for i in sorted(rng.choice(len(rows), size=n, replace=False))] if n > 0 else []

    @staticmethod
    def mark(row, concept: str, kind: str, value) -> None:
        row.raw[concept] = value
        row.defects.append((concept, kind))
        row.mess.append(kind)

    def out_of_range(self, wave_id, rng, records, n, text_layout, panel) -> None:
        for row in self.pick(rng, records, n):
            if row.answers.get("children_norway") is not None and rng.random() < 0.4:
                self.mark(row, "children_norway", "out_of_range_value", 99)
            else:
                self.mark(row, "birth_year", "out_of_range_value", 1899)

    def unknown_code(self, wave_id, rng, records, n, text_layout, panel) -> None:
        codes = {c: v for c, v in UNKNOWN_CODES[layout_of(wave_id)].items() if c not in PUBLISHED_CONCEPTS}
        for row in self.pick(rng, records, n):
            options = [c for c in codes if row.answers.get(c) is not None]
            concept = options[int(rng.integers(0, len(options)))]
            self.mark(row, concept, "unknown_code", codes[concept])

    def unparseable_date(self, wave_id, rng, records, n, text_layout, panel) -> None:
        if not text_layout:
            return  # an SPSS date is a number: it parses or is blank
        for row in self.pick(rng, [r for r in records if r.answers.get("arrival") is not None], n):
            year = month_of(row.answers["arrival"])[0]
            self.mark(row, "arrival", "unparseable_date", f"{year}-13" if wave_id == W1 else f"13/{year}")

    def impossible_date(self, wave_id, rng, records, n, text_layout, panel) -> None:
        """Arrival before the war; in the SPSS layout also (at least once) leaving before arriving."""
        chosen = []
        if not text_layout:
            abroad = [r for r in records if r.answers.get("left") is not None and r.answers.get("arrival") is not None]
            chosen = [(row, "left") for row in self.pick(rng, abroad, 1)]
        in_norway = [r for r in records if r.answers.get("country") == "norway" and r.answers.get("arrival") is not None]
        chosen += [(row, "arrival") for row in self.pick(rng, in_norway, n - len(chosen))]
        for row, concept in chosen:
            if concept == "left":
                month = row.answers["arrival"] - int(rng.integers(1, 4))
            else:
                month = WAR_STARTED - int(rng.integers(2, 12))
            self.mark(row, concept, "impossible_date", month_text(wave_id, month) if text_layout else month)

    def unknown_municipality(self, wave_id, rng, records, n, text_layout, panel) -> None:
        for row in self.pick(rng, [r for r in records if r.answers.get("kommune")], n):
            value = NOT_MUNICIPALITIES[int(rng.integers(0, len(NOT_MUNICIPALITIES)))] if text_layout \
                else UNKNOWN_MUNICIPALITY_CODE
            self.mark(row, "kommune", "unknown_municipality", value)

    def address_in_free_text(self, wave_id, rng, records, n, text_layout, panel) -> None:
        """The respondent's e-mail address typed into the municipality field (privacy path)."""
        if not text_layout:
            return
        for row in self.pick(rng, [r for r in records if r.answers.get("kommune")], n):
            address = row.answers.get("email") or panel.persons[row.person_id].email
            self.mark(row, "kommune", "address_in_free_text", address)
