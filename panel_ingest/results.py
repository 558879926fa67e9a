"""What ingest reports per file."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class FileIngestResult:
    """One raw file's outcome: `rows_in = rows_loaded + rows_quarantined` (rows only); `cells_set_missing`
    counts invalid optional cells of loaded rows. Reasons are counted per `column: what went wrong`."""

    source_file: str
    layout: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    file_sha256: str
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    cells_set_missing: int = 0
    cells_set_missing_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    wave: object | None = None  # panel_ingest.waves.WaveContext of a response file


def reason_kind(failures: pd.DataFrame) -> pd.Series:
    """`column: what went wrong` of each failure, e.g. `fodselsar: out of range`; a whole-row fault
    (no column) is `row: wrong number of fields`."""
    columns = failures["column_name"].fillna("row").astype(str)
    return columns + ": " + failures["reason"].astype(str).str.split(":").str[0]


def reason_counts(failures: pd.DataFrame) -> dict[str, int]:
    """Count failures by `column: what went wrong`."""
    return dict(Counter(reason_kind(failures))) if len(failures) else {}
