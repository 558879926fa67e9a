"""Translate codebook rows into pandera checks, so code lists and ranges live only in the seeds."""
from __future__ import annotations

from typing import Any

import pandera.pandas as pa

from panel_ingest.codebook import Codebook, default_codebook
from panel_ingest.pseudonymise import BLOOM_BITS, BLOOM_COLUMN, HASH_COLUMN

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


def _variable_row(codebook: Codebook, layout: str, variable: str) -> dict:
    rows = codebook.layout_variables(layout)
    hit = rows[rows["source_variable"] == variable]
    if hit.empty:
        raise KeyError(f"{variable!r} is not a variable of layout {layout!r} in codebook_variables.csv")
    return hit.iloc[0].to_dict()


def value_checks(codebook: Codebook, layout: str, row: dict) -> dict[str, Any]:
    """pandera check options (as Field/Column keyword arguments) for one codebook variable."""
    value_type = row["value_type"]
    if value_type in PATTERNS:
        return {"str_matches": PATTERNS[value_type]}
    if value_type == "timestamp":
        return {"timestamp_text": {"not_before": None}}
    if value_type == "integer":
        if row["min_value"] is None or row["max_value"] is None:
            raise ValueError(f"codebook: integer variable {layout}.{row['source_variable']} needs min_value and max_value")
        return {"integer_text_between": {"min_value": int(row["min_value"]), "max_value": int(row["max_value"])}}
    if value_type == "code":
        codes = codebook.code_list(layout, row["concept"])
        if not codes:
            raise ValueError(f"codebook: code variable {layout}.{row['source_variable']} has no rows in codebook_values.csv")
        return {"isin": codes}
    if value_type == "flag":
        return {"isin": ["1"]}
    if value_type == "oblast_label_any":
        names = codebook.oblasts[["name_en", "name_uk", "name_ru"]].stack().tolist()
        return {"label_in": {"labels": sorted(set(names))}}
    if value_type == "oblast_label_en":
        return {"label_in": {"labels": sorted(set(codebook.oblasts["name_en"]))}}
    if value_type == "oblast_number":
        return {"isin": sorted(set(codebook.oblasts["number"]) | {OBLAST_NOT_SAID}, key=int)}
    if value_type == "date":
        return {"date_text": {"first_of_month": False}}
    if value_type == "kommune_name":
        return {"label_in": {"labels": sorted(set(codebook.municipalities["kommune_name"]))}}
    if value_type == "kommune_code_2024":
        return {"isin": sorted(set(codebook.municipalities["kommune_code_2024"]))}
    raise ValueError(f"codebook: unknown value_type {value_type!r} for {layout}.{row['source_variable']}")


def column_options(codebook: Codebook, layout: str, row: dict) -> dict[str, Any]:
    """Field options for a codebook variable: nullable unless required, unique for the response id."""
    options = {"nullable": str(row["required"]).lower() != "true", **value_checks(codebook, layout, row)}
    if row["value_type"] in ID_VALUE_TYPES:
        options["unique"] = True
    return options


def codebook_field(layout: str, variable: str, codebook: Codebook | None = None, **overrides) -> Any:
    """A `pa.Field` for one codebook variable; `overrides` add layout-specific checks (e.g. an id format)."""
    codebook = codebook or default_codebook()
    options = column_options(codebook, layout, _variable_row(codebook, layout, variable))
    options.update(overrides)
    return pa.Field(**options)


def email_hash_field(nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, str_matches=EMAIL_HASH_PATTERN)


def email_bloom_field(nullable: bool = True) -> Any:
    return pa.Field(nullable=nullable, str_matches=EMAIL_BLOOM_PATTERN)


def _check_from_option(name: str, value: Any) -> pa.Check:
    method = getattr(pa.Check, name)
    return method(**value) if isinstance(value, dict) else method(value)


def column_from_codebook(codebook: Codebook, layout: str, row: dict) -> pa.Column:
    """The same options as `codebook_field`, as a `pa.Column` for schemas built at run time."""
    options = column_options(codebook, layout, row)
    nullable = options.pop("nullable")
    unique = options.pop("unique", False)
    checks = [_check_from_option(name, value) for name, value in options.items()]
    return pa.Column(str, checks=checks, nullable=nullable, unique=unique, coerce=True, name=row["source_variable"])


def email_columns() -> dict[str, pa.Column]:
    return {
        HASH_COLUMN: pa.Column(str, pa.Check.str_matches(EMAIL_HASH_PATTERN), nullable=True, coerce=True),
        BLOOM_COLUMN: pa.Column(str, pa.Check.str_matches(EMAIL_BLOOM_PATTERN), nullable=True, coerce=True),
    }
