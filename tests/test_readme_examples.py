"""The README's example queries run, as written, against a generated and published warehouse."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_BLOCK = re.compile(r"```sql\n-- example: (\w+)\n(.*?)```", re.S)


def readme_examples() -> dict[str, str]:
    return {name: sql for name, sql in EXAMPLE_BLOCK.findall(README.read_text(encoding="utf-8"))}


def test_readme_has_the_examples_the_analysts_asked_for():
    assert {"return_group_outcomes", "attrition_by_gender", "implied_departures"} <= set(readme_examples())


@pytest.fixture(scope="module")
def published(demo_warehouse):
    con = duckdb.connect(str(Path(demo_warehouse) / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def run_example(con, name: str):
    return con.execute(readme_examples()[name]).fetchall()


@pytest.mark.end_to_end
def test_return_group_outcomes_add_up_to_the_whole_group(published):
    rows = run_example(published, "return_group_outcomes")
    outcomes = {outcome for outcome, _, _ in rows}
    assert outcomes <= {"return_asap", "stay_norway", "undecided", "left_to_ukraine", "left_onward", "not_observed"}
    assert "not_observed" in outcomes
    assert sum(pct for _, _, pct in rows) == pytest.approx(100, abs=0.5)


@pytest.mark.end_to_end
def test_attrition_by_gender_reconciles(published):
    rows = run_example(published, "attrition_by_gender")
    assert {gender for gender, *_ in rows} >= {"female", "male"}
    for _, n_base, n_norway, n_abroad, n_lost, retention in rows:
        assert n_norway + n_abroad + n_lost == n_base
        assert retention == pytest.approx((n_norway + n_abroad) / n_base, abs=1e-3)


@pytest.mark.end_to_end
def test_implied_departures_are_grants_minus_stock(published):
    rows = run_example(published, "implied_departures")
    assert len(rows) > 12
    for _, granted, stock, departed in rows:
        assert departed == granted - stock


@pytest.mark.end_to_end
def test_weighted_shares_are_shares(published):
    rows = run_example(published, "weighted_shares")
    by_wave: dict[str, float] = {}
    for wave_id, _, _, _, weighted in rows:
        by_wave[wave_id] = by_wave.get(wave_id, 0) + weighted
    assert by_wave and all(total == pytest.approx(1, abs=0.01) for total in by_wave.values())
