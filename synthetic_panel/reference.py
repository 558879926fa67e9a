"""Reference code lists the generator draws from (the project's own seeds, so a fresh clone has them)."""
from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "reference"
# The municipalities the generator draws its respondents from, with a settlement type that is the
# generator's own modelling choice (not an official attribute, so not in the warehouse's seeds).
SAMPLE_MUNICIPALITIES = Path(__file__).resolve().parent / "data" / "synthetic_sample_municipalities.csv"


@dataclass(frozen=True)
class Oblast:
    iso_code: str
    number: int
    name_en: str
    name_uk: str
    name_ru: str
    macro_region: str

    def label(self, language: str) -> str:
        """The oblast's label in a questionnaire language (English for `en` and `nb`)."""
        return {"uk": self.name_uk, "ru": self.name_ru}.get(language, self.name_en)


@dataclass(frozen=True)
class Municipality:
    """One municipality with the names people type: SSB's (`kommune_name`), the 2024 one and the short one."""

    name: str
    code_2020: str
    fylke_2020: str
    code_2024: str
    fylke_2024: str
    name_2024: str
    name_short: str
    settlement: str = ""


@dataclass(frozen=True)
class County:
    code: str
    name: str
    valid_from: str
    valid_to: str
    region_code: str


def _rows(name: str | Path) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def oblasts() -> tuple[Oblast, ...]:
    """Ukrainian oblasts in file order."""
    return tuple(
        Oblast(r["iso_code"], int(r["number"]), r["name_en"], r["name_uk"], r["name_ru"], r["macro_region"])
        for r in _rows("ref_oblasts.csv")
    )


@lru_cache(maxsize=1)
def all_municipalities() -> tuple[Municipality, ...]:
    """Every municipality of the 2020-2023 geography (the seed's file order); Haram, which has no code
    before 2024, is left out because w1 and w2 respondents name the 2020-2023 municipality."""
    return tuple(
        Municipality(r["kommune_name"], r["kommune_code_2020"], r["fylke_code_2020"], r["kommune_code_2024"],
                     r["fylke_code_2024"], r["kommune_name_2024"], r["name_short"])
        for r in _rows("ref_municipalities.csv") if r["kommune_code_2020"]
    )


@lru_cache(maxsize=1)
def municipalities() -> tuple[Municipality, ...]:
    """The generator's sample of municipalities (file order), with the seed's names and a settlement type."""
    by_code = {m.code_2024: m for m in all_municipalities()}
    return tuple(
        replace(by_code[r["kommune_code_2024"]], settlement=r["settlement"]) for r in _rows(SAMPLE_MUNICIPALITIES)
    )


def municipality_by_code(code_2024: str) -> Municipality:
    return next(m for m in all_municipalities() if m.code_2024 == code_2024)


@lru_cache(maxsize=1)
def ambiguous_short_names() -> frozenset[str]:
    """Short names shared by two municipalities (`Herøy`, `Våler`): typing one alone names neither."""
    counts: dict[str, int] = {}
    for m in all_municipalities():
        counts[m.name_short] = counts.get(m.name_short, 0) + 1
    return frozenset(name for name, n in counts.items() if n > 1)


@lru_cache(maxsize=1)
def counties() -> tuple[County, ...]:
    """Counties before and after the 2024 reform, in file order."""
    return tuple(
        County(r["fylke_code"], r["fylke_name"], r["valid_from"], r["valid_to"], r["region_code"])
        for r in _rows("ref_counties.csv")
    )


def counties_valid_on(iso_date: str) -> list[County]:
    """The counties whose validity interval contains the date (`YYYY-MM-DD`)."""
    return [c for c in counties() if c.valid_from <= iso_date and (not c.valid_to or iso_date <= c.valid_to)]


def oblast_by_iso(iso_code: str) -> Oblast:
    return next(o for o in oblasts() if o.iso_code == iso_code)


def sample_code(sample_name: str) -> str:
    """2024 code of a municipality of the sample file, by the name that file gives it."""
    return next(r["kommune_code_2024"] for r in _rows(SAMPLE_MUNICIPALITIES) if r["kommune_name"] == sample_name)
