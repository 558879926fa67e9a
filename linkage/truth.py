"""Synthetic truth (`raw/_truth/responses.csv`): loaded only to score linkage, never to link."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd

from linkage.schema import TRUTH_COLUMNS, ensure_linkage_tables

TRUTH_HEADER = ["wave_id", "response_id", "person_id"]


class TruthFileError(ValueError):
    """The truth file does not follow `wave_id,response_id,person_id`."""


def _read_truth_rows(path: Path) -> list[tuple[str, str, str | None]]:
    """Rows of the truth file; an empty person_id (a row written by no person, such as the survey
    team's test submissions) is kept as NULL, an empty wave_id or response_id is an error."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if header[:3] != TRUTH_HEADER:
            raise TruthFileError(f"{path}: header must start with {','.join(TRUTH_HEADER)}, found {header}")
        rows = []
        for number, row in enumerate(reader, start=1):
            values = [v.strip() for v in row[:3]] + [""] * (3 - len(row[:3]))
            for column, value in zip(TRUTH_HEADER[:2], values):
                if not value:
                    raise TruthFileError(f"{path}: row {number}: column {column} is empty")
            rows.append((values[0], values[1], values[2] or None))
    return rows


def load_truth(con: duckdb.DuckDBPyConnection, truth_csv: str | Path | None) -> int:
    """Replace `linkage.truth_responses` with the rows of `truth_csv` (empty when None or absent).

    Returns the number of truth rows loaded.
    """
    ensure_linkage_tables(con)
    rows = _read_truth_rows(Path(truth_csv)) if truth_csv and Path(truth_csv).exists() else []
    con.execute("BEGIN TRANSACTION")
    try:
        # Replaced whole (not emptied), so a table from an older column layout is renewed too.
        con.execute(f"CREATE OR REPLACE TABLE linkage.truth_responses ({TRUTH_COLUMNS})")
        if rows:  # one set-based insert: row-by-row parameters cost about 0.15 ms per row
            con.register("truth_rows", pd.DataFrame(rows, columns=TRUTH_HEADER, dtype=object))
            con.execute("INSERT INTO linkage.truth_responses SELECT * FROM truth_rows")
            con.unregister("truth_rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(rows)
