"""Blocking checks of a loaded partition (the orchestration turns them into Dagster asset checks).

The cells themselves were validated once, at the file boundary, as ingest read them (the layout's pandera
schema and the cross-cell month rules: a failing required cell keeps its row out, a failing optional cell is
set missing). Checking them again here would apply the same rules twice to the same rows. What this check
adds is what only the loaded partition shows: every file's rows add up (rows_in = rows_loaded +
rows_quarantined, matching the rows in the raw tables and the `row_quarantined` entries of audit.quarantine;
cells_set_missing matching the `cell_set_missing` entries) and the quarantined share of each file's ROWS is
within PANEL_MAX_QUARANTINE_SHARE (default 0.10). A failure names the main reasons with their counts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from panel_ingest.quarantine import CELL_SET_MISSING, ROW_QUARANTINED
from panel_ingest.raw_tables import SOURCE_PREFIX
from panel_ingest.survey import INVITATIONS_LAYOUT
from panel_ingest.udi import FILE_KINDS

# A broken export (wrong file, shifted columns) fails most of its rows; real survey mess (test submissions,
# typos, duplicated ids) stays at a few per cent even when twice as messy as usual.
DEFAULT_MAX_QUARANTINE_SHARE = "0.10"
MAX_REPORTED_REASONS = 3


@dataclass
class CheckOutcome:
    """Result of a blocking partition check; `description` names the failing file and reason."""

    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def max_quarantine_share() -> float:
    return float(os.environ.get("PANEL_MAX_QUARANTINE_SHARE", DEFAULT_MAX_QUARANTINE_SHARE))


def _accounting(con: duckdb.DuckDBPyConnection, kind: str, key: str) -> pd.DataFrame:
    """The partition's row_accounting rows (none when ingest never ran on this file)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' "
                         "AND table_name = 'row_accounting'").fetchall()[0][0]
    columns = ["source_file", "layout", "rows_in", "rows_loaded", "rows_quarantined", "cells_set_missing"]
    if not exists:
        return pd.DataFrame(columns=columns)
    frame = con.execute(
        "SELECT source_file, layout, rows_in, rows_loaded, rows_quarantined, coalesce(cells_set_missing, 0) "
        "AS cells_set_missing FROM audit.row_accounting "
        "WHERE partition_key = ? AND source_file LIKE ? ORDER BY source_file", [key, SOURCE_PREFIX[kind]]).df()
    return frame.astype(object).where(frame.notna(), None)


def _audit_counts(con: duckdb.DuckDBPyConnection, source_file: str, key: str) -> tuple[int, int]:
    """(rows kept out, cells set missing) as recorded in audit.quarantine for one file."""
    return con.execute(
        "SELECT count(DISTINCT row_number) FILTER (WHERE action = ?), count(*) FILTER (WHERE action = ?) "
        "FROM audit.quarantine WHERE source_file = ? AND partition_key = ?",
        [ROW_QUARANTINED, CELL_SET_MISSING, source_file, key]).fetchall()[0]


def main_reasons(con: duckdb.DuckDBPyConnection, source_file: str, key: str) -> str:
    """The most frequent reasons rows of a file were kept out, with counts, and where to read the rest."""
    rows = con.execute(
        "SELECT coalesce(column_name, 'row') || ': ' || split_part(reason, ':', 1) AS kind, "
        "count(DISTINCT row_number) AS n FROM audit.quarantine WHERE source_file = ? AND partition_key = ? "
        "AND action = ? GROUP BY kind ORDER BY n DESC, kind", [source_file, key, ROW_QUARANTINED]).fetchall()
    shown = ", ".join(f"{kind} ({n} rows)" for kind, n in rows[:MAX_REPORTED_REASONS])
    more = f" and {len(rows) - MAX_REPORTED_REASONS} more reasons" if len(rows) > MAX_REPORTED_REASONS else ""
    return (f"main reasons: {shown}{more}; every row is in audit.quarantine "
            f"(source_file = '{source_file}', action = '{ROW_QUARANTINED}')")


