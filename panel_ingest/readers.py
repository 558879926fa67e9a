"""Readers that turn one raw file into raw rows without losing anything.

Every reader returns a `RawFile`: a frame whose columns are the header exactly as in the file and whose
cells are text (or None for blank), indexed by the 1-based data row number (`row_number`). Text rules
(architecture doc): integers without `.0`, booleans `TRUE`/`FALSE`, date-times `YYYY-MM-DD HH:MM:SS`,
dates `YYYY-MM-DD`, other text exactly as delivered; a blank or whitespace-only cell is None.
Trailing all-blank rows are not records and are dropped; interior all-blank rows are kept (they then fail
validation and are quarantined, so nothing disappears). Any file that cannot be read raises
`UnreadableFileError` naming the file and the problem.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from panel_ingest.errors import UnreadableFileError

CSV_DELIMITERS = (",", ";")
# Control characters other than tab/CR/LF never occur in a text export: their presence means binary data.
BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ROW_NUMBER = "row_number"


@dataclass
class RawFile:
    """One file's rows as text; `frame.index` is the 1-based row number."""

    source_file: str
    path: Path
    file_format: str
    frame: pd.DataFrame
    file_sha256: str
    # Rows kept in `frame` as blanks because they are structurally broken (row number -> reason).
    row_faults: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sheet_note: str = ""  # which sheet of a workbook was read, when that may surprise (else empty)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)


