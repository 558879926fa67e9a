"""Shared steps of survey and UDI ingest: audit rows for one file, timestamps."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from panel_ingest.quarantine import ValidationResult, raw_records
from panel_ingest.raw_tables import PartitionLoad
from panel_ingest.readers import RawFile
from panel_ingest.results import FileIngestResult, reason_counts


def utc_now() -> datetime:
    """Load time as naive UTC (DuckDB TIMESTAMP)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def record_file_audit(load: PartitionLoad, raw: RawFile, layout: str, frame: pd.DataFrame,
                      result: ValidationResult, loaded_at: datetime, email_column: str | None = None) -> FileIngestResult:
    """Add the file's row_accounting row and quarantine rows to `load`; return its FileIngestResult.

    `frame` is the validated frame (e-mail already pseudonymised), used for the quarantine raw_record."""
    failed = result.failed_rows
    rows_in = len(frame)
    rows_loaded = len(result.valid)
    if rows_loaded + len(failed) != rows_in:
        raise AssertionError(f"{raw.source_file}: {rows_in} rows in but {rows_loaded} loaded + {len(failed)} quarantined")
    load.add("audit.row_accounting", pd.DataFrame([{
        "source_file": raw.source_file, "partition_key": load.key, "layout": layout, "rows_in": rows_in,
        "rows_loaded": rows_loaded, "rows_quarantined": len(failed), "file_sha256": raw.file_sha256,
        "loaded_at": loaded_at}]))
    if failed:
        records = raw_records(frame, failed, email_column)
        quarantine = result.failures.assign(
            source_file=raw.source_file, partition_key=load.key,
            raw_record=result.failures["row_number"].map(records), quarantined_at=loaded_at)
        load.add("audit.quarantine", quarantine)
    return FileIngestResult(
        source_file=raw.source_file, layout=layout, rows_in=rows_in, rows_loaded=rows_loaded,
        rows_quarantined=len(failed), file_sha256=raw.file_sha256, quarantine_reasons=reason_counts(result.failures))
