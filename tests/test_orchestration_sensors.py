"""Sensors and the schedule, evaluated with Dagster's own test utilities on a small raw tree."""
from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.partitions import SURVEY_WAVE_PARTITIONS, UDI_SNAPSHOT_PARTITIONS
from orchestration.defs.schedules import monthly_udi_refresh
from orchestration.defs.sensors import raw_folder_sensor


def add_wave(raw: Path, wave_id: str) -> None:
    folder = raw / "survey" / wave_id
    folder.mkdir(parents=True)
    (folder / "responses.csv").write_text("svar_id,innsendt\n1,2022-06-02 10:00:00\n", encoding="utf-8")


def add_snapshot(raw: Path, snapshot: str) -> None:
    folder = raw / "udi" / snapshot
    folder.mkdir(parents=True)
    (folder / f"gyldige_{snapshot}.csv").write_text("fylke,kjonn,aldersgruppe,antall\nOslo,Menn,18-34,12\n")


@pytest.fixture
def raw(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    raw = tmp_path / "raw"
    add_wave(raw, "w1_2022")
    add_snapshot(raw, "2024-01-05")
    return raw


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def evaluate(instance, cursor=None) -> dg.SensorResult:
    result = raw_folder_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    return result


def apply(instance, result: dg.SensorResult) -> None:
    """What the daemon does with a sensor result's partition requests."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def requested(result: dg.SensorResult) -> set[tuple[str, str]]:
    return {(r.job_name, r.partition_key) for r in result.run_requests}


def test_first_look_adds_every_folder_and_requests_its_run(raw, instance):
    result = evaluate(instance)
    assert requested(result) == {("survey_wave_job", "w1_2022"), ("udi_snapshot_job", "2024-01-05")}
    added = {(r.partitions_def_name, tuple(r.partition_keys)) for r in result.dynamic_partitions_requests}
    assert added == {(SURVEY_WAVE_PARTITIONS, ("w1_2022",)), (UDI_SNAPSHOT_PARTITIONS, ("2024-01-05",))}


def test_unchanged_tree_requests_nothing(raw, instance):
    first = evaluate(instance)
    apply(instance, first)
    second = evaluate(instance, first.cursor)
    assert second.run_requests == []
    assert second.dynamic_partitions_requests == []
    assert second.skip_reason is not None


def test_new_wave_folder_requests_only_that_wave(raw, instance):
    first = evaluate(instance)
    apply(instance, first)
    add_wave(raw, "w2_2023")
    result = evaluate(instance, first.cursor)
    assert requested(result) == {("survey_wave_job", "w2_2023")}
    assert [(r.partitions_def_name, list(r.partition_keys)) for r in result.dynamic_partitions_requests] == [
        (SURVEY_WAVE_PARTITIONS, ["w2_2023"])
    ]


def test_new_snapshot_folder_requests_only_that_snapshot(raw, instance):
    first = evaluate(instance)
    apply(instance, first)
    add_snapshot(raw, "2024-02-06")
    result = evaluate(instance, first.cursor)
    assert requested(result) == {("udi_snapshot_job", "2024-02-06")}
    assert [(r.partitions_def_name, list(r.partition_keys)) for r in result.dynamic_partitions_requests] == [
        (UDI_SNAPSHOT_PARTITIONS, ["2024-02-06"])
    ]


def test_a_replaced_file_in_a_known_folder_is_ingested_again(raw, instance):
    first = evaluate(instance)
    apply(instance, first)
    path = raw / "udi" / "2024-01-05" / "gyldige_2024-01-05.csv"
    path.write_text(path.read_text() + "Oslo,Kvinner,18-34,20\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    result = evaluate(instance, first.cursor)
    assert requested(result) == {("udi_snapshot_job", "2024-01-05")}
    assert result.dynamic_partitions_requests == []


def test_folders_that_are_not_partitions_are_ignored(raw, instance):
    (raw / "survey" / "notes").mkdir()
    (raw / "udi" / "2024-13-40").mkdir()
    (raw / "_truth").mkdir()
    result = evaluate(instance)
    assert requested(result) == {("survey_wave_job", "w1_2022"), ("udi_snapshot_job", "2024-01-05")}
    assert set(json.loads(result.cursor)[UDI_SNAPSHOT_PARTITIONS]) == {"2024-01-05"}


def test_monthly_schedule_registers_and_requests_new_snapshots(raw, instance):
    add_snapshot(raw, "2024-02-06")
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2024, 3, 6, 7, 0))
    requests = monthly_udi_refresh(context)
    assert sorted(r.partition_key for r in requests) == ["2024-01-05", "2024-02-06"]
    assert set(instance.get_dynamic_partitions(UDI_SNAPSHOT_PARTITIONS)) == {"2024-01-05", "2024-02-06"}
    assert len({r.run_key for r in requests}) == 2


def test_monthly_schedule_skips_when_every_snapshot_is_ingested(raw, instance):
    instance.add_dynamic_partitions(UDI_SNAPSHOT_PARTITIONS, ["2024-01-05"])
    instance.report_runless_asset_event(dg.AssetMaterialization("udi_snapshot", partition="2024-01-05"))
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2024, 3, 6, 7, 0))
    result = monthly_udi_refresh(context)
    assert isinstance(result, dg.SkipReason)
    assert "2024-01-05" in result.skip_message


def test_monthly_schedule_runs_at_seven_on_the_sixth():
    assert monthly_udi_refresh.cron_schedule == "0 7 6 * *"
    assert monthly_udi_refresh.execution_timezone == "Europe/Oslo"


def test_folders_that_are_not_partitions_are_reported_not_requested(raw, instance, caplog):
    (raw / "survey" / "wave4").mkdir()
    add_snapshot(raw, "2999-01-05")  # dated in the future: must never become the latest vintage
    with caplog.at_level("WARNING"):
        result = evaluate(instance)
    assert requested(result) == {("survey_wave_job", "w1_2022"), ("udi_snapshot_job", "2024-01-05")}
    assert "survey/wave4: not a wave folder name" in caplog.text
    assert "udi/2999-01-05: snapshot dated after today" in caplog.text
