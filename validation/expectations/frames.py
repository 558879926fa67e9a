"""Data frames the suites validate: mart rows, per-group aggregates and comparisons with the
previous published run, all computed in DuckDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from validation.expectations.outcome import MartSuiteError
from validation.expectations.settings import SuiteSettings


@dataclass
class CheckFrame:
    """One batch for Great Expectations: a data frame and the expectations it must meet.

    `key_columns` identify a row in failure messages (e.g. wave_id, scale). A `warning` frame judges
    the world rather than the structure (e.g. counts against the previous run): its failures are
    reported but never block publication.
    """

    name: str
    data: pd.DataFrame
    expectations: list[Any]
    key_columns: tuple[str, ...] = ()
    warning: bool = False


class PreviousRun:
    """Read-only access to the currently published warehouse, if there is one."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path is not None else None
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> PreviousRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the read-only connection (the file may be replaced by the next publication)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def unavailable_reason(self, table: str) -> str | None:
        """Why `marts.<table>` of the previous run cannot be compared, or None if it can."""
        if self.path is None:
            return "no previous published warehouse given (first run)"
        if not self.path.exists():
            return f"no previous published warehouse at {self.path} (first run)"
        if not table_exists(self._connection(), table):
            return f"the previous published warehouse {self.path} has no marts.{table}"
        return None

    def query(self, sql: str) -> pd.DataFrame:
        """Run a query against the previous published warehouse."""
        return self._connection().sql(sql).df()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            try:
                self._con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as error:
                raise MartSuiteError(f"cannot open the previous published warehouse {self.path} read-only: {error}") from error
        return self._con


@dataclass
class SuiteInputs:
    """What a suite builder reads: the build file, the previous run and the thresholds.

    Builders append to `notes` whenever they skip a check, so the skip is visible in the outcome.
    """

    con: duckdb.DuckDBPyConnection
    previous: PreviousRun
    settings: SuiteSettings
    notes: list[str] = field(default_factory=list)

    def read(self, sql: str) -> pd.DataFrame:
        """Run a query against the build file."""
        return self.con.sql(sql).df()


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `marts.<table>` exists in the connected file."""
    # fetchall, not fetchone: DuckDB 2 refuses further work on a connection with an unfinished result.
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?", [table]
    ).fetchall()
    return bool(found[0][0])


def require_mart(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    """Raise MartSuiteError naming the table (and columns) if the mart is not built as contracted."""
    if not table_exists(con, table):
        raise MartSuiteError(
            f"marts.{table} does not exist in the build database; build the marts (dbt, tag analysis) before running its suite"
        )
    present = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?", [table]
        ).fetchall()
    }
    missing = [column for column in columns if column not in present]
    if missing:
        raise MartSuiteError(f"marts.{table} lacks contract column(s) {', '.join(missing)} (see docs/contracts/warehouse.md)")


def compare_counts(
    inputs: SuiteInputs, table: str, count_sql: str, keys: tuple[str, ...], what: str
) -> pd.DataFrame | None:
    """Counts per key now and in the previous published run, with their ratio.

    `count_sql` must select `keys` and a column `n`, reading `marts.<table>`; it runs against both
    files. A key present only now has no ratio (a new wave is not a drop); a key present only
    before counts as 0 now. Returns None (and adds a note) when there is no previous run to compare.
    """
    reason = inputs.previous.unavailable_reason(table)
    if reason is not None:
        inputs.notes.append(f"skipped: {what} vs the previous run, because {reason}")
        return None
    current = inputs.read(count_sql).rename(columns={"n": "n_current"})
    previous = inputs.previous.query(count_sql).rename(columns={"n": "n_previous"})
    merged = current.merge(previous, on=list(keys), how="outer").sort_values(list(keys)).reset_index(drop=True)
    merged["n_current"] = merged["n_current"].fillna(0).astype("int64")
    merged["n_previous"] = merged["n_previous"].astype("float64")
    merged["ratio_to_previous"] = merged["n_current"] / merged["n_previous"].where(merged["n_previous"] > 0)
    return merged
