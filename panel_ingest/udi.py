"""Ingest one UDI snapshot folder `raw/udi/<YYYY-MM-DD>/` into the `raw.udi_*` tables, with audit.

Numbers stay exactly as delivered (`1 639`, `-`, blank); staging parses them.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb
import pandera.pandas as pa

from panel_ingest.codebook import Codebook, default_codebook
from panel_ingest.errors import UnreadableFileError
from panel_ingest.loading import record_file_audit, utc_now
from panel_ingest.pseudonymise import redact_stray_emails
from panel_ingest.quarantine import validate_rows
from panel_ingest.raw_tables import TABLES, PartitionLoad, replace_partition
from panel_ingest.readers import RawFile, read_csv_file, relative_name
from panel_ingest.results import FileIngestResult
from validation.schemas.udi import applications_schema, decisions_schema, permits_schema

log = logging.getLogger(__name__)
FOLDING = str.maketrans({"å": "aa", "ø": "o", "æ": "ae"})


@dataclass(frozen=True)
class UdiFileKind:
    """One kind of UDI table: its file-name pattern, raw table and schema."""

    layout: str
    pattern: re.Pattern
    table: str
    schema: Callable[[str, Codebook], pa.DataFrameSchema]
    has_report_year: bool

    @property
    def columns(self) -> list[str]:
        metadata = {"snapshot_date", "source_file", "row_number", "report_year", "loaded_at"}
        return [c for c in TABLES[self.table] if c not in metadata]


FILE_KINDS = [
    UdiFileKind("udi_applications", re.compile(r"^soknader_(?P<year>[0-9]{4})\.csv$"), "raw.udi_applications",
                lambda day, cb: applications_schema(), True),
    UdiFileKind("udi_decisions", re.compile(r"^vedtak_(?P<year>[0-9]{4})\.csv$"), "raw.udi_decisions",
                lambda day, cb: decisions_schema(), True),
    UdiFileKind("udi_valid_permits", re.compile(r"^gyldige_(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})\.csv$"),
                "raw.udi_valid_permits", lambda day, cb: permits_schema(day, cb), False),
]


def raw_column_name(header: str) -> str:
    """UDI header -> raw column: lower case, Norwegian letters folded (`Måned` -> maaned, `Kjønn` -> kjonn)."""
    text = unicodedata.normalize("NFC", header.strip()).lower().translate(FOLDING)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def classify(path: Path) -> tuple[UdiFileKind, re.Match] | None:
    for kind in FILE_KINDS:
        match = kind.pattern.match(path.name)
        if match:
            return kind, match
    return None


def read_udi_file(path: Path, raw_dir: Path, kind: UdiFileKind) -> RawFile:
    """Read a UDI CSV and rename its header to the raw table's columns; refuses a wrong header."""
    raw = read_csv_file(path, relative_name(path, raw_dir))
    renamed = [raw_column_name(c) for c in raw.columns]
    missing = [c for c in kind.columns if c not in renamed]
    extra = [i + 1 for i, c in enumerate(renamed) if c not in kind.columns]
    if missing or extra:
        raise UnreadableFileError(
            raw.source_file, f"header does not match {kind.layout}: missing columns {missing}, "
                             f"unexpected columns at positions {extra}")
    raw.frame.columns = renamed
    raw.frame = raw.frame[kind.columns]
    return raw


def ingest_udi_file(load: PartitionLoad, path: Path, raw_dir: Path, snapshot_date: str, codebook: Codebook,
                    loaded_at: datetime) -> FileIngestResult:
    """Validate one UDI file; add its valid rows and audit rows to `load`."""
    kind, match = classify(path)
    raw = read_udi_file(path, raw_dir, kind)
    raw.frame = redact_stray_emails(raw.frame, None)
    result = validate_rows(raw.frame, kind.schema(snapshot_date, codebook), raw.source_file, row_faults=raw.row_faults)
    rows = result.valid.reset_index().assign(snapshot_date=snapshot_date, source_file=raw.source_file,
                                             loaded_at=loaded_at)
    if kind.has_report_year:
        rows["report_year"] = int(match["year"])
    load.add(kind.table, rows)
    outcome = record_file_audit(load, raw, kind.layout, raw.frame, result, loaded_at)
    outcome.warnings = list(raw.warnings)
    return outcome


def snapshot_files(folder: Path, raw_dir: Path) -> list[Path]:
    """The folder's UDI files; an unrecognised file is refused so nothing delivered is skipped."""
    if not folder.is_dir():
        raise UnreadableFileError(relative_name(folder, raw_dir), "no such UDI snapshot folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for path in files:
        if classify(path) is None:
            raise UnreadableFileError(relative_name(path, raw_dir),
                                      "unexpected file in a UDI folder (expected soknader_<YYYY>.csv, "
                                      "vedtak_<YYYY>.csv, gyldige_<YYYY-MM-DD>.csv)")
    return files


def empty_snapshot_warning(folder_name: str) -> str:
    return f"{folder_name}: empty UDI snapshot folder (nothing retrieved yet): loaded zero rows"


def ingest_udi_snapshot(con: duckdb.DuckDBPyConnection, raw_dir: Path, snapshot_date: str,
                        *, codebook: Codebook | None = None) -> list[FileIngestResult]:
    """Load one UDI snapshot folder; the snapshot's previous rows are replaced in one transaction.
    An empty folder (nothing retrieved yet) loads zero rows with a warning and returns no results."""
    codebook = codebook or default_codebook()
    raw_dir = Path(raw_dir)
    snapshot_date = str(snapshot_date)
    loaded_at = utc_now()
    load = PartitionLoad("udi", snapshot_date)
    folder = raw_dir / "udi" / snapshot_date
    results = [ingest_udi_file(load, path, raw_dir, snapshot_date, codebook, loaded_at)
               for path in snapshot_files(folder, raw_dir)]
    replace_partition(con, load)
    if not results:
        log.warning(empty_snapshot_warning(relative_name(folder, raw_dir)))
    for result in results:
        for message in result.warnings:
            log.warning(message)
        log.info("%s: %d rows in, %d loaded, %d quarantined", result.source_file, result.rows_in,
                 result.rows_loaded, result.rows_quarantined)
    return results
