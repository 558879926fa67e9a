"""Run a pandera schema lazily over raw text rows and turn its failure cases into quarantine entries."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from panel_ingest.errors import UnreadableFileError
from panel_ingest.pseudonymise import BLOOM_COLUMN, HASH_COLUMN

QUARANTINE_COLUMNS = ["row_number", "column_name", "reason"]
MAX_SHOWN_VALUE = 80
MAX_SHOWN_CHOICES = 20


@dataclass
class ValidationResult:
    """Rows that passed and one entry per failing cell (`row_number`, `column_name`, `reason`)."""

    valid: pd.DataFrame
    failures: pd.DataFrame

    @property
    def failed_rows(self) -> list[int]:
        return sorted(set(self.failures["row_number"]))


def _choices(values) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:MAX_SHOWN_CHOICES])
    return f"one of [{shown}{', ...' if len(values) > MAX_SHOWN_CHOICES else ''}] ({len(values)} values)"


def expected_text(check: pa.Check | None, check_name: str) -> str:
    """What the failing check expected, in words, with the allowed values or range."""
    stats = dict(check.statistics or {}) if check is not None else {}
    if check_name == "not_nullable":
        return "a value (required variable)"
    if check_name in ("field_uniqueness", "multiple_fields_uniqueness"):
        return "a value not repeating an earlier row of the file"
    if check_name.startswith("dtype"):
        return "text"
    if check is None:
        return check_name
    name = check.name
    if name == "isin":
        return _choices(stats.get("allowed_values", []))
    if name == "label_in":
        return _choices(stats["labels"]) + ", case and spacing ignored"
    if name == "str_matches":
        return f"text matching {stats.get('pattern')!s}"
    if name == "integer_text_between":
        return f"an integer from {stats['min_value']} to {stats['max_value']}"
    if name == "timestamp_text":
        text = "a date-time YYYY-MM-DD HH:MM:SS"
        if stats.get("not_before"):
            text += f" not before the field start {stats['not_before']} (earlier = test submission)"
        return text
    if name == "date_text":
        return "a date YYYY-MM-DD"
    return str(check)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[:MAX_SHOWN_VALUE] + "...'"


def _check_object(schema: pa.DataFrameSchema, column: str, check_number) -> pa.Check | None:
    if column in schema.columns and check_number is not None and not pd.isna(check_number):
        checks = schema.columns[column].checks
        if 0 <= int(check_number) < len(checks):
            return checks[int(check_number)]
    return None


def _reason(schema: pa.DataFrameSchema, case: dict) -> str:
    check_name = str(case["check"])
    check = _check_object(schema, case["column"], case["check_number"])
    label = check.name if check is not None else check_name
    return f"{label}: got {_shown(case['failure_case'])}, expected {expected_text(check, check_name)}"


def validate_rows(frame: pd.DataFrame, schema: pa.DataFrameSchema, source_file: str,
                  column_labels: dict[str, str] | None = None) -> ValidationResult:
    """Validate all rows at once (`lazy=True`); file-level failures (missing/extra columns) raise
    UnreadableFileError, row-level failures become quarantine entries. `column_labels` maps validated
    column names back to source columns (e.g. `email_hash` -> `epost`)."""
    labels = column_labels or {}
    try:
        schema.validate(frame, lazy=True)
        return ValidationResult(frame, pd.DataFrame(columns=QUARANTINE_COLUMNS))
    except SchemaErrors as errors:
        cases = errors.failure_cases
    file_level = cases[cases["index"].isna()]
    if not file_level.empty:
        problems = sorted({f"{c['check']} ({c['failure_case']})" for c in file_level.to_dict("records")})
        raise UnreadableFileError(source_file, f"does not fit its layout: {'; '.join(problems)}")
    entries = [
        {"row_number": int(case["index"]), "column_name": labels.get(case["column"], case["column"]),
         "reason": _reason(schema, case)}
        for case in cases.to_dict("records")
    ]
    failures = (pd.DataFrame(entries, columns=QUARANTINE_COLUMNS)
                .drop_duplicates().sort_values(["row_number", "column_name"]).reset_index(drop=True))
    valid = frame.drop(index=sorted(set(failures["row_number"])))
    return ValidationResult(valid, failures)


def raw_records(frame: pd.DataFrame, row_numbers: list[int], email_column: str | None) -> dict[int, str]:
    """JSON text of each listed row as delivered, the e-mail column carrying its hash (never the address)."""
    rows = frame.loc[row_numbers]
    if HASH_COLUMN in rows.columns:
        rows = rows.drop(columns=[BLOOM_COLUMN]).rename(columns={HASH_COLUMN: email_column or HASH_COLUMN})
    return {int(n): json.dumps(record, ensure_ascii=False)
            for n, record in zip(rows.index, rows.to_dict("records"))}
