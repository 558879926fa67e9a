"""Shared steps of survey and UDI ingest: audit rows for one file, timestamps."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from panel_ingest.quarantine import ROW_QUARANTINED, ValidationResult, raw_records
from panel_ingest.raw_tables import PartitionLoad
from panel_ingest.readers import RawFile
from panel_ingest.results import FileIngestResult, reason_counts


def utc_now() -> datetime:
    """Load time as naive UTC (DuckDB TIMESTAMP)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def missing_cell_counts(result: ValidationResult) -> pd.DataFrame:
    """Cells set missing per column and reason (`column_name, reason, n_cells`)."""
    cells = result.missing_cells
    return (cells.groupby(["column_name", "reason"]).size().rename("n_cells").reset_index()
            if len(cells) else pd.DataFrame(columns=["column_name", "reason", "n_cells"]))


def record_file_audit(load: PartitionLoad, raw: RawFile, layout: str, frame: pd.DataFrame,
                      result: ValidationResult, loaded_at: datetime, email_column: str | None = None,
                      wave=None) -> FileIngestResult:
    """Add the file's row_accounting row, quarantine rows and cells-set-missing counts to `load`; return
    its FileIngestResult. `frame` is the validated frame (e-mail already pseudonymised, every other
    address-like text hashed), used for the quarantine raw_record. `wave` is the WaveContext of a
    response file (its field start and where that came from)."""
    failed = result.failed_rows
    missing = result.missing_cells
    rows_in = len(frame)
    rows_loaded = len(result.valid)
    if rows_loaded + len(failed) != rows_in:
        raise AssertionError(f"{raw.source_file}: {rows_in} rows in but {rows_loaded} loaded + {len(failed)} quarantined")
    load.add("audit.row_accounting", pd.DataFrame([{
        "source_file": raw.source_file, "partition_key": load.key, "layout": layout, "rows_in": rows_in,
        "rows_loaded": rows_loaded, "rows_quarantined": len(failed), "file_sha256": raw.file_sha256,
        "loaded_at": loaded_at, "cells_set_missing": len(missing),
        "field_start": getattr(wave, "field_start", None), "field_start_source": getattr(wave, "field_start_source", None),
    }]))
    if len(result.failures):
        records = raw_records(frame, sorted(set(result.failures["row_number"])), email_column)
        load.add("audit.quarantine", result.failures.assign(
            source_file=raw.source_file, partition_key=load.key,
            raw_record=result.failures["row_number"].map(records), quarantined_at=loaded_at))
    counts = missing_cell_counts(result)
    if len(counts):
        load.add("audit.cells_set_missing", counts.assign(source_file=raw.source_file, partition_key=load.key))
    rows_out = result.failures[result.failures["action"] == ROW_QUARANTINED]
    return FileIngestResult(
        source_file=raw.source_file, layout=layout, rows_in=rows_in, rows_loaded=rows_loaded,
        rows_quarantined=len(failed), file_sha256=raw.file_sha256, quarantine_reasons=reason_counts(rows_out),
        cells_set_missing=len(missing), cells_set_missing_reasons=reason_counts(missing), wave=wave)
