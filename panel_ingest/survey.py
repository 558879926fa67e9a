"""Ingest one survey wave: responses (any layout, CSV/XLSX/SAV) and invitations into `raw`, with audit."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from panel_ingest.codebook import Codebook, default_codebook
from panel_ingest.errors import UnreadableFileError
from panel_ingest.layouts import check_header, detect_layout
from panel_ingest.loading import record_file_audit, utc_now
from panel_ingest.pseudonymise import BLOOM_COLUMN, HASH_COLUMN, redact_stray_emails, replace_email_column
from panel_ingest.quarantine import validate_rows
from panel_ingest.raw_tables import PartitionLoad, replace_partition
from panel_ingest.readers import READERS, RawFile, read_csv_file, read_table_file, relative_name
from panel_ingest.results import FileIngestResult
from validation.schemas.survey import (
    EMAIL_CONCEPT, INVITATION_COLUMNS, RESPONSE_ID_CONCEPT, invitations_schema, schema_for_wave,
)

log = logging.getLogger(__name__)
RESPONSES_STEM = "responses"
INVITATIONS_FILE = "invitations.csv"
INVITATIONS_LAYOUT = "invitations"


def wave_files(folder: Path, raw_dir: Path) -> tuple[Path, Path | None]:
    """The wave's response file (`responses.csv|.xlsx|.sav`, exactly one) and `invitations.csv` if present.
    Any other file is refused, so nothing delivered is silently skipped (hidden dotfiles are ignored)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"no wave folder {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    responses = [p for p in files if p.stem == RESPONSES_STEM and p.suffix.lower() in READERS]
    invitations = [p for p in files if p.name == INVITATIONS_FILE]
    unexpected = [p for p in files if p not in responses and p not in invitations]
    folder_name = relative_name(folder, raw_dir)
    if unexpected:
        raise UnreadableFileError(relative_name(unexpected[0], raw_dir),
                                  "unexpected file in a wave folder (expected responses.csv|xlsx|sav and invitations.csv)")
    if len(responses) != 1:
        raise UnreadableFileError(folder_name, f"expected exactly one responses.csv|xlsx|sav, found {len(responses)}")
    return responses[0], (invitations[0] if invitations else None)


def pseudonymised_frame(raw: RawFile, email_column: str | None, hmac_key: bytes) -> pd.DataFrame:
    """The file's rows with the e-mail column as hash + Bloom and e-mail-like text elsewhere redacted."""
    frame = raw.frame
    if email_column:
        frame = replace_email_column(frame, email_column, hmac_key)
    other = [c for c in frame.columns if c not in (HASH_COLUMN, BLOOM_COLUMN)]
    frame = redact_stray_emails(frame, hmac_key, other)
    raw.frame = frame  # drop the only reference to the clear addresses
    return frame


def _email_labels(email_column: str | None) -> dict[str, str]:
    return {HASH_COLUMN: email_column, BLOOM_COLUMN: email_column} if email_column else {}


def ingest_responses(load: PartitionLoad, path: Path, raw_dir: Path, wave_id: str, hmac_key: bytes,
                     codebook: Codebook, loaded_at: datetime) -> FileIngestResult:
    """Read, pseudonymise, validate one response file; add its rows, cells and audit to `load`."""
    raw = read_table_file(path, raw_dir)
    layout = detect_layout(codebook, wave_id, raw.columns, raw.source_file)
    check_header(codebook, layout, raw.columns, raw.source_file)
    email_column = codebook.variable_of_concept(layout, EMAIL_CONCEPT)
    frame = pseudonymised_frame(raw, email_column, hmac_key)
    wave = codebook.wave(wave_id)
    schema = schema_for_wave(layout, wave["field_start"] if wave else None, codebook)
    result = validate_rows(frame, schema, raw.source_file, _email_labels(email_column))
    valid = result.valid
    id_column = codebook.variable_of_concept(layout, RESPONSE_ID_CONCEPT)
    response_ids = valid[id_column]
    load.add("raw.survey_responses", pd.DataFrame({
        "wave_id": wave_id, "layout": layout, "source_file": raw.source_file, "row_number": valid.index,
        "response_id": response_ids.values,
        "email_hash": valid[HASH_COLUMN].values if HASH_COLUMN in valid else None,
        "email_bloom": valid[BLOOM_COLUMN].values if BLOOM_COLUMN in valid else None,
        "loaded_at": loaded_at}))
    answers = valid.drop(columns=[HASH_COLUMN, BLOOM_COLUMN], errors="ignore")
    cells = answers.reset_index().melt(id_vars=["row_number"], var_name="variable", value_name="value")
    cells["response_id"] = cells["row_number"].map(response_ids)
    load.add("raw.survey_cells", cells.assign(wave_id=wave_id, source_file=raw.source_file))
    return record_file_audit(load, raw, layout, frame, result, loaded_at, email_column)


def ingest_invitations(load: PartitionLoad, path: Path, raw_dir: Path, wave_id: str, hmac_key: bytes,
                       loaded_at: datetime) -> FileIngestResult:
    """Read, pseudonymise, validate a wave's invitations.csv; add its rows and audit to `load`."""
    raw = read_csv_file(path, relative_name(path, raw_dir))
    if sorted(raw.columns) != sorted(INVITATION_COLUMNS):
        raise UnreadableFileError(raw.source_file, f"header {raw.columns} is not {INVITATION_COLUMNS}")
    frame = pseudonymised_frame(raw, "email", hmac_key)
    result = validate_rows(frame, invitations_schema(), raw.source_file, _email_labels("email"))
    valid = result.valid.reset_index()
    load.add("raw.survey_invitations", valid.assign(wave_id=wave_id, source_file=raw.source_file, loaded_at=loaded_at))
    return record_file_audit(load, raw, INVITATIONS_LAYOUT, frame, result, loaded_at, "email")


def ingest_survey_wave(con: duckdb.DuckDBPyConnection, raw_dir: Path, wave_id: str, hmac_key: bytes,
                       *, codebook: Codebook | None = None) -> list[FileIngestResult]:
    """Load one wave folder `raw/survey/<wave_id>/`: valid rows to `raw.survey_responses`/`survey_cells`/
    `survey_invitations`, failing cells to `audit.quarantine`, one `audit.row_accounting` row per file.

    The wave's previous rows are replaced in one transaction, so re-running is idempotent; an unreadable
    file raises UnreadableFileError before anything is written. A wave missing from survey_waves.csv is
    matched to a layout by its header and gets no field-period (test submission) filter.
    """
    codebook = codebook or default_codebook()
    raw_dir = Path(raw_dir)
    responses_path, invitations_path = wave_files(raw_dir / "survey" / wave_id, raw_dir)
    loaded_at = utc_now()
    load = PartitionLoad("survey", wave_id)
    results = [ingest_responses(load, responses_path, raw_dir, wave_id, hmac_key, codebook, loaded_at)]
    if invitations_path is not None:
        results.append(ingest_invitations(load, invitations_path, raw_dir, wave_id, hmac_key, loaded_at))
    replace_partition(con, load)
    for result in results:
        log.info("%s: %d rows in, %d loaded, %d quarantined", result.source_file, result.rows_in,
                 result.rows_loaded, result.rows_quarantined)
    return results
