"""Partition discovery under raw/."""
from __future__ import annotations

from panel_ingest.discover import find_survey_waves, find_udi_snapshots, wave_number


def test_waves_sorted_by_number_and_other_folders_ignored(tmp_path):
    for name in ["w10_2031", "w2_2023", "w1_2022", "wx_2022", "w3", "notes"]:
        (tmp_path / "survey" / name).mkdir(parents=True)
    (tmp_path / "survey" / "w4_2025").write_text("a file, not a folder")
    (tmp_path / "_truth").mkdir()
    assert find_survey_waves(tmp_path) == ["w1_2022", "w2_2023", "w10_2031"]
    assert wave_number("w10_2031") == 10


def test_snapshots_sorted_and_non_dates_ignored(tmp_path):
    for name in ["2024-01-05", "2022-04-05", "2023-13-05", "latest", "2022-4-5"]:
        (tmp_path / "udi" / name).mkdir(parents=True)
    assert find_udi_snapshots(tmp_path) == ["2022-04-05", "2024-01-05"]


def test_missing_folders_give_no_partitions(tmp_path):
    assert find_survey_waves(tmp_path) == [] and find_udi_snapshots(tmp_path) == []
