"""Run a pandera schema lazily over raw text rows and turn its failure cases into quarantine entries."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from panel_ingest.errors import UnreadableFileError
from panel_ingest.pseudonymise import BLOOM_COLUMN, HASH_COLUMN

QUARANTINE_COLUMNS = ["row_number", "column_name", "reason", "action"]
ROW_QUARANTINED = "row_quarantined"
CELL_SET_MISSING = "cell_set_missing"
WRONG_FIELD_COUNT = "wrong number of fields"
MAX_SHOWN_CHOICES = 20
# What went wrong, in words, by pandera check name; the reason is `<phrase>: expected <what was expected>`.
# No reason ever quotes the cell: values may hold addresses or other personal data.
PHRASES = {
    "not_nullable": "missing required value",
    "field_uniqueness": "repeated value",
    "multiple_fields_uniqueness": "repeated value",
    "isin": "unknown code",
    "code_in_padded": "unknown code",
    "label_in": "unknown label",
    "str_matches": "wrong format",
    "integer_text_between": "out of range",
    "timestamp_text": "unreadable date-time",
    "date_text": "unreadable date",
    "submitted_from": "test submission before the field start",
    "month_from": "impossible date",
    "one_email_address": "not one e-mail address",
    "name_known": "unknown municipality name",
    "name_unambiguous": "ambiguous municipality name",
    "not_before": "impossible date",
    "not_after": "impossible date",
    "asked_in_norway_only": "not asked",
}


@dataclass
class ValidationResult:
    """Rows loaded (invalid optional cells already None) and one entry per failing cell
    (`row_number`, `column_name`, `reason`, `action`: `row_quarantined` or `cell_set_missing`)."""

    valid: pd.DataFrame
    failures: pd.DataFrame

    @property
    def failed_rows(self) -> list[int]:
        """Rows kept out (structural faults)."""
        rows = self.failures.loc[self.failures["action"] == ROW_QUARANTINED, "row_number"]
        return sorted(set(int(n) for n in rows))

    @property
    def missing_cells(self) -> pd.DataFrame:
        """Entries of the cells set missing in loaded rows."""
        return self.failures[self.failures["action"] == CELL_SET_MISSING]


def _choices(values) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:MAX_SHOWN_CHOICES])
    return f"one of [{shown}{', ...' if len(values) > MAX_SHOWN_CHOICES else ''}] ({len(values)} values)"


def expected_text(check: pa.Check | None, check_name: str) -> str:
    """What the failing check expected, in words, with the allowed values or range (never the cell's value)."""
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
    if name == "code_in_padded":
        return f"a 4-digit code in ref_municipalities.csv ({len(stats['codes'])} codes; zeros on the left may be missing)"
    if name == "label_in":
        return _choices(stats["labels"]) + ", case and spacing ignored"
    if name == "name_known":
        return "a municipality name from ref_municipality_names.csv (SSB, short or parallel name; case and spacing ignored)"
    if name == "name_unambiguous":
        return "a name that fits one municipality (add the county, e.g. `Våler (Innlandet)`)"
    if name == "one_email_address":
        return "one address name@domain (junk or several addresses link nobody; the cell is set missing)"
    if name == "str_matches":
        return f"text matching {stats.get('pattern')!s}"
    if name == "integer_text_between":
        return f"an integer from {stats['min_value']} to {stats['max_value']}"
    if name == "timestamp_text":
        return "a date-time YYYY-MM-DD HH:MM:SS"
    if name == "submitted_from":
        return f"a submission on or after the field start {stats['day']} (earlier = test submission)"
    if name == "date_text":
        return "a date YYYY-MM-DD"
    if name == "month_from":
        return f"a month not before {stats['earliest']}"
    return name


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
    return f"{PHRASES.get(label, label)}: expected {expected_text(check, check_name)}"


def month_order_reason(check: str) -> str:
    """Reason of a failed cross-cell check: months `not_before:<concept>` / `not_after:<concept>`, or
    routing `asked_in_norway_only:<concept>`."""
    bound, concept = check.split(":", 1)
    if bound == "asked_in_norway_only":
        return (f"{PHRASES[bound]}: expected no answer when the row's {concept} is not Norway (the question is "
                "asked only in Norway; this cell is set missing)")
    relation = "not before" if bound == "not_before" else "not after"
    return f"{PHRASES[bound]}: expected a month {relation} the row's {concept} (this cell is set missing)"


def _file_level_problem(frame: pd.DataFrame, cases: pd.DataFrame) -> str:
    """Columns missing from or unexpected in the frame, unexpected ones by position (a header is never quoted)."""
    positions = {name: i + 1 for i, name in enumerate(frame.columns)}
    problems = set()
    for case in cases.to_dict("records"):
        if case["check"] == "column_in_schema":
            problems.add(f"column {positions.get(case['failure_case'], '?')} is not a variable of the layout")
        elif case["check"] == "column_in_dataframe":
            problems.add(f"missing column {case['failure_case']}")
        else:
            problems.add(f"{case['check']} failed for the whole file")
    return "; ".join(sorted(problems))


def _entries(cases: pd.DataFrame, schema: pa.DataFrameSchema, labels: dict[str, str]) -> pd.DataFrame:
    entries = [{"row_number": int(case["index"]), "column_name": labels.get(case["column"], case["column"]),
                "source_column": case["column"], "reason": _reason(schema, case)}
               for case in cases.to_dict("records")]
    return pd.DataFrame(entries, columns=["row_number", "column_name", "source_column", "reason"])


def _schema_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema, source_file: str,
                     labels: dict[str, str]) -> pd.DataFrame:
    try:
        schema.validate(frame, lazy=True)
        return _entries(pd.DataFrame(columns=["index", "column", "check", "check_number"]), schema, labels)
    except SchemaErrors as errors:
        cases = errors.failure_cases
    file_level = cases[cases["index"].isna()]
    if not file_level.empty:
        raise UnreadableFileError(source_file, f"does not fit its layout: {_file_level_problem(frame, file_level)}")
    return _entries(cases, schema, labels)


