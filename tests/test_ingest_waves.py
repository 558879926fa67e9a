"""A wave is data: number and year from the folder name; field start from the seed or inferred from the data."""
from __future__ import annotations

import pandas as pd
import pytest

from panel_ingest.codebook import default_codebook
from panel_ingest.waves import (
    SOURCE_INVITATIONS, SOURCE_NONE, SOURCE_SEED, SOURCE_SUBMISSIONS, dense_run_start, parse_wave_id, wave_context,
)


def submissions(per_day: dict[str, int]) -> pd.Series:
    return pd.Series([f"{day} 10:{i % 60:02d}:00" for day, n in per_day.items() for i in range(n)], dtype=object)


def test_wave_number_and_year_come_from_the_folder_name():
    assert parse_wave_id("w12_2033") == (12, 2033)
    with pytest.raises(ValueError, match="w<N>_<YYYY>"):
        parse_wave_id("wave4")


def test_dense_run_starts_at_the_first_busy_day_not_at_test_days_quiet_days_or_a_reminder_peak():
    days = {"2025-05-01": 2, "2025-05-03": 1, "2025-05-06": 3,  # the survey team's tests
            "2025-05-10": 40, "2025-05-11": 25, "2025-05-12": 2,  # field opens; a quiet day
            "2025-05-20": 90, "2025-05-21": 30}                   # a reminder brings the busiest day
    assert dense_run_start(submissions(days)) == "2025-05-10"
    assert dense_run_start(submissions({"2025-05-01": 1, "2025-05-09": 1})) == "2025-05-01"  # too few to tell
    assert dense_run_start(pd.Series(["not a time", None], dtype=object)) is None


def test_field_start_comes_from_the_seed_then_invitations_then_submissions():
    waves = default_codebook().waves
    times = submissions({"2022-05-20": 1, "2022-06-03": 30})
    assert (wave_context("w1_2022", waves, times).field_start, wave_context("w1_2022", waves, times).field_start_source
            ) == ("2022-06-01", SOURCE_SEED)
    invited = pd.Series(["2025-09-15 08:00:00", "2025-09-14 23:00:00", None], dtype=object)
    context = wave_context("w4_2025", waves, times, invited)
    assert (context.wave_number, context.wave_year, context.field_start, context.field_start_source) == (
        4, 2025, "2025-09-14", SOURCE_INVITATIONS)
    assert context.field_start_inferred and not context.registered
    assert wave_context("w4_2025", waves, times).field_start_source == SOURCE_SUBMISSIONS
    assert wave_context("w4_2025", waves, pd.Series([None], dtype=object)).field_start_source == SOURCE_NONE
