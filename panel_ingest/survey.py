"""Ingest one survey wave: responses (any layout, CSV/XLSX/SAV) and invitations into `raw`, with audit."""
from __future__ import annotations

import hashlib
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
from panel_ingest.waves import wave_context
from validation.schemas.survey import (
    EMAIL_CONCEPT, INVITATION_COLUMNS, RESPONSE_ID_CONCEPT, SUBMITTED_AT_CONCEPT, invitations_schema,
    cross_cell_failures, schema_for_wave, structural_columns,
)

log = logging.getLogger(__name__)
RESPONSES_STEM = "responses"
INVITATIONS_FILE = "invitations.csv"
INVITATIONS_LAYOUT = "invitations"
TOKEN_CONCEPT = "token"
OFFICE_LOCK_PREFIX = "~$"  # Excel/Word keep `~$<name>` beside a file that is open; it is not a delivery


def wave_files(folder: Path, raw_dir: Path, warnings: list[str] | None = None) -> tuple[Path, Path | None]:
    """The wave's response file (`responses.csv|.xlsx|.sav`, exactly one) and `invitations.csv` if present.
    Any other file is refused, so nothing delivered is silently skipped (hidden dotfiles are ignored, and
    office lock files `~$...` are ignored with a warning)."""
    folder_name = relative_name(folder, raw_dir)
    if not folder.is_dir():
        raise UnreadableFileError(folder_name, "no such wave folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    locks = [p for p in files if p.name.startswith(OFFICE_LOCK_PREFIX)]
    for lock in locks:
        message = (f"{relative_name(lock, raw_dir)}: office lock file ignored (the file is open in Excel or Word "
                   "somewhere; close it so the export is complete)")
        log.warning(message)
        if warnings is not None:
            warnings.append(message)
    files = [p for p in files if p not in locks]
    responses = [p for p in files if p.stem == RESPONSES_STEM and p.suffix.lower() in READERS]
    invitations = [p for p in files if p.name == INVITATIONS_FILE]
    unexpected = [p for p in files if p not in responses and p not in invitations]
    if unexpected:
        raise UnreadableFileError(relative_name(unexpected[0], raw_dir),
                                  "unexpected file in a wave folder (expected responses.csv|xlsx|sav and invitations.csv)")
    if not responses:
        raise UnreadableFileError(folder_name, "the required response file is missing: expected one "
                                               "responses.csv, responses.xlsx or responses.sav")
    if len(responses) > 1:
        raise UnreadableFileError(folder_name, f"expected exactly one responses.csv|xlsx|sav, found {len(responses)}")
    return responses[0], (invitations[0] if invitations else None)


def pseudonymised_frame(raw: RawFile, email_column: str | None, hmac_key: bytes) -> pd.DataFrame:
    """The file's rows with the e-mail column as hash + Bloom and e-mail-like text elsewhere hashed."""
    frame = raw.frame
    if email_column:
        frame = replace_email_column(frame, email_column, hmac_key)
    other = [c for c in frame.columns if c not in (HASH_COLUMN, BLOOM_COLUMN)]
    frame = redact_stray_emails(frame, hmac_key, other)
    raw.frame = frame  # drop the only reference to the clear addresses
    return frame


def _email_labels(email_column: str | None) -> dict[str, str]:
    return {HASH_COLUMN: email_column, BLOOM_COLUMN: email_column} if email_column else {}


def _log_warnings(warnings: list[str]) -> None:
    for message in warnings:
        log.warning(message)


def ingest_responses(load: PartitionLoad, path: Path, raw_dir: Path, wave_id: str, hmac_key: bytes,
                     codebook: Codebook, loaded_at: datetime, invited: pd.DataFrame | None = None
                     ) -> FileIngestResult:
    """Read, pseudonymise, validate one response file; add its rows, cells and audit to `load`.

    Structural faults (required variables: id, submission time, completion; repeated id; test
    submission; wrong number of fields) keep the row out; any other invalid cell is set missing."""
    raw = read_table_file(path, raw_dir)
    layout = _response_layout(raw, wave_id, codebook)
    email_column = codebook.variable_of_concept(layout, EMAIL_CONCEPT)
    frame = pseudonymised_frame(raw, email_column, hmac_key)
    time_column = codebook.variable_of_concept(layout, SUBMITTED_AT_CONCEPT)
    wave = wave_context(wave_id, codebook.waves, frame[time_column] if time_column else None,
                        invited["invited_at"] if invited is not None else None)
    warnings = list(raw.warnings)
    if wave.field_start_inferred:
        warnings.append(f"{raw.source_file}: wave {wave_id} is not in survey_waves.csv; field start "
                        f"{wave.field_start or 'unknown'} ({wave.field_start_source})")
    schema = schema_for_wave(layout, wave.wave_year, wave.field_start, codebook)
    cell_columns = set(schema.columns) - structural_columns(layout, codebook)
    result = validate_rows(frame, schema, raw.source_file, _email_labels(email_column), cell_columns=cell_columns,
                           row_faults=raw.row_faults, cross_cell=lambda f: cross_cell_failures(f, layout, codebook))
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
    outcome = record_file_audit(load, raw, layout, frame, result, loaded_at, email_column, wave)
    token_column = codebook.variable_of_concept(layout, TOKEN_CONCEPT)
    if token_column:
        warnings += _uninvited_tokens_warning(raw.source_file, valid[token_column], invited)
    outcome.warnings = warnings
    return outcome


def _response_layout(raw: RawFile, wave_id: str, codebook: Codebook) -> str:
    """The response file's layout; a file without data rows or with the wrong header is refused, saying
    which sheet was read when a workbook has no `Data` sheet (a cover sheet first)."""
    try:
        if raw.frame.empty:
            raise UnreadableFileError(raw.source_file, "no data rows: the required response file holds only a header")
        layout = detect_layout(codebook, wave_id, raw.columns, raw.source_file)
        check_header(codebook, layout, raw.columns, raw.source_file)
    except UnreadableFileError as error:
        if raw.sheet_note:
            raise UnreadableFileError(raw.source_file, f"{error.problem}; {raw.sheet_note}") from error
        raise
    return layout


def _uninvited_tokens_warning(source_file: str, tokens: pd.Series, invited: pd.DataFrame | None) -> list[str]:
    """A warning naming the rows whose token matches no loaded row of the wave's invitations.csv (a token
    from another wave, a typo, or a missing invitation file): the response is kept, but its link by
    token is lost. Row numbers only, never the token."""
    known = set(invited["token"].dropna()) if invited is not None else set()
    given = tokens.dropna()
    rows = [int(n) for n in given.index[~given.isin(known)]]
    if not rows:
        return []
    shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
    return [f"{source_file}: {len(rows)} response(s) carry a token that matches no row of invitations.csv "
            f"(rows {shown}); loaded, but not linked by that token"]


def _empty_file_result(load: PartitionLoad, path: Path, source_file: str, layout: str,
                       loaded_at: datetime) -> FileIngestResult:
    """An optional file delivered empty: accounted for with zero rows and a warning."""
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    load.add("audit.row_accounting", pd.DataFrame([{
        "source_file": source_file, "partition_key": load.key, "layout": layout, "rows_in": 0, "rows_loaded": 0,
        "rows_quarantined": 0, "file_sha256": sha, "loaded_at": loaded_at, "cells_set_missing": 0,
        "field_start": None, "field_start_source": None}]))
    warning = f"{source_file}: empty optional file, loaded zero rows"
    return FileIngestResult(source_file, layout, 0, 0, 0, sha, warnings=[warning])


def ingest_invitations(load: PartitionLoad, path: Path, raw_dir: Path, wave_id: str, hmac_key: bytes,
                       loaded_at: datetime) -> tuple[FileIngestResult, pd.Series | None]:
    """Read, pseudonymise, validate a wave's invitations.csv; add its rows and audit to `load`.
    Returns the result and the loaded invitations (their `invited_at` infers a field start; their tokens
    are matched by the responses'). An empty file loads
    zero rows with a warning; a file without the expected header fails, naming the file and the header."""
    source_file = relative_name(path, raw_dir)
    if not path.read_bytes().strip():
        return _empty_file_result(load, path, source_file, INVITATIONS_LAYOUT, loaded_at), None
    raw = read_csv_file(path, source_file)
    if sorted(raw.columns) != sorted(INVITATION_COLUMNS):
        raise UnreadableFileError(raw.source_file, f"the first line is not the expected header "
                                                   f"{','.join(INVITATION_COLUMNS)} (is the header row missing?)")
    frame = pseudonymised_frame(raw, "email", hmac_key)
    result = validate_rows(frame, invitations_schema(), raw.source_file, _email_labels("email"),
                           row_faults=raw.row_faults)
    valid = result.valid.reset_index()
    load.add("raw.survey_invitations", valid.assign(wave_id=wave_id, source_file=raw.source_file, loaded_at=loaded_at))
    outcome = record_file_audit(load, raw, INVITATIONS_LAYOUT, frame, result, loaded_at, "email")
    outcome.warnings = list(raw.warnings)
    return outcome, result.valid


def ingest_survey_wave(con: duckdb.DuckDBPyConnection, raw_dir: Path, wave_id: str, hmac_key: bytes,
                       *, codebook: Codebook | None = None) -> list[FileIngestResult]:
    """Load one wave folder `raw/survey/<wave_id>/`: loaded rows to `raw.survey_responses`/`survey_cells`/
    `survey_invitations`, kept-out rows and cells set missing to `audit.quarantine`, counts to
    `audit.cells_set_missing`, one `audit.row_accounting` row per file. Returns the response file's result
    first (its `wave` says where the field start came from), then the invitations'.

    The wave's previous rows are replaced in one transaction, so re-running is idempotent; an unreadable
    file raises UnreadableFileError before anything is written. The wave's number and year come from the
    folder name, its layout from the header; survey_waves.csv only adds the field period (else inferred).
    """
    codebook = codebook or default_codebook()
    raw_dir = Path(raw_dir)
    folder_warnings: list[str] = []
    responses_path, invitations_path = wave_files(raw_dir / "survey" / wave_id, raw_dir, folder_warnings)
    loaded_at = utc_now()
    load = PartitionLoad("survey", wave_id)
    invitations, invited = None, None
    if invitations_path is not None:
        invitations, invited = ingest_invitations(load, invitations_path, raw_dir, wave_id, hmac_key, loaded_at)
    responses = ingest_responses(load, responses_path, raw_dir, wave_id, hmac_key, codebook, loaded_at, invited)
    responses.warnings = folder_warnings + responses.warnings
    results = [responses] + ([invitations] if invitations is not None else [])
    replace_partition(con, load)
    for result in results:
        _log_warnings(result.warnings)
        log.info("%s: %d rows in, %d loaded, %d quarantined, %d cells set missing", result.source_file,
                 result.rows_in, result.rows_loaded, result.rows_quarantined, result.cells_set_missing)
    return results
