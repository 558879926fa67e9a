"""Parts of the mart suites that need no Great Expectations run: settings, comparison with the
previous run, failure wording."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from validation.expectations import MART_NAMES, MartSuiteError, SuiteSettings
from validation.expectations.frames import CheckFrame, PreviousRun, SuiteInputs, compare_counts, require_mart
from validation.expectations.messages import example_rows, expected_text, format_value
from validation.expectations.settings import ROW_COUNT_TOLERANCE_ENV

COUNTS_SQL = "select wave_id, count(*) as n from marts.panel_tracking group by wave_id"


def tracking_db(path: Path, rows_per_wave: dict[str, int]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.panel_tracking (person_id varchar, wave_id varchar)")
        for wave_id, n in rows_per_wave.items():
            con.executemany("insert into marts.panel_tracking values (?, ?)", [[f"P{i}", wave_id] for i in range(n)])
    return path


def test_tolerance_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(ROW_COUNT_TOLERANCE_ENV, "0.35")
    assert SuiteSettings.from_env().row_count_tolerance == 0.35
    monkeypatch.setenv(ROW_COUNT_TOLERANCE_ENV, "")
    assert SuiteSettings.from_env().row_count_tolerance == 0.20


@pytest.mark.parametrize("raw", ["twenty", "-0.1", "0"])
def test_a_bad_tolerance_is_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv(ROW_COUNT_TOLERANCE_ENV, raw)
    with pytest.raises(ValueError, match=ROW_COUNT_TOLERANCE_ENV):
        SuiteSettings.from_env()


def test_counts_are_compared_per_key_with_the_previous_run(tmp_path):
    build = tracking_db(tmp_path / "build.duckdb", {"w1_2022": 10, "w2_2023": 4})
    previous = tracking_db(tmp_path / "published.duckdb", {"w1_2022": 8, "w2_2023": 8, "w0_2021": 5})
    with duckdb.connect(str(build)) as con, PreviousRun(previous) as before:
        inputs = SuiteInputs(con=con, previous=before, settings=SuiteSettings())
        compared = compare_counts(inputs, "panel_tracking", COUNTS_SQL, ("wave_id",), "rows per wave")
    by_wave = compared.set_index("wave_id")
    assert by_wave.loc["w1_2022", "ratio_to_previous"] == pytest.approx(1.25)
    assert by_wave.loc["w2_2023", "ratio_to_previous"] == pytest.approx(0.5)
    assert by_wave.loc["w0_2021", "n_current"] == 0  # gone now: a full drop
    assert by_wave.loc["w0_2021", "ratio_to_previous"] == 0
    assert inputs.notes == []


def test_a_new_wave_has_no_ratio(tmp_path):
    build = tracking_db(tmp_path / "build.duckdb", {"w1_2022": 10, "w2_2023": 7})
    previous = tracking_db(tmp_path / "published.duckdb", {"w1_2022": 10})
    with duckdb.connect(str(build)) as con, PreviousRun(previous) as before:
        inputs = SuiteInputs(con=con, previous=before, settings=SuiteSettings())
        compared = compare_counts(inputs, "panel_tracking", COUNTS_SQL, ("wave_id",), "rows per wave")
    new_wave = compared[compared["wave_id"] == "w2_2023"].iloc[0]
    assert new_wave["n_current"] == 7 and pd.isna(new_wave["n_previous"]) and pd.isna(new_wave["ratio_to_previous"])


def test_a_previous_file_without_the_mart_skips_with_a_note(tmp_path):
    build = tracking_db(tmp_path / "build.duckdb", {"w1_2022": 3})
    previous = tmp_path / "published.duckdb"
    duckdb.connect(str(previous)).close()
    with duckdb.connect(str(build)) as con, PreviousRun(previous) as before:
        inputs = SuiteInputs(con=con, previous=before, settings=SuiteSettings())
        assert compare_counts(inputs, "panel_tracking", COUNTS_SQL, ("wave_id",), "rows per wave") is None
    assert inputs.notes == [f"skipped: rows per wave vs the previous run, because the previous published "
                            f"warehouse {previous} has no marts.panel_tracking"]


def test_require_mart_names_the_table_and_missing_columns(tmp_path):
    with duckdb.connect() as con:
        with pytest.raises(MartSuiteError, match=r"marts\.panel_tracking does not exist"):
            require_mart(con, "panel_tracking", ("person_id",))
        con.execute("create schema marts; create table marts.panel_tracking (person_id varchar)")
        with pytest.raises(MartSuiteError, match=r"lacks contract column\(s\) wave_id, status"):
            require_mart(con, "panel_tracking", ("person_id", "wave_id", "status"))


def test_failure_examples_name_rows_by_their_keys():
    frame = CheckFrame("share_sums", pd.DataFrame({"wave_id": ["w1", "w2", "w3"], "share_sum": [1.0, 0.9, float("nan")]}),
                       [], ("wave_id",))
    details = {"unexpected_count": 8, "partial_unexpected_index_list": [1, 2]}
    assert example_rows(frame, details, ["share_sum"]) == "wave_id=w2: share_sum=0.9; wave_id=w3: share_sum=NULL; and 6 more"


def test_expected_values_are_worded_for_readers():
    assert expected_text("expect_column_values_to_be_between", {"min_value": 0.8, "max_value": 1.2}) == "between 0.8 and 1.2"
    assert expected_text("expect_column_values_to_be_between", {"min_value": 0, "strict_min": True}) == "> 0"
    assert expected_text("expect_column_pair_values_a_to_be_greater_than_b",
                         {"column_A": "n_asked", "column_B": "n_selected", "or_equal": True}) == "n_asked >= n_selected"
    assert expected_text("expect_column_values_to_be_in_set", {"value_set": ["a", "b"]}) == "one of a, b"
    assert format_value(1 + 1e-6) == "1.000001"


def test_every_mart_of_the_contract_with_a_suite_is_registered():
    from validation.expectations.suites import REQUIRED_COLUMNS, SUITE_BUILDERS

    assert set(SUITE_BUILDERS) == set(REQUIRED_COLUMNS) == set(MART_NAMES)


def test_importing_the_package_does_not_load_great_expectations():
    """Dagster definitions import it at load time; GX is loaded only when a suite runs."""
    code = "import sys, validation.expectations; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
