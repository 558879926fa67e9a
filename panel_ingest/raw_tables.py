"""The `raw` and `audit` tables in the build DuckDB, and the whole-partition replace that loads them."""
from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

UDI_MONTH_COLUMNS = ["jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des"]

TABLES: dict[str, dict[str, str]] = {
    "raw.survey_responses": {
        "wave_id": "VARCHAR", "layout": "VARCHAR", "source_file": "VARCHAR", "row_number": "INTEGER",
        "response_id": "VARCHAR", "email_hash": "VARCHAR", "email_bloom": "VARCHAR", "loaded_at": "TIMESTAMP"},
    "raw.survey_cells": {
        "wave_id": "VARCHAR", "source_file": "VARCHAR", "row_number": "INTEGER", "response_id": "VARCHAR",
        "variable": "VARCHAR", "value": "VARCHAR"},
    "raw.survey_invitations": {
        "wave_id": "VARCHAR", "source_file": "VARCHAR", "row_number": "INTEGER", "token": "VARCHAR",
        "email_hash": "VARCHAR", "email_bloom": "VARCHAR", "invited_at": "VARCHAR", "source_wave": "VARCHAR",
        "loaded_at": "TIMESTAMP"},
    "raw.udi_applications": {
        "snapshot_date": "DATE", "source_file": "VARCHAR", "row_number": "INTEGER", "report_year": "INTEGER",
        "statsborgerskap": "VARCHAR", **{m: "VARCHAR" for m in UDI_MONTH_COLUMNS}, "total": "VARCHAR",
        "loaded_at": "TIMESTAMP"},
    "raw.udi_decisions": {
        "snapshot_date": "DATE", "source_file": "VARCHAR", "row_number": "INTEGER", "report_year": "INTEGER",
        "statsborgerskap": "VARCHAR", "maaned": "VARCHAR", "innvilget": "VARCHAR", "avslag": "VARCHAR",
        "henlagt": "VARCHAR", "loaded_at": "TIMESTAMP"},
    "raw.udi_valid_permits": {
        "snapshot_date": "DATE", "source_file": "VARCHAR", "row_number": "INTEGER", "fylke": "VARCHAR",
        "kjonn": "VARCHAR", "aldersgruppe": "VARCHAR", "antall": "VARCHAR", "loaded_at": "TIMESTAMP"},
    "audit.row_accounting": {
        "source_file": "VARCHAR", "partition_key": "VARCHAR", "layout": "VARCHAR", "rows_in": "INTEGER",
        "rows_loaded": "INTEGER", "rows_quarantined": "INTEGER", "file_sha256": "VARCHAR",
        "loaded_at": "TIMESTAMP", "cells_set_missing": "INTEGER", "field_start": "DATE",
        "field_start_source": "VARCHAR"},
    "audit.quarantine": {
        "source_file": "VARCHAR", "partition_key": "VARCHAR", "row_number": "INTEGER", "column_name": "VARCHAR",
        "reason": "VARCHAR", "raw_record": "VARCHAR", "quarantined_at": "TIMESTAMP", "action": "VARCHAR"},
    "audit.cells_set_missing": {
        "source_file": "VARCHAR", "partition_key": "VARCHAR", "column_name": "VARCHAR", "reason": "VARCHAR",
        "n_cells": "INTEGER"},
}
SURVEY_TABLES = ["raw.survey_responses", "raw.survey_cells", "raw.survey_invitations"]
UDI_TABLES = ["raw.udi_applications", "raw.udi_decisions", "raw.udi_valid_permits"]
AUDIT_TABLES = ["audit.row_accounting", "audit.quarantine", "audit.cells_set_missing"]
# Audit rows of survey and UDI partitions are told apart by the folder their file came from.
SOURCE_PREFIX = {"survey": "survey/%", "udi": "udi/%"}
PARTITION_COLUMN = {"survey": "wave_id", "udi": "snapshot_date"}
RAW_TABLES_OF = {"survey": SURVEY_TABLES, "udi": UDI_TABLES}


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `raw` and `audit` schemas and tables if missing, and add columns a build file made by an
    older version lacks (never drops anything). Asks the catalogue once and runs only the DDL that is
    missing: every ingest run calls this, and 84 no-op `ALTER TABLE`s cost more than the question."""
    present: dict[str, set[str]] = {}
    for schema, table, column in con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name IN ('raw', 'audit')").fetchall():
        present.setdefault(f"{schema}.{table}", set()).add(column)
    for schema in ("raw", "audit"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table, columns in TABLES.items():
        if table not in present:
            body = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
            continue
        for name, sql_type in columns.items():
            if name not in present[table]:
                con.execute(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "{name}" {sql_type}')


@dataclass
class PartitionLoad:
    """Everything one partition writes: frames per table, keyed by table name (columns as in TABLES)."""

    kind: str  # "survey" or "udi"
    key: str  # wave_id or snapshot date
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def add(self, table: str, frame: pd.DataFrame) -> None:
        missing = [c for c in TABLES[table] if c not in frame.columns]
        if missing:
            raise ValueError(f"frame for {table} lacks columns {missing}")
        frame = frame[list(TABLES[table])]
        self.frames[table] = pd.concat([self.frames[table], frame]) if table in self.frames else frame


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    view = "ingest_frame_" + table.replace(".", "_")
    columns = TABLES[table]
    names = ", ".join(f'"{c}"' for c in columns)
    select = ", ".join(f'CAST("{c}" AS {t})' for c, t in columns.items())
    con.register(view, frame)
    try:
        con.execute(f"INSERT INTO {table} ({names}) SELECT {select} FROM {view}")
    finally:
        con.unregister(view)


def replace_partition(con: duckdb.DuckDBPyConnection, load: PartitionLoad) -> None:
    """Delete the partition from every raw and audit table and insert the new rows, in one transaction."""
    ensure_raw_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for table in RAW_TABLES_OF[load.kind]:
            con.execute(f"DELETE FROM {table} WHERE CAST({PARTITION_COLUMN[load.kind]} AS VARCHAR) = ?", [load.key])
        for table in AUDIT_TABLES:
            con.execute(f"DELETE FROM {table} WHERE partition_key = ? AND source_file LIKE ?",
                        [load.key, SOURCE_PREFIX[load.kind]])
        for table, frame in load.frames.items():
            _insert(con, table, frame)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
