"""The codebook and reference seeds (metadata as code), read by ingest and the pandera schemas.

The same CSV files are dbt seeds, so dbt and Python never disagree about waves, variables and codes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from panel_ingest.paths import CODEBOOK_DIR, REFERENCE_DIR

WAVE_COLUMNS = ["wave_id", "wave_number", "wave_year", "layout", "field_start", "field_end", "fielded_label"]
VARIABLE_COLUMNS = ["layout", "source_variable", "concept", "value_type", "min_value", "max_value", "required",
                    "description"]
# Added later; a codebook folder without them (an older copy) reads them as blank.
VARIABLE_BOUND_COLUMNS = ["bounds_relative_to", "earliest_month", "not_before_concept", "not_after_concept"]
MUNICIPALITY_COLUMNS = ["kommune_name", "kommune_code_2024", "kommune_name_2024", "name_short", "note"]
MUNICIPALITY_NAME_COLUMNS = ["name_key", "kommune_code_2024", "n_candidates"]
VALUE_COLUMNS = ["layout", "concept", "source_value", "concept_value", "label"]


def _read_text_csv(path: Path, columns: list[str], optional: list[str] = ()) -> pd.DataFrame:
    """Read a seed as text (codes like `01` keep their zeros); blank -> None; `optional` columns may be absent."""
    if not path.exists():
        raise FileNotFoundError(f"codebook seed missing: {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"codebook seed {path.name} lacks columns {missing}")
    for column in optional:
        if column not in frame.columns:
            frame[column] = None
    return frame.astype(object).where(frame.notna(), None).replace({"": None})


@dataclass(frozen=True)
class Codebook:
    """Waves, variables and code lists of every survey layout, plus the reference lists ingest checks against."""

    waves: pd.DataFrame
    variables: pd.DataFrame
    values: pd.DataFrame
    oblasts: pd.DataFrame
    municipalities: pd.DataFrame
    municipality_names: pd.DataFrame
    counties: pd.DataFrame

    def layouts(self) -> list[str]:
        """Layouts in codebook order."""
        return list(dict.fromkeys(self.variables["layout"]))

    def layout_variables(self, layout: str) -> pd.DataFrame:
        """The variables of one layout in codebook order; raises KeyError for an unknown layout."""
        rows = self.variables[self.variables["layout"] == layout]
        if rows.empty:
            raise KeyError(f"layout {layout!r} has no rows in codebook_variables.csv")
        return rows.reset_index(drop=True)

    def required_variables(self, layout: str) -> list[str]:
        rows = self.layout_variables(layout)
        return list(rows.loc[rows["required"].str.lower() == "true", "source_variable"])

    def variable_of_concept(self, layout: str, concept: str) -> str | None:
        rows = self.layout_variables(layout)
        hits = rows.loc[rows["concept"] == concept, "source_variable"]
        return hits.iloc[0] if len(hits) else None

    def code_list(self, layout: str, concept: str) -> list[str]:
        """Source values allowed for a `code` concept, from codebook_values.csv."""
        rows = self.values[(self.values["layout"] == layout) & (self.values["concept"] == concept)]
        return list(dict.fromkeys(rows["source_value"]))

    def variable_row(self, layout: str, variable: str) -> dict:
        """One variable's codebook row; KeyError naming the layout and variable if absent."""
        rows = self.layout_variables(layout)
        hit = rows[rows["source_variable"] == variable]
        if hit.empty:
            raise KeyError(f"{variable!r} is not a variable of layout {layout!r} in codebook_variables.csv")
        return hit.iloc[0].to_dict()

    def municipality_name_codes(self) -> dict[str, str | None]:
        """Matching key of every typed municipality name -> its 2024 code (None when ambiguous)."""
        names = self.municipality_names
        return dict(zip(names["name_key"], names["kommune_code_2024"]))

    def wave(self, wave_id: str) -> dict | None:
        """The wave's row from survey_waves.csv, or None for a wave the codebook does not know yet."""
        rows = self.waves[self.waves["wave_id"] == wave_id]
        return None if rows.empty else rows.iloc[0].to_dict()

    def counties_valid_on(self, day: str) -> list[str]:
        """County names valid on an ISO date (valid_from <= day <= valid_to, blank valid_to = still valid)."""
        c = self.counties
        valid = (c["valid_from"] <= day) & (c["valid_to"].isna() | (c["valid_to"] >= day))
        return list(c.loc[valid, "fylke_name"])


def codebook_dir() -> Path:
    """The codebook seed folder; `PANEL_CODEBOOK_DIR` overrides it (to try a new layout before committing it)."""
    override = os.environ.get("PANEL_CODEBOOK_DIR")
    return Path(override) if override else CODEBOOK_DIR


def read_codebook(codebook_folder: Path | None = None, reference_folder: Path | None = None) -> Codebook:
    """Read the codebook and reference seeds from disk (defaults: the dbt seed folders)."""
    cb = Path(codebook_folder) if codebook_folder else codebook_dir()
    ref = Path(reference_folder) if reference_folder else REFERENCE_DIR
    return Codebook(
        waves=_read_text_csv(cb / "survey_waves.csv", WAVE_COLUMNS),
        variables=_read_text_csv(cb / "codebook_variables.csv", VARIABLE_COLUMNS, VARIABLE_BOUND_COLUMNS),
        values=_read_text_csv(cb / "codebook_values.csv", VALUE_COLUMNS),
        oblasts=_read_text_csv(ref / "ref_oblasts.csv", ["iso_code", "number", "name_en", "name_uk", "name_ru"]),
        municipalities=_read_text_csv(ref / "ref_municipalities.csv", MUNICIPALITY_COLUMNS),
        municipality_names=_read_text_csv(ref / "ref_municipality_names.csv", MUNICIPALITY_NAME_COLUMNS),
        counties=_read_text_csv(ref / "ref_counties.csv", ["fylke_name", "valid_from", "valid_to"]),
    )


@lru_cache(maxsize=1)
def default_codebook() -> Codebook:
    """The project's codebook, read once per process."""
    return read_codebook()