def relative_name(path: Path, raw_dir: Path) -> str:
    """Path relative to `raw/` with forward slashes (how files are named everywhere downstream)."""
    try:
        return Path(path).resolve().relative_to(Path(raw_dir).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cell_text(value) -> str | None:
    """One cell as text by the architecture's text rules."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (datetime, pd.Timestamp)):
        # Excel and SPSS store date-times as floats: round, so 09:14:59.9999 reads as 09:15:00.
        if value.microsecond >= 500_000:
            value = value + timedelta(seconds=1)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    return text if text.strip() else None


WRONG_FIELD_COUNT = "wrong number of fields"


def _frame_from_rows(header: list[str], rows: list[list], source_file: str) -> tuple[pd.DataFrame, dict[int, str]]:
    """Build the text frame; checks the header (named by position, never quoted) and the width of every
    row. A row with another number of fields than the header is kept as a blank row and returned in the
    row faults (row number -> reason), so it is quarantined, not the file."""
    if not header or all(h is None or not str(h).strip() for h in header):
        raise UnreadableFileError(source_file, "no header row (empty file)")
    names = [None if h is None else str(h).strip() for h in header]
    blank = [i + 1 for i, n in enumerate(names) if not n]
    if blank:
        raise UnreadableFileError(source_file, f"blank column name in the header at position(s) {blank}")
    repeated = [i + 1 for i, n in enumerate(names) if names.count(n) > 1]
    if repeated:
        raise UnreadableFileError(source_file, f"repeated column name in the header at positions {repeated}")
    while rows and all(cell_text(c) is None for c in rows[-1]):
        rows.pop()
    width = len(names)
    cleaned, faults = [], {}
    for number, row in enumerate(rows, start=1):
        texts = [cell_text(c) for c in row]  # once per cell: this loop visits every cell of the file
        if all(text is None for text in texts):
            texts = [None] * width
        if len(texts) != width:
            faults[number] = f"{WRONG_FIELD_COUNT}: expected {width} fields as in the header, found {len(texts)}"
            texts = [None] * width
        cleaned.append(texts)
    frame = pd.DataFrame(cleaned, columns=names, dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name=ROW_NUMBER)
    return frame.astype(object).where(frame.notna(), None), faults


def _stray_bytes(data: bytes) -> tuple[str, list[int]]:
    """Decode UTF-8 whose few invalid bytes are Windows-1252 (one cell typed in Excel): each such byte is
    decoded as Windows-1252; returns the text and the 0-based offsets of those bytes."""
    offsets: list[int] = []
    parts: list[str] = []
    position = 0
    while True:
        try:
            parts.append(data[position:].decode("utf-8"))
            return "".join(parts), offsets
        except UnicodeDecodeError as error:
            parts.append(data[position:position + error.start].decode("utf-8"))
            bad = position + error.start
            offsets.append(bad)
            parts.append(data[bad:bad + 1].decode("cp1252", errors="replace"))
            position = bad + 1


def decode_text(data: bytes, source_file: str, warnings: list[str] | None = None) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (Excel's CSV export); binary data is refused.

    A UTF-8 file with a few stray Windows-1252 bytes (its other non-ASCII text is valid UTF-8) is decoded
    as UTF-8 with those bytes read as Windows-1252, and a warning names each byte's line and offset."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFileError(source_file, "UTF-16 text (byte-order mark); expected UTF-8 or Windows-1252: "
                                               "save the file again as CSV UTF-8")
    if b"\x00" in data:
        raise UnreadableFileError(source_file, "binary data (NUL bytes), not a text CSV file")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text, offsets = _stray_bytes(body)
        multibyte = sum(1 for b in body if b >= 0xC2) - len(offsets)
        if multibyte <= 0:  # nothing in the file is UTF-8: the whole file is Windows-1252
            text = body.decode("cp1252", errors="replace")
        elif warnings is not None:
            skip = len(data) - len(body)
            newline = b"\n"
            where = ", ".join(f"line {body.count(newline, 0, o) + 1} byte {o + skip}" for o in offsets[:10])
            warnings.append(f"{source_file}: {len(offsets)} byte(s) not valid UTF-8, read as Windows-1252 "
                            f"({where}{', ...' if len(offsets) > 10 else ''}); check those cells")
    if BINARY_CHARS.search(text):
        raise UnreadableFileError(source_file, "binary data (control characters), not a text CSV file")
    return text


def detect_delimiter(text: str, source_file: str) -> str:
    """Comma or semicolon, whichever occurs more often in the header line."""
    header_line = text.split("\n", 1)[0]
    counts = {d: header_line.count(d) for d in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda d: counts[d])
    if counts[best] == 0:
        raise UnreadableFileError(source_file, "no comma or semicolon delimiter in the header line")
    return best


def read_csv_file(path: Path, source_file: str) -> RawFile:
    """A CSV in UTF-8, UTF-8 with BOM or Windows-1252, comma- or semicolon-separated."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFileError(source_file, f"cannot open file: {exc.strerror}") from exc
    warnings: list[str] = []
    if not data.strip():
        raise UnreadableFileError(source_file, "empty file (no header row)")
    text = decode_text(data, source_file, warnings)
    delimiter = detect_delimiter(text, source_file)
    rows = _csv_rows(text, delimiter, source_file)
    if not rows:
        raise UnreadableFileError(source_file, "empty file (no header row)")
    frame, faults = _frame_from_rows(rows[0], rows[1:], source_file)
    return RawFile(source_file, Path(path), "csv", frame, hashlib.sha256(data).hexdigest(), faults, warnings)


def _csv_rows(text: str, delimiter: str, source_file: str) -> list[list[str]]:
    """All records; a quote never closed (which would swallow the rest of the file into one field, its rows
    lost) fails naming the data row and line where it opened."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0
    try:
        for row in reader:
            rows.append(row)
            line = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            where = f"data row {len(rows)}" if rows else "the header"
            raise UnreadableFileError(source_file, f"malformed CSV: the quote opened in {where} (line {line + 1}) "
                                                   "is never closed") from exc
        try:  # another strict-mode complaint (text after a closing quote): read as Excel does
            return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as error:
            raise UnreadableFileError(source_file, "malformed CSV (a field over the size limit)") from error
    return rows


def _xlsx_cell_text(cell) -> str | None:
    value = getattr(cell, "value", None)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        number_format = str(getattr(cell, "number_format", "") or "").lower()
        if "h" not in number_format and "s" not in number_format:
            return value.strftime("%Y-%m-%d")
    return cell_text(value)


def read_xlsx_file(path: Path, source_file: str) -> RawFile:
    """An Excel workbook: sheet `Data`, else the first sheet; the first row is the header."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors: openpyxl has no common base
        raise UnreadableFileError(source_file, f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    # Said in any error about the file's content, so a cover sheet before the data is easy to spot.
    sheet_note = ("" if "Data" in workbook.sheetnames or len(workbook.sheetnames) == 1
                  else f"read sheet 1 of {len(workbook.sheetnames)} (no sheet named Data)")
    try:
        sheet = workbook["Data"] if "Data" in workbook.sheetnames else workbook.worksheets[0]
        rows = [[_xlsx_cell_text(c) for c in row] for row in sheet.iter_rows()]
    except Exception as exc:
        raise UnreadableFileError(source_file, f"corrupt XLSX sheet data ({type(exc).__name__})") from exc
    finally:
        workbook.close()
    if not rows:
        raise UnreadableFileError(source_file, "no header row (empty sheet)" + (f"; {sheet_note}" if sheet_note else ""))
    header = rows[0]
    while header and header[-1] is None:
        header = header[:-1]
    width = len(header)
    data_rows = []
    for row in rows[1:]:
        extra = [c for c in row[width:] if c is not None]
        # A value beyond the header's columns makes the row too long: kept as is, it becomes a row fault.
        data_rows.append(list(row) if extra else list(row[:width]) + [None] * (width - len(row[:width])))
    frame, faults = _frame_from_rows(header, data_rows, source_file)
    return RawFile(source_file, Path(path), "xlsx", frame, file_sha256(path), faults, sheet_note=sheet_note)


def read_sav_file(path: Path, source_file: str) -> RawFile:
    """An SPSS file: numeric codes (not value labels), SPSS dates/date-times as text."""
    import pyreadstat

    try:
        data, _meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as exc:  # pyreadstat raises ReadstatError/PyreadstatError and OSError
        raise UnreadableFileError(source_file, f"not a readable SPSS .sav file ({type(exc).__name__})") from exc
    header = list(data.columns)
    rows = [[v for v in record] for record in data.astype(object).itertuples(index=False, name=None)]
    frame, faults = _frame_from_rows(header, rows, source_file)
    return RawFile(source_file, Path(path), "sav", frame, file_sha256(path), faults)


READERS = {".csv": read_csv_file, ".xlsx": read_xlsx_file, ".sav": read_sav_file}


def read_table_file(path: Path, raw_dir: Path) -> RawFile:
    """Read a survey file by its extension (.csv, .xlsx, .sav)."""
    source_file = relative_name(path, raw_dir)
    reader = READERS.get(Path(path).suffix.lower())
    if reader is None:
        raise UnreadableFileError(source_file, f"unsupported file type {Path(path).suffix!r} (expected .csv, .xlsx or .sav)")
    return reader(path, source_file)
