"""`make bench` at a tiny scale produces every figure it reports. How fast anything is, is never asserted."""
from __future__ import annotations

import json
import sys

import pytest

from benchmarks import bench
from benchmarks.measure import run_measured
from benchmarks.queries import readme_examples
from benchmarks.stages import STAGES, stage_of

TINY_SCALE = "0.05"


def test_a_measurement_past_its_time_limit_is_recorded_not_waited_for(tmp_path):
    measured = run_measured([sys.executable, "-c", "import time; time.sleep(60)"], env={}, cwd=tmp_path,
                            timeout=1, max_memory_mib=10_000)
    assert measured.status == "timed out" and measured.limit_note == "timed out after 1 s"
    assert measured.seconds < 30 and measured.exit_code is None


def test_a_measurement_past_its_memory_limit_is_stopped(tmp_path):
    grow = "import time; block = bytearray(400 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(60)"
    measured = run_measured([sys.executable, "-c", grow], env={}, cwd=tmp_path, timeout=60, max_memory_mib=200)
    assert measured.status == "memory limit" and "limit 200 MiB" in measured.limit_note


def test_peak_memory_counts_the_children_of_the_measured_process(tmp_path):
    child = "import time; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    measured = run_measured([sys.executable, "-c", parent], env={}, cwd=tmp_path, timeout=60, max_memory_mib=10_000)
    assert measured.ok and measured.peak_rss_mib > 300


def test_steps_are_put_into_stages_by_name():
    assert [stage_of(k) for k in ("survey_wave", "udi_snapshot", "person_links", "survey_weights", "dbt_harmonise",
                                  "dbt_analysis", "great_expectations_suites", "udi_freshness", "published_warehouse")] \
        == ["ingest", "ingest", "linkage", "weights", "dbt", "dbt", "checks", "checks", "publication"]


def test_a_repeated_refresh_keeps_its_median_run_or_its_first_failure():
    runs = [{"status": "ok", "seconds": 15.0, "stages": "a"}, {"status": "ok", "seconds": 13.0, "stages": "b"},
            {"status": "ok", "seconds": 17.0, "stages": "c"}]
    assert bench.median_run(runs) == {"status": "ok", "seconds": 15.0, "stages": "a", "runs_seconds": [15.0, 13.0, 17.0]}
    assert bench.median_run(runs[:2])["seconds"] == 15.0, "of two runs, the slower"
    failed = {"status": "failed", "seconds": 3.0}
    assert bench.median_run(runs + [failed, {"status": "timed out"}]) == failed


@pytest.mark.end_to_end
def test_the_benchmark_produces_every_figure(tmp_path, monkeypatch):
    # A few messy rows are a large share of a wave this small; the default tolerance is for real sizes.
    monkeypatch.setenv("PANEL_MAX_QUARANTINE_SHARE", "0.5")
    results_json, markdown = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    # A short UDI history (3 snapshots) keeps the four refreshes quick; every figure is still produced.
    status = bench.main(["--scales", TINY_SCALE, "--seed", "7", "--udi-from", "2025-08-05", "--dir", str(tmp_path / "bench"),
                         "--json", str(results_json), "--markdown", str(markdown),
                         "--before", str(tmp_path / "no_earlier_run.json"), "--timeout", "1800", "--repeats", "2"])
    assert status == 0
    results = json.loads(results_json.read_text())
    assert results["machine"]["cores"] >= 1 and results["versions"]["dagster"] != "not installed"
    [scale] = results["scales"]
    assert scale["held_back"]["wave"] == "w3_2024" and scale["data"]["udi_snapshots"] > 1

    for name in bench.REFRESH_SEQUENCE:
        refresh = scale["refreshes"][name]
        assert refresh["status"] == "ok", (name, refresh)
        assert refresh["seconds"] > 0 and refresh["peak_rss_mib"] > 0 and refresh["runs"] >= 1
    for name in bench.REPEATED:  # measured twice (the snapshot withdrawn and delivered again), the slower kept
        runs = scale["refreshes"][name]["runs_seconds"]
        assert len(runs) == 2 and scale["refreshes"][name]["seconds"] == pytest.approx(max(runs), abs=0.01)
    cold_stages = scale["refreshes"]["cold"]["stages"]
    assert all(cold_stages[stage] > 0 for stage in STAGES), cold_stages

    for linker in ("linkage", "splink_baseline"):
        figures = scale[linker]
        assert figures["status"] == "ok", figures
        assert figures["records"] > 0 and figures["records_per_second"] > 0 and figures["process_peak_rss_mib"] > 0
        assert all(0 < figures[k] <= 1 for k in ("precision", "recall", "f1"))

    floor_cold, floor_full = scale["floor"]["cold_data"], scale["floor"]["full_data"]
    assert floor_cold["status"] == floor_full["status"] == "ok"
    assert (floor_cold["waves"], floor_full["waves"]) == (2, 3) and floor_cold["seconds"] > 0

    assert set(scale["queries"]) == set(readme_examples())
    assert all(q["median_ms"] >= 0 and q["runs"] > 0 and "rows" in q for q in scale["queries"].values())
    assert all(value is not None for value in scale["ratios"].values()), scale["ratios"]

    page = markdown.read_text()
    assert "refresh after one new UDI snapshot (median of 2 runs: " in page
    assert f"## Scale {TINY_SCALE}" in page and "cold refresh / floor" in page and "plain Splink" in page
    assert all(f"`{name}`" in page for name in readme_examples())