def _file_problems(con: duckdb.DuckDBPyConnection, row: dict, loaded: int, key: str, limit: float) -> list[str]:
    """What is wrong with one file's load: rows that do not add up, or too large a share kept out."""
    quarantined, cells_missing = _audit_counts(con, row["source_file"], key)
    problems = []
    if row["rows_in"] != row["rows_loaded"] + row["rows_quarantined"]:
        problems.append(f"rows_in {row['rows_in']} != loaded {row['rows_loaded']} + quarantined {row['rows_quarantined']}")
    if loaded != row["rows_loaded"]:
        problems.append(f"{loaded} rows in the raw table, row_accounting says {row['rows_loaded']}")
    if quarantined != row["rows_quarantined"]:
        problems.append(f"{quarantined} rows in audit.quarantine, row_accounting says {row['rows_quarantined']}")
    if cells_missing != row["cells_set_missing"]:
        problems.append(f"{cells_missing} cells set missing in audit.quarantine, row_accounting says "
                        f"{row['cells_set_missing']}")
    share = row["rows_quarantined"] / row["rows_in"] if row["rows_in"] else 0.0
    if share > limit:  # the reasons are looked up only for a file that fails on them
        problems.append(f"quarantined share of rows {share:.3f} exceeds PANEL_MAX_QUARANTINE_SHARE {limit}; "
                        f"{main_reasons(con, row['source_file'], key)}")
    return problems


def _loaded_rows(con: duckdb.DuckDBPyConnection, table: str, key_column: str, key: str, source_file: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table} WHERE CAST({key_column} AS VARCHAR) = ? AND source_file = ?",
                       [key, source_file]).fetchone()[0]


def _outcome(name: str, accounting: pd.DataFrame, per_file: dict[str, list[str]], limit: float) -> CheckOutcome:
    metadata = {
        "files": len(accounting), "rows_in": int(accounting["rows_in"].sum()),
        "rows_loaded": int(accounting["rows_loaded"].sum()),
        "rows_quarantined": int(accounting["rows_quarantined"].sum()),
        "cells_set_missing": int(accounting["cells_set_missing"].sum()), "max_quarantine_share": limit,
        "quarantined_share_by_file": {
            r["source_file"]: round(r["rows_quarantined"] / r["rows_in"], 4) if r["rows_in"] else 0.0
            for r in accounting.to_dict("records")},
    }
    failing = {f: p for f, p in per_file.items() if p}
    if accounting.empty:
        return CheckOutcome(False, f"{name}: no file of this partition is in audit.row_accounting", metadata)
    if failing:
        text = "; ".join(f"{f}: {', '.join(p)}" for f, p in failing.items())
        return CheckOutcome(False, f"{name} failed: {text}", metadata)
    return CheckOutcome(True, f"{name}: {len(accounting)} files, rows add up, quarantine within {limit}", metadata)


def check_survey_partition(con: duckdb.DuckDBPyConnection, wave_id: str) -> CheckOutcome:
    """Blocking check of one loaded survey wave: responses and invitations files."""
    limit = max_quarantine_share()
    accounting = _accounting(con, "survey", wave_id)
    per_file: dict[str, list[str]] = {}
    for row in accounting.to_dict("records"):
        table = "raw.survey_invitations" if row["layout"] == INVITATIONS_LAYOUT else "raw.survey_responses"
        loaded = _loaded_rows(con, table, "wave_id", wave_id, row["source_file"])
        per_file[row["source_file"]] = _file_problems(con, row, loaded, wave_id, limit)
    return _outcome(f"survey wave {wave_id}", accounting, per_file, limit)


def check_udi_partition(con: duckdb.DuckDBPyConnection, snapshot_date: str) -> CheckOutcome:
    """Blocking check of one loaded UDI snapshot: applications, decisions and valid permits files."""
    limit = max_quarantine_share()
    key = str(snapshot_date)
    accounting = _accounting(con, "udi", key)
    tables = {kind.layout: kind.table for kind in FILE_KINDS}
    per_file: dict[str, list[str]] = {}
    for row in accounting.to_dict("records"):
        loaded = _loaded_rows(con, tables[row["layout"]], "snapshot_date", key, row["source_file"])
        per_file[row["source_file"]] = _file_problems(con, row, loaded, key, limit)
    return _outcome(f"UDI snapshot {key}", accounting, per_file, limit)


__all__ = ["CheckOutcome", "check_survey_partition", "check_udi_partition"]
