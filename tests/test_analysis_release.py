"""Disclosure check of the `release` schema, reusable on any warehouse, and its own tests.

`assert_release_is_safe(con, min_cell)` asserts, for every release table, that no published count is
below the threshold, that every suppressed count is NULL and flagged (and its shares too), and that
no linear relation a reader knows (a group of counts and the total it adds up to, or two names for
the same count) has exactly one suppressed member, so nothing can be recomputed by subtraction.
The end-to-end test calls it on the demo warehouse.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb
import pandas as pd
import pytest

COARSE_OF_FINE = {
    "return_asap": "return_asap",
    "stay_norway": "stay_norway",
    "return_later": "undecided",
    "move_onward": "undecided",
    "uncertain": "undecided",
}
RELEASE_TABLES = ("aspiration_by_wave", "aspiration_transitions", "attrition", "exit_reasons", "udi_stock")
ATTRITION_COUNTS = ("n_base", "n_responded_norway", "n_responded_abroad", "n_not_observed")


def default_min_cell() -> int:
    return int(os.environ.get("PANEL_MIN_CELL", "5"))


def release_problems(con: duckdb.DuckDBPyConnection, min_cell: int | None = None) -> list[str]:
    """Every disclosure problem found in the release schema (empty list = safe)."""
    min_cell = default_min_cell() if min_cell is None else min_cell
    present = {row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'release'").fetchall()}
    problems = [f"release.{name} is missing" for name in RELEASE_TABLES if name not in present]
    for name in sorted(present):
        table = con.execute(f'select * from release."{name}"').df()
        problems += [f"release.{name}: {p}" for p in _cell_problems(table, min_cell)]
        checker = EQUATION_CHECKS.get(name)
        if checker is not None:
            problems += [f"release.{name}: {p}" for p in checker(table)]
    return problems


def assert_release_is_safe(con: duckdb.DuckDBPyConnection, min_cell: int | None = None) -> None:
    """Fail with the list of problems if any release cell is small or recoverable by subtraction."""
    problems = release_problems(con, min_cell)
    assert not problems, "\n".join(problems[:50])


def count_columns(table: pd.DataFrame) -> dict[str, str]:
    """Count column -> its suppression flag column (`<count>_suppressed`, or `suppressed` for valid_permits)."""
    pairs = {c: f"{c}_suppressed" for c in table.columns if f"{c}_suppressed" in table.columns}
    if "valid_permits" in table.columns and "suppressed" in table.columns:
        pairs["valid_permits"] = "suppressed"
    return pairs


def _cell_problems(table: pd.DataFrame, min_cell: int) -> Iterable[str]:
    pairs = count_columns(table)
    if not pairs:
        yield "has no count column with a suppression flag"
    for count, flag in pairs.items():
        small = table[count].notna() & (table[count] < min_cell)
        if small.any():
            yield f"{int(small.sum())} published {count} below {min_cell}"
        if (table[flag].astype(bool) != table[count].isna()).any():
            yield f"{count} is NULL exactly where {flag} is not true"
    primary = next(iter(pairs), None)
    for share in ("share", "weighted_share"):
        if share in table.columns and primary is not None and table.loc[table[pairs[primary]].astype(bool), share].notna().any():
            yield f"{share} published for a suppressed {primary}"


def _bad_equations(members: pd.DataFrame, equation_columns: list[str], label: str) -> Iterable[str]:
    """Equations (rows sharing `equation_columns`) with exactly one suppressed and some published member.

    An equation whose only member is suppressed reveals nothing by itself: its total is known only
    through published members (or through another equation, which is checked on its own).
    """
    if members.empty:
        return
    counts = members.groupby(equation_columns, dropna=False)["suppressed"].agg(["sum", "count"])
    for key, row in counts[(counts["sum"] == 1) & (counts["count"] >= 2)].head(5).iterrows():
        yield f"{label} {key}: exactly one of {row['count']} cells suppressed, so it can be recomputed"


def _same_count(members: pd.DataFrame, key_columns: list[str], label: str) -> Iterable[str]:
    """Cells that are the same count must be all suppressed or all published."""
    status = members.groupby(key_columns, dropna=False)["suppressed"].agg(["sum", "count"])
    for key, row in status[(status["sum"] > 0) & (status["sum"] < status["count"])].head(5).iterrows():
        yield f"{label} {key}: the same count is suppressed in one place and published in another"


def _subgroup_equations(table: pd.DataFrame, cell_columns: list[str], label: str) -> pd.DataFrame:
    """Members of 'the values of a subgroup add up to the `all` cell' equations (one per subgroup)."""
    values = table[table["subgroup"] != "all"]
    totals = table[table["subgroup"] == "all"]
    parts = [values]
    for subgroup in values["subgroup"].unique():
        parts.append(totals.assign(subgroup=subgroup))
    return pd.concat(parts, ignore_index=True)[cell_columns + ["subgroup", "suppressed"]]


def check_aspiration_by_wave(table: pd.DataFrame) -> Iterable[str]:
    cells = table.assign(suppressed=table["n_suppressed"].astype(bool))
    yield from _bad_equations(cells, ["wave_id", "scale"], "wave base")
    coarse = cells[cells["scale"] == "coarse"].assign(coarse=lambda d: d["aspiration"])
    fine = cells[cells["scale"] == "fine"].assign(coarse=lambda d: d["aspiration"].map(COARSE_OF_FINE))
    yield from _bad_equations(pd.concat([coarse, fine]), ["wave_id", "coarse"], "coarse = sum of fine")


def check_aspiration_transitions(table: pd.DataFrame) -> Iterable[str]:
    cells = table.assign(suppressed=table["n_persons_suppressed"].astype(bool))
    yield from _bad_equations(cells, ["wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from"], "origin base")
    members = _subgroup_equations(cells, ["wave_from", "wave_to", "aspiration_from", "outcome_to"], "values")
    yield from _bad_equations(members, ["wave_from", "wave_to", "subgroup", "aspiration_from", "outcome_to"], "subgroup total")
    origin = ["wave_from", "subgroup", "subgroup_value", "aspiration_from"]
    later_waves = sorted(cells["wave_to"].unique())
    for i, wave_a in enumerate(later_waves):
        for wave_b in later_waves[i + 1:]:
            both = cells[cells["wave_to"].isin([wave_a, wave_b])]
            yield from _bad_equations(both, origin, f"same base at {wave_a} and {wave_b}")


def check_attrition(table: pd.DataFrame) -> Iterable[str]:
    keys = ["wave_from", "wave_to", "subgroup", "subgroup_value"]
    long = pd.concat(
        [table[keys].assign(measure=m, suppressed=table[f"{m}_suppressed"].astype(bool)) for m in ATTRITION_COUNTS],
        ignore_index=True,
    )
    yield from _bad_equations(long, keys, "n_base = norway + abroad + not observed")
    for measure in ATTRITION_COUNTS:
        members = _subgroup_equations(long[long["measure"] == measure], ["wave_from", "wave_to"], measure)
        yield from _bad_equations(members, ["wave_from", "wave_to", "subgroup"], f"{measure} subgroup total")
    yield from _same_count(long[long["measure"] == "n_base"], ["wave_from", "subgroup", "subgroup_value"], "n_base")
    any_suppressed = table[[f"{m}_suppressed" for m in ATTRITION_COUNTS]].astype(bool).any(axis=1)
    if table.loc[any_suppressed, "retention_rate"].notna().any():
        yield "retention_rate published in a row with a suppressed count"


def check_exit_reasons(table: pd.DataFrame) -> Iterable[str]:
    cells = table.assign(suppressed=table["n_asked_suppressed"].astype(bool))
    yield from _same_count(cells, ["wave_id", "asked_of"], "n_asked")
    leavers = cells.drop_duplicates(["wave_id", "asked_of"])
    yield from _bad_equations(leavers, ["wave_id"], "everyone = returned + onward")


def check_udi_stock(table: pd.DataFrame) -> Iterable[str]:
    cells = table.assign(suppressed=table["suppressed"].astype(bool))
    yield from _bad_equations(cells, ["snapshot_date", "fylke_code", "sex"], "age groups")
    yield from _bad_equations(cells, ["snapshot_date", "fylke_code", "age_group"], "sexes")
    yield from _bad_equations(cells, ["snapshot_date"], "snapshot total")


EQUATION_CHECKS = {
    "aspiration_by_wave": check_aspiration_by_wave,
    "aspiration_transitions": check_aspiration_transitions,
    "attrition": check_attrition,
    "exit_reasons": check_exit_reasons,
    "udi_stock": check_udi_stock,
}


# --- tests of the checker itself, on hand-made release tables -------------------------------------


def _release_db(tables: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema release")
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"create table release.{name} as select * from frame")
        con.unregister("frame")
    return con


def _safe_tables() -> dict[str, pd.DataFrame]:
    aspiration = pd.DataFrame({
        "wave_id": ["w1"] * 6, "scale": ["coarse"] * 3 + ["fine"] * 3,
        "aspiration": ["return_asap", "stay_norway", "undecided", "return_asap", "stay_norway", "uncertain"],
        "n": [25, 20, 55, 25, 20, 55], "n_suppressed": [False] * 6,
        "share": [0.25, 0.2, 0.55] * 2, "weighted_share": [0.25, 0.2, 0.55] * 2,
    })
    exit_reasons = pd.DataFrame({
        "wave_id": ["w2"] * 3, "reason_code": [1, 3, 12], "reason_label": ["a", "b", "c"],
        "asked_of": ["returned", "everyone", "onward"], "n_selected": [None, 6, None],
        "n_selected_suppressed": [True, False, True], "n_asked": [None, 21, None], "n_asked_suppressed": [True, False, True],
    })
    attrition = pd.DataFrame({
        "wave_from": ["w1"] * 3, "wave_to": ["w2"] * 3, "subgroup": ["all", "gender", "gender"],
        "subgroup_value": ["all", "female", "male"], "n_base": [100, 70, 30], "n_base_suppressed": [False] * 3,
        "n_responded_norway": [60, 40, 20], "n_responded_norway_suppressed": [False] * 3,
        "n_responded_abroad": [10, 7, 3], "n_responded_abroad_suppressed": [False] * 3,
        "n_not_observed": [30, 23, 7], "n_not_observed_suppressed": [False] * 3, "retention_rate": [0.7, 47 / 70, 23 / 30],
    })
    return {"aspiration_by_wave": aspiration, "exit_reasons": exit_reasons, "attrition": attrition}


def test_checker_accepts_a_safe_release():
    tables = _safe_tables()
    tables["attrition"] = tables["attrition"].iloc[:1]
    con = _release_db(tables)
    problems = release_problems(con, min_cell=5)
    assert problems == ["release.aspiration_transitions is missing", "release.udi_stock is missing"]


def test_checker_finds_a_published_small_count():
    tables = _safe_tables()
    tables["aspiration_by_wave"].loc[1, "n"] = 4
    problems = release_problems(_release_db(tables), min_cell=5)
    assert any("published n below 5" in p for p in problems)


def test_checker_finds_a_count_recoverable_by_subtraction():
    # male abroad = 3 is suppressed, but female abroad 7 and the total 10 are published: 10 - 7 = 3.
    tables = _safe_tables()
    attrition = tables["attrition"]
    attrition.loc[2, ["n_responded_abroad", "n_responded_abroad_suppressed"]] = [None, True]
    attrition.loc[2, "retention_rate"] = None
    problems = release_problems(_release_db(tables), min_cell=5)
    assert any("n_responded_abroad subgroup total" in p for p in problems)
    assert any("norway + abroad + not observed" in p for p in problems)


def test_checker_finds_a_coarse_cell_that_reveals_a_fine_one():
    tables = _safe_tables()
    aspiration = tables["aspiration_by_wave"]
    aspiration.loc[3, ["n", "n_suppressed", "share", "weighted_share"]] = [None, True, None, None]
    aspiration.loc[4, ["n", "n_suppressed", "share", "weighted_share"]] = [None, True, None, None]
    problems = release_problems(_release_db(tables), min_cell=5)
    assert any("coarse = sum of fine" in p for p in problems)


def test_checker_finds_a_share_left_next_to_a_suppressed_count():
    tables = _safe_tables()
    tables["aspiration_by_wave"].loc[0, ["n", "n_suppressed"]] = [None, True]
    problems = release_problems(_release_db(tables), min_cell=5)
    assert any("share published for a suppressed n" in p for p in problems)


@pytest.mark.parametrize("min_cell", [5, 22])
def test_checker_threshold_is_a_parameter(min_cell):
    problems = release_problems(_release_db(_safe_tables()), min_cell=min_cell)
    assert any("published n_asked below 22" in p for p in problems) == (min_cell == 22)


# --- the demo warehouse (built once per session by tests/conftest.py) ---------------------------


@pytest.mark.end_to_end
def test_demo_warehouse_release_is_safe_and_complete(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        assert_release_is_safe(con)
        for name in RELEASE_TABLES:
            (released,) = con.execute(f"select count(*) from release.{name}").fetchone()
            (in_mart,) = con.execute(f"select count(*) from marts.{name}").fetchone()
            assert released == in_mart > 0, name
        (published,) = con.execute("select count(n_persons) from release.aspiration_transitions").fetchone()
        assert published > 0  # suppression leaves something to publish
    finally:
        con.close()
