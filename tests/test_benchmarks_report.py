"""The benchmark page's caveat on machine load says where the load came from."""
from benchmarks.report import busy_machine_caveat


def results(first: float, later: list[float]) -> dict:
    return {"machine": {"cores": 2, "load_average_at_start": [first, 0.0, 0.0]},
            "scales": [{"refreshes": {f"r{i}": {"load_before": load} for i, load in enumerate(later)}}]}


def test_load_before_the_first_measurement_is_other_work():
    assert "busy before the benchmark started" in busy_machine_caveat(results(2.4, [1.0]))


def test_load_at_a_later_measurement_is_said_to_be_mostly_the_benchmark_s_own():
    caveat = busy_machine_caveat(results(0.2, [1.6, 2.03]))
    assert "reached 2.0 on 2 cores" in caveat and "preceding measurement left" in caveat


def test_no_caveat_when_the_load_stays_within_the_cores():
    assert busy_machine_caveat(results(0.2, [1.9, 1.5])) is None
