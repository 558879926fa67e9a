"""Exports of a release for the tools analysts use: Parquet (R, pandas, Spark...), Stata `.dta`, SPSS `.sav`.

    <folder>/parquet/marts/<table>.parquet    every `marts` table
    <folder>/parquet/release/<table>.parquet  every `release` table
    <folder>/stata/<table>.dta                every `release` table, variable and value labels
    <folder>/spss/<table>.sav                 every `release` table, variable and value labels

Variable labels are the column comments dbt writes into the warehouse (`persist_docs`). A text column
whose mart declares its vocabulary (an `accepted_values` test in the marts' yml) becomes a numbered
variable with a value label per word, in the vocabulary's order, so `tab aspiration_from` in Stata or
`FREQUENCIES` in SPSS shows the words. Counts withheld by disclosure control stay missing.
"""
from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import yaml

from panel_ingest import paths

PARQUET_SCHEMAS = ("marts", "release")
LABELLED_SCHEMA = "release"
STATA_LABEL_LIMIT = 80  # Stata's longest variable label
MARTS_MODELS = paths.DBT_PROJECT_DIR / "models" / "marts"
ASPIRATION_LABELS = paths.CODEBOOK_DIR / "aspiration_scales.csv"
EXTRA_LABELS = {  # words of the contract's vocabularies that no seed labels
    "undecided": "undecided (any answer but return as soon as possible or stay in Norway)",
    "left_to_ukraine": "left Norway for Ukraine",
    "left_onward": "left Norway for another country",
    "not_observed": "not observed (no answer, or no aspiration given)",
}


def vocabularies(models: Path = MARTS_MODELS) -> dict[tuple[str, str], list[str]]:
    """(mart, column) -> its accepted values, from the marts' yml files."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(models.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []) or []:
            for column in model.get("columns", []) or []:
                for test in (column.get("data_tests") or column.get("tests") or []):
                    if isinstance(test, dict) and "accepted_values" in test:
                        spec = test["accepted_values"] or {}
                        values = (spec.get("arguments") or {}).get("values") or spec.get("values")
                        if values:
                            found[(model["name"], column["name"])] = [str(v) for v in values]
    return found


def value_labels() -> dict[str, str]:
    """Human words for vocabulary values: the aspiration seed's labels, a few contract words, else the value."""
    labels = dict(EXTRA_LABELS)
    with open(ASPIRATION_LABELS, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            labels[row["aspiration"]] = row["label"]
    return labels


def _vocabulary_for(table: str, column: str, vocab: dict[tuple[str, str], list[str]]) -> list[str] | None:
    if (table, column) in vocab:
        return vocab[(table, column)]
    merged: list[str] = []  # a column of the same name in other marts (e.g. aspiration_from)
    for (_, name), values in vocab.items():
        if name == column:
            merged += [v for v in values if v not in merged]
    return merged or None


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [name for (name,) in con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
        "order by 1", [schema]).fetchall()]


def _column_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute("select column_name, comment from duckdb_columns() where database_name = current_database() "
                       "and schema_name = ? and table_name = ?", [schema, table]).fetchall()
    return {name: " ".join((comment or "").split()) for name, comment in rows}


def labelled_frame(con: duckdb.DuckDBPyConnection, table: str, vocab: dict, words: dict[str, str]):
    """The release table as a frame ready for pyreadstat: (frame, variable labels, value labels)."""
    frame = con.execute(f'select * from "{LABELLED_SCHEMA}"."{table}"').df()
    comments = _column_comments(con, LABELLED_SCHEMA, table)
    value_sets: dict[str, dict[int, str]] = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series) or (series.dtype == object and set(series.dropna().map(type)) == {bool}):
            frame[column] = series.map({True: 1, False: 0}).astype("float64")
            value_sets[column] = {0: "no", 1: "yes"}
            continue
        values = _vocabulary_for(table, column, vocab)
        if values and series.dtype == object and set(series.dropna()) <= set(values):
            codes = {value: number for number, value in enumerate(values, start=1)}
            frame[column] = series.map(codes).astype("float64")
            value_sets[column] = {number: words.get(value, value.replace("_", " ")) for value, number in codes.items()}
        elif pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series):
            frame[column] = series.astype("float64")  # nullable counts: missing stays missing
    labels = [comments.get(column, "") for column in frame.columns]
    return frame, labels, value_sets


def export_release(db_path: Path, folder: Path) -> dict[str, int]:
    """Write every export of `db_path` under `folder` (created); returns the number of files per format."""
    counts = {"parquet": 0, "stata": 0, "spss": 0}
    vocab, words = vocabularies(), value_labels()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        for schema in PARQUET_SCHEMAS:
            (folder / "parquet" / schema).mkdir(parents=True, exist_ok=True)
            for table in _tables(con, schema):
                target = str(folder / "parquet" / schema / f"{table}.parquet").replace("'", "''")
                con.execute(f"copy \"{schema}\".\"{table}\" to '{target}' (format parquet, compression zstd)")
                counts["parquet"] += 1
        (folder / "stata").mkdir(parents=True, exist_ok=True)
        (folder / "spss").mkdir(parents=True, exist_ok=True)
        for table in _tables(con, LABELLED_SCHEMA):
            frame, labels, value_sets = labelled_frame(con, table, vocab, words)
            pyreadstat.write_dta(frame, str(folder / "stata" / f"{table}.dta"),
                                 column_labels=[label[:STATA_LABEL_LIMIT] for label in labels],
                                 variable_value_labels=value_sets, version=15)
            pyreadstat.write_sav(frame, str(folder / "spss" / f"{table}.sav"), column_labels=labels,
                                 variable_value_labels=value_sets)
            counts["stata"] += 1
            counts["spss"] += 1
    finally:
        con.close()
    return counts


def exports_dir() -> Path:
    """The stable place of the published release's exports: `$PANEL_DATA_DIR/exports/`."""
    return paths.data_dir() / "exports"


def install_latest(source: Path, latest: Path | None = None) -> Path:
    """Make `latest` a copy of `source` (a release's exports), swapped in by renames so it is never half written."""
    latest = latest or exports_dir()
    staging = latest.with_name(f".{latest.name}.new")
    retired = latest.with_name(f".{latest.name}.old")
    for leftover in (staging, retired):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(source, staging)
    if latest.exists():
        os.replace(latest, retired)
    os.replace(staging, latest)
    shutil.rmtree(retired, ignore_errors=True)
    return latest
