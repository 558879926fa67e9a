"""Partition discovery under raw/."""
from __future__ import annotations

from datetime import date

from panel_ingest.discover import find_survey_waves, find_udi_snapshots, wave_number


def test_waves_sorted_by_number_and_other_folders_reported(tmp_path):
    for name in ["w10_2031", "w2_2023", "w1_2022", "wx_2022", "wave4", "notes", ".ipynb_checkpoints"]:
        (tmp_path / "survey" / name).mkdir(parents=True)
    (tmp_path / "survey" / "w4_2025").write_text("a file, not a folder")
    (tmp_path / "_truth").mkdir()
    warnings: list[str] = []
    assert find_survey_waves(tmp_path, warnings) == ["w1_2022", "w2_2023", "w10_2031"]
    assert wave_number("w10_2031") == 10
    assert [w.split(":")[0] for w in warnings] == ["survey/notes", "survey/wave4", "survey/wx_2022"]
    assert all("expected w<N>_<YYYY>" in w for w in warnings)


def test_snapshots_sorted_non_dates_and_future_dates_reported(tmp_path):
    for name in ["2024-01-05", "2022-04-05", "2023-13-05", "latest", "2022-4-5", "2030-01-05"]:
        (tmp_path / "udi" / name).mkdir(parents=True)
    warnings: list[str] = []
    assert find_udi_snapshots(tmp_path, warnings, today=date(2025, 10, 20)) == ["2022-04-05", "2024-01-05"]
    assert [w.split(":")[0] for w in warnings] == ["udi/2022-4-5", "udi/2023-13-05", "udi/2030-01-05", "udi/latest"]
    assert "dated after today (2025-10-20)" in warnings[2]
    assert find_udi_snapshots(tmp_path, today=date(2030, 1, 5))[-1] == "2030-01-05"


def test_missing_folders_give_no_partitions(tmp_path):
    assert find_survey_waves(tmp_path) == [] and find_udi_snapshots(tmp_path) == []
