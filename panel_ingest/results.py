"""What ingest reports per file."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class FileIngestResult:
    """One raw file's outcome: `rows_in = rows_loaded + rows_quarantined`; reasons counted per failing cell."""

    source_file: str
    layout: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    file_sha256: str
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


def reason_counts(failures: pd.DataFrame) -> dict[str, int]:
    """Count failing cells by column and kind of check, e.g. `fodselsar: integer_text_between` -> 3."""
    kinds = failures["column_name"] + ": " + failures["reason"].str.split(":").str[0]
    return dict(Counter(kinds))
