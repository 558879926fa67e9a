"""Reading the published warehouse for the report: read-only, release tables where they exist, waves from the data."""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

DEFAULT_MIN_CELL = 5
Z_95 = 1.959963984540054


def min_cell() -> int:
    """Smallest count shown (`PANEL_MIN_CELL`, the same threshold the `release` tables use)."""
    return int(os.environ.get("PANEL_MIN_CELL", "").strip() or DEFAULT_MIN_CELL)


class Warehouse:
    """A read-only connection to a published warehouse file with the lookups the report needs."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.con = duckdb.connect(str(self.path), read_only=True)
        self.con.execute("SET python_enable_replacements = false")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def has(self, schema: str, table: str) -> bool:
        return bool(self.con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and database_name = current_database()",
            [schema, table]).fetchone()[0] or self.con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ? and database_name = current_database()",
            [schema, table]).fetchone()[0])

    def columns(self, schema: str, table: str) -> list[str]:
        return [row[0] for row in self.con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "and database_name = current_database() order by column_index", [schema, table]).fetchall()]

    def frame(self, sql: str, params: Sequence | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def table(self, schema: str, table: str) -> pd.DataFrame | None:
        """The whole table, or None when this warehouse has no such table."""
        return self.frame(f'select * from "{schema}"."{table}"') if self.has(schema, table) else None

    def release_or_mart(self, table: str) -> tuple[pd.DataFrame | None, str]:
        """The suppressed `release` copy when it exists, else the mart; with the name of the table read."""
        for schema in ("release", "marts"):
            frame = self.table(schema, table)
            if frame is not None:
                return frame, f"{schema}.{table}"
        return None, f"marts.{table}"

    def waves(self) -> list[str]:
        """Wave ids in field order, as the data has them (a new wave appears here with no code change)."""
        if self.has("marts", "panel_tracking"):
            rows = self.con.execute("select wave_id from marts.panel_tracking group by wave_id "
                                    "order by min(wave_number), wave_id").fetchall()
            if rows:
                return [row[0] for row in rows]
        if self.has("marts", "aspiration_by_wave"):
            return [row[0] for row in self.con.execute(
                "select distinct wave_id from marts.aspiration_by_wave order by wave_id").fetchall()]
        return []

    def published_at(self) -> str:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(self.path.stat().st_mtime, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def order_waves(values: Sequence[str], waves: Sequence[str]) -> list[str]:
    """`values` in the order of `waves`, unknown ones last in sorted order."""
    rank = {wave: i for i, wave in enumerate(waves)}
    return sorted(set(values), key=lambda wave: (rank.get(wave, len(rank)), wave))


def suppress_small(frame: pd.DataFrame, count: str, groups: Sequence[str], threshold: int | None = None) -> pd.DataFrame:
    """Counts below the threshold become NaN (primary suppression), and where a group then has exactly one
    suppressed cell its smallest other cell too (secondary), so no suppressed count follows from the group's total.

    Adds a boolean column `<count>_suppressed`. For aggregates the report computes from marts that have no
    `release` copy.
    """
    threshold = min_cell() if threshold is None else threshold
    out = frame.copy()
    values = pd.to_numeric(out[count], errors="coerce")
    suppressed = values.notna() & (values < threshold) & (values > 0)
    out[f"{count}_suppressed"] = suppressed
    if groups:
        for _, index in out.groupby(list(groups), dropna=False).groups.items():
            group = out.loc[index]
            if int(group[f"{count}_suppressed"].sum()) == 1 and len(group) > 1:
                visible = values.loc[index][~group[f"{count}_suppressed"]]
                visible = visible[visible > 0]
                if not visible.empty:
                    out.loc[visible.idxmin(), f"{count}_suppressed"] = True
    out[count] = values.where(~out[f"{count}_suppressed"])
    return out


def wilson_interval(share: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion `share` observed on `n` (may be a Kish effective n)."""
    if n is None or share is None or not n > 0 or math.isnan(share):
        return (math.nan, math.nan)
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def kish_effective_n(weights: Sequence[float]) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2."""
    total = float(sum(weights))
    squares = float(sum(w * w for w in weights))
    return total * total / squares if squares > 0 else math.nan
