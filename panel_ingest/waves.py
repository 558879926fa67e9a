"""What ingest knows about one wave: its number and year from the folder name, its field start.

A wave is data: `w<N>_<YYYY>` gives the number and the year; the layout comes from the file's header; the
`survey_waves.csv` row, when present, only adds the field period and label. Without that row the field
start (before which submissions are the survey team's tests) is inferred from the data:

1. the earliest `invited_at` day of the wave's `invitations.csv`, when it has any: invitations go out
   when the field opens;
2. else the first day of the dense run of submissions: the first day with at least
   `max(2, 5 % of the busiest day)` submissions (tests are a few a day at most, spread over the days
   before the field opens; a field period is dense from its first day, and a quiet day later in the
   field period, or a reminder peak, cannot move the start);
3. else (no readable submission time) no field-start filter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd

from panel_ingest.discover import WAVE_FOLDER

SOURCE_SEED = "survey_waves.csv"
SOURCE_INVITATIONS = "inferred: earliest invited_at of invitations.csv"
SOURCE_SUBMISSIONS = "inferred: first day of the dense run of submissions"
SOURCE_NONE = "none: no readable submission time to infer it from"
DENSE_SHARE_OF_PEAK = 0.05
DENSE_MINIMUM = 2


@dataclass(frozen=True)
class WaveContext:
    """One wave as ingest sees it. `field_start` is an ISO date or None; `field_start_source` says where
    it came from (the seed, or which inference rule)."""

    wave_id: str
    wave_number: int
    wave_year: int
    registered: bool
    field_start: str | None
    field_start_source: str

    @property
    def field_start_inferred(self) -> bool:
        return self.field_start_source != SOURCE_SEED


def parse_wave_id(wave_id: str) -> tuple[int, int]:
    """(N, YYYY) of a wave folder name `w<N>_<YYYY>`; ValueError for anything else."""
    match = WAVE_FOLDER.match(wave_id)
    if not match:
        raise ValueError(f"not a wave folder name (expected w<N>_<YYYY>): {wave_id!r}")
    return int(match["number"]), int(match["year"])


def earliest_invitation_day(invited_at: pd.Series | None) -> str | None:
    """The earliest readable `invited_at` day (ISO date), or None."""
    if invited_at is None or invited_at.dropna().empty:
        return None
    days = pd.to_datetime(invited_at.dropna().astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    days = days.dropna()
    return None if days.empty else days.min().date().isoformat()


def dense_run_start(submitted_at: pd.Series) -> str | None:
    """First day of the dense run of submissions (rule 2 above), or None without a readable time."""
    times = pd.to_datetime(submitted_at.dropna().astype(str), format="%Y-%m-%d %H:%M:%S", errors="coerce").dropna()
    if times.empty:
        return None
    counts = times.dt.normalize().value_counts().sort_index()
    threshold = max(DENSE_MINIMUM, math.ceil(DENSE_SHARE_OF_PEAK * counts.max()))
    dense = counts[counts >= threshold]
    # No day reaches the threshold (a handful of rows): tests cannot be told apart, so no filter.
    return (dense.index[0] if len(dense) else counts.index[0]).date().isoformat()


def wave_context(wave_id: str, waves: pd.DataFrame, submitted_at: pd.Series | None = None,
                 invited_at: pd.Series | None = None) -> WaveContext:
    """The wave's number, year and field start (from `survey_waves.csv` when it has the wave, else inferred)."""
    number, year = parse_wave_id(wave_id)
    rows = waves[waves["wave_id"] == wave_id]
    if not rows.empty and rows.iloc[0]["field_start"]:
        start = date.fromisoformat(str(rows.iloc[0]["field_start"])[:10]).isoformat()
        return WaveContext(wave_id, number, year, True, start, SOURCE_SEED)
    inferred = earliest_invitation_day(invited_at)
    if inferred:
        return WaveContext(wave_id, number, year, not rows.empty, inferred, SOURCE_INVITATIONS)
    inferred = dense_run_start(submitted_at) if submitted_at is not None else None
    if inferred:
        return WaveContext(wave_id, number, year, not rows.empty, inferred, SOURCE_SUBMISSIONS)
    return WaveContext(wave_id, number, year, not rows.empty, None, SOURCE_NONE)
