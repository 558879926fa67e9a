"""The linkage benchmark runs at a small scale and prints its figures (no timing is asserted)."""
from __future__ import annotations

from benchmarks import linkage_bench


def test_benchmark_prints_records_per_second_and_peak_memory(capsys):
    assert linkage_bench.main(["--scale", "0.1", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "records/second" in printed and "peak memory" in printed and "precision" in printed
    assert "estimated (no truth) precision" in printed


def test_benchmark_figures_describe_the_run():
    figures = linkage_bench.run(scale=0.1, mess=1.0, seed=3)
    assert figures["persons"] == 200 and figures["records"] > figures["persons"]
    assert figures["records_per_second"] > 0 and figures["process_peak_rss_mib"] > 0
    assert 0 < figures["precision"] <= 1 and 0 < figures["recall"] <= 1
    assert 0 < figures["estimated_precision"] <= 1 and 0 < figures["estimated_recall"] <= 1
