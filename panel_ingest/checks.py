"""Blocking checks of a loaded partition (the orchestration turns them into Dagster asset checks).

Each check re-reads what was loaded and re-validates it against the layout's pandera schema and the
cross-cell month rules (invalid optional cells were set missing at ingest, so every loaded cell must
pass), verifies that every file's rows add up (rows_in = rows_loaded + rows_quarantined, matching the raw
tables and the `row_quarantined` entries of audit.quarantine; cells_set_missing matching the
`cell_set_missing` entries) and that the quarantined share of each file's ROWS is within
PANEL_MAX_QUARANTINE_SHARE (default 0.10). A failure names the main reasons with their counts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from panel_ingest.codebook import Codebook, default_codebook
from panel_ingest.pseudonymise import BLOOM_COLUMN, HASH_COLUMN
from panel_ingest.quarantine import CELL_SET_MISSING, ROW_QUARANTINED
from panel_ingest.raw_tables import SOURCE_PREFIX
from panel_ingest.survey import INVITATIONS_LAYOUT
from panel_ingest.udi import FILE_KINDS
from panel_ingest.waves import parse_wave_id
from validation.schemas.survey import invitations_schema, month_order_failures, schema_for_wave, validated_columns

# A broken export (wrong file, shifted columns) fails most of its rows; real survey mess (test submissions,
# typos, duplicated ids) stays at a few per cent even when twice as messy as usual.
DEFAULT_MAX_QUARANTINE_SHARE = "0.10"
MAX_REPORTED_FAILURES = 5
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
    columns = ["source_file", "layout", "rows_in", "rows_loaded", "rows_quarantined", "cells_set_missing",
               "field_start"]
    if not exists:
        return pd.DataFrame(columns=columns)
    frame = con.execute(
        "SELECT source_file, layout, rows_in, rows_loaded, rows_quarantined, coalesce(cells_set_missing, 0) "
        "AS cells_set_missing, CAST(field_start AS VARCHAR) AS field_start FROM audit.row_accounting "
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


def _revalidate(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> list[str]:
    try:
        schema.validate(frame, lazy=True)
        return []
    except SchemaErrors as errors:
        cases = errors.failure_cases.head(MAX_REPORTED_FAILURES)
        # The check's name only: its arguments can be long lists (every municipality name); never the value.
        return [f"row {c['index']} column {c['column']}: {str(c['check']).split('(')[0]}" for c in cases.to_dict("records")]


def _file_problems(row: dict, loaded: int, audit: tuple[int, int], failures: list[str], limit: float,
                   reasons: str = "") -> list[str]:
    quarantined, cells_missing = audit
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
    if share > limit:
        problems.append(f"quarantined share of rows {share:.3f} exceeds PANEL_MAX_QUARANTINE_SHARE {limit}; {reasons}")
    problems += [f"loaded rows fail re-validation: {f}" for f in failures]
    return problems


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
    return CheckOutcome(True, f"{name}: {len(accounting)} files re-validate, rows add up, quarantine within {limit}", metadata)


def _loaded_responses(con: duckdb.DuckDBPyConnection, wave_id: str, source_file: str, layout: str,
                      codebook: Codebook) -> pd.DataFrame:
    """Rebuild the validated wide frame (text cells, e-mail as hash + Bloom) from raw.survey_*."""
    cells = con.execute("SELECT row_number, variable, value FROM raw.survey_cells WHERE wave_id = ? AND "
                        "source_file = ?", [wave_id, source_file]).df()
    people = con.execute("SELECT row_number, email_hash, email_bloom FROM raw.survey_responses WHERE wave_id = ? "
                         "AND source_file = ?", [wave_id, source_file]).df().set_index("row_number")
    wide = cells.pivot(index="row_number", columns="variable", values="value") if not cells.empty else pd.DataFrame()
    wide = wide.reindex(index=people.index)
    wide[HASH_COLUMN] = people["email_hash"]
    wide[BLOOM_COLUMN] = people["email_bloom"]
    columns = validated_columns(layout, codebook)
    wide = wide.reindex(columns=columns).astype(object)
    return wide.where(wide.notna(), None)


def check_survey_partition(con: duckdb.DuckDBPyConnection, wave_id: str, *,
                           codebook: Codebook | None = None) -> CheckOutcome:
    """Blocking check of one loaded survey wave (bounds from the folder's year, the field start ingest used)."""
    codebook = codebook or default_codebook()
    limit = max_quarantine_share()
    accounting = _accounting(con, "survey", wave_id)
    _, wave_year = parse_wave_id(wave_id)
    per_file: dict[str, list[str]] = {}
    for row in accounting.to_dict("records"):
        source = row["source_file"]
        cross_cell: list[str] = []
        if row["layout"] == INVITATIONS_LAYOUT:
            frame = con.execute("SELECT row_number, token, email_hash, email_bloom, invited_at, source_wave FROM "
                                "raw.survey_invitations WHERE wave_id = ? AND source_file = ?", [wave_id, source]
                                ).df().set_index("row_number")
            schema = invitations_schema()
        else:
            frame = _loaded_responses(con, wave_id, source, row["layout"], codebook)
            schema = schema_for_wave(row["layout"], wave_year, row["field_start"], codebook)
            order = month_order_failures(frame, row["layout"], codebook).head(MAX_REPORTED_FAILURES)
            cross_cell = [f"row {r['row_number']} column {r['column_name']}: {r['check']}" for r in order.to_dict("records")]
        frame = frame.astype(object).where(frame.notna(), None)
        per_file[source] = _file_problems(row, len(frame), _audit_counts(con, source, wave_id),
                                          _revalidate(frame, schema) + cross_cell, limit,
                                          main_reasons(con, source, wave_id))
    return _outcome(f"survey wave {wave_id}", accounting, per_file, limit)


def check_udi_partition(con: duckdb.DuckDBPyConnection, snapshot_date: str, *,
                        codebook: Codebook | None = None) -> CheckOutcome:
    """Blocking check of one loaded UDI snapshot."""
    codebook = codebook or default_codebook()
    limit = max_quarantine_share()
    key = str(snapshot_date)
    accounting = _accounting(con, "udi", key)
    kinds = {kind.layout: kind for kind in FILE_KINDS}
    per_file: dict[str, list[str]] = {}
    for row in accounting.to_dict("records"):
        kind = kinds[row["layout"]]
        columns = ", ".join(f'"{c}"' for c in kind.columns)
        frame = con.execute(f"SELECT {columns} FROM {kind.table} WHERE CAST(snapshot_date AS VARCHAR) = ? AND "
                            "source_file = ?", [key, row["source_file"]]).df()
        frame = frame.astype(object).where(frame.notna(), None)
        per_file[row["source_file"]] = _file_problems(
            row, len(frame), _audit_counts(con, row["source_file"], key),
            _revalidate(frame, kind.schema(key, codebook)), limit, main_reasons(con, row["source_file"], key))
    return _outcome(f"UDI snapshot {key}", accounting, per_file, limit)


__all__ = ["CheckOutcome", "check_survey_partition", "check_udi_partition"]
