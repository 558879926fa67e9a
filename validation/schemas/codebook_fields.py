"""Translate codebook rows into pandera checks, so code lists and ranges live only in the seeds."""
from __future__ import annotations

from typing import Any

import pandera.pandas as pa

from panel_ingest.codebook import Codebook
from panel_ingest.pseudonymise import BLOOM_BITS, BLOOM_COLUMN, HASH_COLUMN
from validation.schemas.base import Text

ID_VALUE_TYPES = {"integer_id", "text_id"}
EMAIL_HASH_PATTERN = r"^[0-9a-f]{64}$"
EMAIL_BLOOM_PATTERN = rf"^[01]{{{BLOOM_BITS}}}$"
PATTERNS = {
    "integer_id": r"^[0-9]+$",
    "text_id": r"^\S+$",
    "month_yyyy_mm": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
    "month_mm_yyyy": r"^(0[1-9]|1[0-2])/[0-9]{4}$",
    "token": r"^\s*\S{12}\s*$",
}
OBLAST_NOT_SAID = "99"
WAVE_YEAR = "wave_year"


def integer_bounds(row: dict, wave_year: int | None) -> tuple[int, int]:
    """(min, max) of an `integer` variable; offsets from the wave's year when `bounds_relative_to` says so."""
    if row["min_value"] is None or row["max_value"] is None:
        raise ValueError(f"codebook: integer variable {row['layout']}.{row['source_variable']} needs min_value and max_value")
    low, high = int(row["min_value"]), int(row["max_value"])
    relative_to = row.get("bounds_relative_to")
    if relative_to == WAVE_YEAR:
        if wave_year is None:
            raise ValueError(f"codebook: {row['layout']}.{row['source_variable']} has bounds relative to the wave "
                             "year; build its schema for a wave")
        return wave_year + low, wave_year + high
    if relative_to:
        raise ValueError(f"codebook: unknown bounds_relative_to {relative_to!r} for {row['layout']}.{row['source_variable']}")
    return low, high


def _municipality_name_checks(codebook: Codebook) -> dict[str, Any]:
    names = codebook.municipality_names
    ambiguous = names["kommune_code_2024"].isna()
    return {"name_known": {"keys": sorted(names["name_key"])},
            "name_unambiguous": {"ambiguous_keys": sorted(names.loc[ambiguous, "name_key"])}}


def value_checks(codebook: Codebook, layout: str, row: dict, wave_year: int | None = None) -> dict[str, Any]:
    """pandera check options (as Column keyword arguments) for one codebook variable."""
    value_type = row["value_type"]
    if value_type in PATTERNS:
        checks = {"str_matches": PATTERNS[value_type]}
    elif value_type == "timestamp":
        checks = {"timestamp_text": {"not_before": None}}
    elif value_type == "integer":
        low, high = integer_bounds(row, wave_year)
        checks = {"integer_text_between": {"min_value": low, "max_value": high}}
    elif value_type == "code":
        codes = codebook.code_list(layout, row["concept"])
        if not codes:
            raise ValueError(f"codebook: code variable {layout}.{row['source_variable']} has no rows in codebook_values.csv")
        checks = {"isin": codes}
    elif value_type == "flag":
        checks = {"isin": ["1"]}
    elif value_type == "oblast_label_any":
        names = codebook.oblasts[["name_en", "name_uk", "name_ru"]].stack().tolist()
        checks = {"label_in": {"labels": sorted(set(names))}}
    elif value_type == "oblast_label_en":
        checks = {"label_in": {"labels": sorted(set(codebook.oblasts["name_en"]))}}
    elif value_type == "oblast_number":
        checks = {"isin": sorted(set(codebook.oblasts["number"]) | {OBLAST_NOT_SAID}, key=int)}
    elif value_type == "date":
        checks = {"date_text": {"first_of_month": False}}
    elif value_type == "kommune_name":
        checks = _municipality_name_checks(codebook)
    elif value_type == "kommune_code_2024":
        checks = {"code_in_padded": {"codes": sorted(set(codebook.municipalities["kommune_code_2024"]))}}
    else:
        raise ValueError(f"codebook: unknown value_type {value_type!r} for {layout}.{row['source_variable']}")
    if row.get("earliest_month"):
        checks["month_from"] = {"value_type": value_type, "earliest": row["earliest_month"]}
    return checks


def column_options(codebook: Codebook, layout: str, row: dict, wave_year: int | None = None) -> dict[str, Any]:
    """Column options for a codebook variable: nullable unless required, unique for the response id."""
    options = {"nullable": str(row["required"]).lower() != "true", **value_checks(codebook, layout, row, wave_year)}
    if row["value_type"] in ID_VALUE_TYPES:
        options["unique"] = True
    return options


def email_hash_field(nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, str_matches=EMAIL_HASH_PATTERN)


def email_bloom_field(nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, str_matches=EMAIL_BLOOM_PATTERN)


def _check_from_option(name: str, value: Any) -> pa.Check:
    method = getattr(pa.Check, name)
    return method(**value) if isinstance(value, dict) else method(value)


def column_from_codebook(codebook: Codebook, layout: str, row: dict, wave_year: int | None = None) -> pa.Column:
    """A `pa.Column` for one codebook variable (checks from its value type, code list and bounds)."""
    options = column_options(codebook, layout, row, wave_year)
    nullable = options.pop("nullable")
    unique = options.pop("unique", False)
    checks = [_check_from_option(name, value) for name, value in options.items()]
    return pa.Column(Text(), checks=checks, nullable=nullable, unique=unique, coerce=True, name=row["source_variable"])


def _one_email_address(pattern: str) -> pa.Check:
    """The pseudonymised e-mail of a response: a hash/Bloom encoding, not the NOT_AN_ADDRESS marker that
    junk or several addresses in one cell get. Both columns fail with the same reason, audited once."""
    return pa.Check(lambda values: values.str.fullmatch(pattern), name="one_email_address")


def email_columns() -> dict[str, pa.Column]:
    return {
        HASH_COLUMN: pa.Column(Text(), _one_email_address(EMAIL_HASH_PATTERN), nullable=True, coerce=True),
        BLOOM_COLUMN: pa.Column(Text(), _one_email_address(EMAIL_BLOOM_PATTERN), nullable=True, coerce=True),
    }
