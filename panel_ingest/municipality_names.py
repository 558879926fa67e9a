"""Municipality names as people type them, mapped to the 2024 code (the `ref_municipality_names` seed).

Respondents write SSB's name (`Trondheim - Tråante`, `Våler (Viken)`), the 2024 name, the short name
(`Trondheim`) or one of the parallel Sami/Kven names (`Tråante`), in any case and spacing. Every variant
is reduced to a matching key (`name_key`: lower case, all white space removed, the same as the dbt macro
`normalise_label`) and written to `dbt_project/seeds/reference/ref_municipality_names.csv`, which both
ingest (to validate a cell) and dbt staging (to resolve it) read, so they never disagree. A key that
fits more than one municipality (`Herøy`, `Våler`) is kept with `kommune_code_2024` empty and
`n_candidates` > 1: ambiguous, so the cell is set missing with an audit record.

Regenerate after changing `ref_municipalities.csv`: `python -m panel_ingest.municipality_names`
(a test fails while the committed seed is out of date).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from panel_ingest.paths import REFERENCE_DIR

MUNICIPALITIES_SEED = REFERENCE_DIR / "ref_municipalities.csv"
NAMES_SEED = REFERENCE_DIR / "ref_municipality_names.csv"
NAME_COLUMNS = ["name_key", "kommune_code_2024", "n_candidates"]
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_COUNTY_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")


def normalise_label(text: str | None) -> str | None:
    """Matching key of a typed label: lower case with every space (incl. no-break spaces) removed."""
    if text is None:
        return None
    key = _SPACES.sub("", str(text)).lower()
    return key or None


def name_variants(row: dict[str, str]) -> set[str]:
    """Every name of one municipality a respondent may type (SSB 2023 and 2024 names, short name,
    each part of a parallel name, each name without its county suffix)."""
    names = {row["kommune_name"], row["kommune_name_2024"], row["name_short"]}
    for name in list(names):
        names.add(_COUNTY_SUFFIX.sub("", name))
        names.update(part for part in name.split(" - "))
    return {n.strip() for n in names if n and n.strip()}


def name_index(municipalities: list[dict[str, str]]) -> dict[str, set[str]]:
    """Matching key -> the 2024 codes it may mean."""
    index: dict[str, set[str]] = {}
    for row in municipalities:
        for variant in name_variants(row):
            index.setdefault(normalise_label(variant), set()).add(row["kommune_code_2024"])
    return index


def names_seed_text(municipalities: list[dict[str, str]]) -> str:
    """The seed's CSV text, sorted by key."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NAME_COLUMNS)
    for key, codes in sorted(name_index(municipalities).items()):
        writer.writerow([key, next(iter(codes)) if len(codes) == 1 else "", len(codes)])
    return out.getvalue()


def read_municipalities(path: Path = MUNICIPALITIES_SEED) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    NAMES_SEED.write_text(names_seed_text(read_municipalities()), encoding="utf-8")
    print(f"wrote {NAMES_SEED}")


if __name__ == "__main__":
    main()