def validate_rows(frame: pd.DataFrame, schema: pa.DataFrameSchema, source_file: str,
                  column_labels: dict[str, str] | None = None, *, cell_columns: set[str] | None = None,
                  row_faults: dict[int, str] | None = None, cross_cell=None) -> ValidationResult:
    """Validate all rows at once (`lazy=True`).

    Rows listed in `row_faults` (structural faults found by the reader, e.g. a wrong number of fields)
    and rows failing a column outside `cell_columns` are quarantined whole. A failing cell of a column in
    `cell_columns` only sets that cell missing (None) in the loaded row. `cross_cell(frame)` may return
    more failing cells (`row_number, column_name, check`), judged after invalid cells were set missing.
    Missing/extra columns raise UnreadableFileError. `column_labels` maps validated column names back to
    source columns (e.g. `email_hash` -> `epost`)."""
    labels = column_labels or {}
    cell_columns = cell_columns or set()
    faults = row_faults or {}
    faulty = pd.DataFrame([{"row_number": n, "column_name": None, "source_column": None, "reason": reason}
                           for n, reason in sorted(faults.items())],
                          columns=["row_number", "column_name", "source_column", "reason"])
    checked = frame.drop(index=[n for n in faults if n in frame.index])
    entries = _recount_repeats(checked, _schema_failures(checked, schema, source_file, labels), cell_columns)
    structural = ~entries["source_column"].isin(cell_columns)
    kept_out = set(entries.loc[structural, "row_number"])
    row_entries = pd.concat([faulty, entries[entries["row_number"].isin(kept_out)]]).assign(action=ROW_QUARANTINED)
    cell_entries = entries[~entries["row_number"].isin(kept_out)]
    valid = checked.drop(index=sorted(kept_out)).copy()
    valid = _set_missing(valid, cell_entries)
    if cross_cell is not None:
        order = cross_cell(valid)
        order = order.assign(source_column=order["column_name"],
                             reason=order["check"].map(month_order_reason)).drop(columns=["check"])
        cell_entries = pd.concat([cell_entries, order])
        valid = _set_missing(valid, order)
    cell_entries = (cell_entries.drop_duplicates(subset=["row_number", "source_column"], keep="first")
                    .assign(action=CELL_SET_MISSING))
    failures = (pd.concat([row_entries, cell_entries]).drop(columns=["source_column"]).drop_duplicates()
                .sort_values(["row_number", "column_name"], na_position="first").reset_index(drop=True))
    return ValidationResult(valid, failures[QUARANTINE_COLUMNS])


def _recount_repeats(frame: pd.DataFrame, entries: pd.DataFrame, cell_columns: set[str]) -> pd.DataFrame:
    """A value repeats only if an earlier row with it is loaded: a test submission (or another row kept out
    for a structural fault) that shares a response id with a real response must not cost the real one."""
    repeat = entries["reason"].str.startswith(PHRASES["field_uniqueness"] + ":")
    if not repeat.any():
        return entries
    other = ~repeat & ~entries["source_column"].isin(cell_columns)
    kept_out = set(entries.loc[other, "row_number"])
    recounted = []
    for column, group in entries[repeat].groupby("source_column"):
        values = frame.loc[~frame.index.isin(kept_out), column]
        repeats = set(values.index[values.notna() & values.duplicated(keep="first")])
        recounted.append(group[group["row_number"].isin(repeats)])
    return pd.concat([entries[~repeat]] + recounted)


def _set_missing(frame: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    for row_number, column in zip(entries["row_number"], entries["source_column"]):
        frame.at[row_number, column] = None
    return frame


def raw_records(frame: pd.DataFrame, row_numbers: list[int], email_column: str | None) -> dict[int, str]:
    """JSON text of each listed row as delivered, the e-mail column carrying its hash (never the address)."""
    rows = frame.loc[row_numbers]
    if HASH_COLUMN in rows.columns:
        rows = rows.drop(columns=[BLOOM_COLUMN]).rename(columns={HASH_COLUMN: email_column or HASH_COLUMN})
    return {int(n): json.dumps(record, ensure_ascii=False)
            for n, record in zip(rows.index, rows.to_dict("records"))}
