"""Disclosure check of the `release` schema, reusable on any warehouse, and its own tests.

`assert_release_is_safe(con, min_cell)` asserts, for every release table, that no published count is
in 1 .. threshold - 1 (zeros are published), that every suppressed count is NULL and flagged (and its shares too), and that
no linear relation a reader knows (a group of counts and the total it adds up to, or two names for
the same count) has exactly one suppressed member, so nothing can be recomputed by subtraction.
The end-to-end test calls it on the demo warehouse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

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
        small = table[count].notna() & (table[count] > 0) & (table[count] < min_cell)
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


def _with_published_base(cells: pd.DataFrame, group: list[str], count: str) -> pd.DataFrame:
    """The cells of the groups whose base (the shares') is published: a share of a published nonzero count
    reveals it; published zeros alone do not (their share is withheld then)."""
    published_nonzero = cells[count].fillna(0).ne(0).groupby([cells[c] for c in group]).transform("any")
    return cells[published_nonzero]


def check_aspiration_by_wave(table: pd.DataFrame) -> Iterable[str]:
    cells = table.assign(suppressed=table["n_suppressed"].astype(bool))
    yield from _bad_equations(_with_published_base(cells, ["wave_id", "scale"], "n"), ["wave_id", "scale"], "wave base")
    coarse = cells[cells["scale"] == "coarse"].assign(coarse=lambda d: d["aspiration"])
    fine = cells[cells["scale"] == "fine"].assign(coarse=lambda d: d["aspiration"].map(COARSE_OF_FINE))
    yield from _bad_equations(pd.concat([coarse, fine]), ["wave_id", "coarse"], "coarse = sum of fine")


def check_aspiration_transitions(table: pd.DataFrame) -> Iterable[str]:
    cells = table.assign(suppressed=table["n_persons_suppressed"].astype(bool))
    origin_of_pair = ["wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from"]
    yield from _bad_equations(_with_published_base(cells, origin_of_pair, "n_persons"), origin_of_pair, "origin base")
    members = _subgroup_equations(cells, ["wave_from", "wave_to", "aspiration_from", "outcome_to"], "values")
    yield from _bad_equations(members, ["wave_from", "wave_to", "subgroup", "aspiration_from", "outcome_to"], "subgroup total")
    origin = ["wave_from", "subgroup", "subgroup_value", "aspiration_from"]
    later_waves = sorted(cells["wave_to"].unique())
    for i, wave_a in enumerate(later_waves):
        for wave_b in later_waves[i + 1:]:
            both = cells[cells["wave_to"].isin([wave_a, wave_b])]
            yield from _bad_equations(_with_published_base(both, origin, "n_persons"), origin, f"same base at {wave_a} and {wave_b}")


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
            assert released >= in_mart > 0, name  # transitions and answers are full grids: zero rows added
        (published,) = con.execute("select count(n_persons) from release.aspiration_transitions").fetchone()
        assert published > 0  # suppression leaves something to publish
    finally:
        con.close()


# --- release tables built by dbt from small adversarial marts, attacked by a solver ---------------
#
# Person-level microdata are simulated (few people, many small cells, zero counts) and aggregated to
# the marts exactly as their definitions say, with everyone in Norway giving a complete answer with an
# aspiration: then the relations across tables hold exactly, the worst case for disclosure. dbt builds
# the release tables (and runs their unit tests and blocking checks) on them; an integer-programming
# attack then bounds every suppressed count by every relation a reader knows, all tables together,
# plus "counts are whole and never negative". A count is disclosed when its bounds leave one value
# (other than zero, which the release publishes) or only values in 1 .. threshold - 1. Before the
# cross-table fix the attack disclosed 27, 19, 18 and 29 counts of the four data sets. The reader also
# knows that zeros are published: in a table with one count per row that leaves combinations out, each
# suppressed count is at least 1. When transitions and answers left zero rows out, that reader
# disclosed 169, 307, 179 and 142 counts (0, 108, 12 and 19 exactly); the release now publishes them
# as full grids, so a suppressed count may be 0.

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
OUTCOMES_ABROAD = {"ukraine": "left_to_ukraine", "other": "left_onward"}
OUTCOMES_TO_ASPIRATION = ("return_asap", "stay_norway", "undecided")
SCENARIO_SEEDS = range(4)


def _simulate_people(rng: np.random.Generator, prefix: str, n_people: int, n_waves: int) -> pd.DataFrame:
    """One row per person and wave: where the person answered (norway, ukraine, other) or None, and the fine aspiration."""
    waves = [f"{prefix}{k + 1}" for k in range(n_waves)]
    rows = []
    for person in range(n_people):
        gender = rng.choice(["female", "male", "unknown"], p=[0.6, 0.35, 0.05])
        age_band = rng.choice(["18-34", "35-49", "50-66"], p=[0.45, 0.4, 0.15])
        place = "norway"
        for number, wave in enumerate(waves):
            if number > 0 and place == "norway":
                place = rng.choice(["norway", "ukraine", "other"], p=[0.85, 0.1, 0.05])
            answered = number == 0 or rng.random() < 0.7
            aspiration = rng.choice(list(COARSE_OF_FINE), p=[0.1, 0.2, 0.4, 0.05, 0.25]) if place == "norway" else None
            rows.append({"person": f"{prefix}-{person}", "wave": wave, "number": number, "gender": gender, "age_band": age_band,
                         "place": place if answered else None, "aspiration": aspiration if answered else None})
    return pd.DataFrame(rows)


def _with_subgroups(people: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([
        people.assign(subgroup="all", subgroup_value="all"),
        people.assign(subgroup="gender", subgroup_value=people["gender"]),
        people.assign(subgroup="age_band", subgroup_value=people["age_band"]),
    ], ignore_index=True)


def _pair_outcomes(people: pd.DataFrame) -> pd.DataFrame:
    """marts' int_analysis_pair_outcomes: every pair of waves and person in Norway at wave_from."""
    by_wave = {wave: frame.set_index("person") for wave, frame in people.groupby("wave")}
    waves = sorted(by_wave, key=lambda w: by_wave[w]["number"].iloc[0])
    rows = []
    for i, wave_from in enumerate(waves):
        start = by_wave[wave_from]
        for j in range(i + 1, len(waves)):
            end = by_wave[waves[j]]
            for person in start.index[start["place"] == "norway"]:
                place_to = end.at[person, "place"]
                between = [by_wave[waves[k]].at[person, "place"] for k in range(i + 1, j)]
                abroad_between = [p for p in between if p in OUTCOMES_ABROAD]
                if place_to in OUTCOMES_ABROAD:
                    outcome = OUTCOMES_ABROAD[place_to]
                elif place_to == "norway":
                    outcome = COARSE_OF_FINE[end.at[person, "aspiration"]]
                elif abroad_between:
                    outcome = OUTCOMES_ABROAD[abroad_between[-1]]
                else:
                    outcome = "not_observed"
                status = {None: "not_observed", "norway": "responded_norway"}.get(place_to, "responded_abroad")
                rows.append({"person": person, "wave_from": wave_from, "wave_to": waves[j], "gender": start.at[person, "gender"],
                             "age_band": start.at[person, "age_band"], "aspiration_from": COARSE_OF_FINE[start.at[person, "aspiration"]],
                             "outcome_to": outcome, "status": status})
    return _with_subgroups(pd.DataFrame(rows))


def simulated_marts(seed: int) -> dict[str, pd.DataFrame]:
    """Small marts consistent with their definitions (two scenarios of 3 and 4 waves per seed)."""
    rng = np.random.default_rng(seed)
    panels = [_simulate_people(rng, f"a{seed}w", int(rng.integers(15, 60)), 3),
              _simulate_people(rng, f"b{seed}w", int(rng.integers(30, 90)), 4)]
    people = pd.concat(panels, ignore_index=True)
    outcomes = pd.concat([_pair_outcomes(panel) for panel in panels], ignore_index=True)
    keys = ["wave_from", "wave_to", "subgroup", "subgroup_value"]
    attrition = outcomes.pivot_table(index=keys, columns="status", values="person", aggfunc="count", fill_value=0)
    attrition = attrition.reindex(columns=["responded_norway", "responded_abroad", "not_observed"], fill_value=0)
    attrition.columns = ["n_responded_norway", "n_responded_abroad", "n_not_observed"]
    attrition = attrition.reset_index()
    attrition.insert(4, "n_base", attrition[["n_responded_norway", "n_responded_abroad", "n_not_observed"]].sum(axis=1))
    attrition["retention_rate"] = (attrition["n_responded_norway"] + attrition["n_responded_abroad"]) / attrition["n_base"]
    origin = keys + ["aspiration_from"]
    transitions = outcomes.groupby(origin + ["outcome_to"]).size().rename("n_persons").reset_index()
    transitions["share"] = transitions["n_persons"] / transitions.groupby(origin)["n_persons"].transform("sum")
    transitions["weighted_share"] = transitions["share"]
    answers = people[people["place"] == "norway"]
    by_wave = pd.concat([answers.assign(scale="fine", answer=answers["aspiration"]),
                         answers.assign(scale="coarse", answer=answers["aspiration"].map(COARSE_OF_FINE))])
    by_wave = by_wave.groupby(["wave", "scale", "answer"]).size().rename("n").reset_index()
    by_wave.columns = ["wave_id", "scale", "aspiration", "n"]
    by_wave["share"] = by_wave["n"] / by_wave.groupby(["wave_id", "scale"])["n"].transform("sum")
    by_wave["weighted_share"] = by_wave["share"]
    leavers = people[people["place"].isin(["ukraine", "other"])]
    exit_rows = []
    for wave, group in leavers.groupby("wave"):
        asked = {"everyone": len(group), "returned": int((group["place"] == "ukraine").sum()),
                 "onward": int((group["place"] == "other").sum())}
        for code, asked_of in enumerate(["everyone", "returned", "onward", "everyone"], start=1):
            exit_rows.append({"wave_id": wave, "reason_code": code, "reason_label": f"reason {code}", "asked_of": asked_of,
                              "n_selected": int(rng.binomial(asked[asked_of], 0.5)), "n_asked": asked[asked_of]})
    udi_rows = []
    for fylke in ["03", "11", "46"]:
        for sex in ["female", "male"]:
            for age_group in ["0-5", "18-34", "35-49", "67+"]:
                value = int(rng.choice([0, 1, 3, 4, 6, 9, 25, 40]))
                at_source = bool(rng.random() < 0.08)
                udi_rows.append({"snapshot_date": pd.Timestamp(date(2024, 1, 5 + seed)), "fylke_code": fylke, "fylke_name": f"county {fylke}",
                                 "region_code": fylke, "sex": sex, "age_group": age_group, "is_adult": age_group != "0-5",
                                 "valid_permits": None if at_source else value, "suppressed": at_source})
    return {"attrition": attrition, "aspiration_transitions": transitions, "aspiration_by_wave": by_wave,
            "exit_reasons": pd.DataFrame(exit_rows), "udi_stock": pd.DataFrame(udi_rows)}


def _write_marts(build_file: Path, marts: list[dict[str, pd.DataFrame]]) -> None:
    con = duckdb.connect(str(build_file))
    try:
        con.execute("create schema if not exists marts")
        for name in marts[0]:
            frame = pd.concat([m[name] for m in marts], ignore_index=True)
            con.register("frame", frame)
            con.execute(f"create or replace table marts.{name} as select * from frame")
            con.unregister("frame")
        for column in ("n_base", "n_responded_norway", "n_responded_abroad", "n_not_observed"):
            con.execute(f"alter table marts.attrition alter {column} type integer")
        con.execute("alter table marts.aspiration_transitions alter n_persons type integer")
        con.execute("alter table marts.aspiration_by_wave alter n type integer")
        con.execute("alter table marts.udi_stock alter valid_permits type integer")
        con.execute("alter table marts.udi_stock alter snapshot_date type date")  # as in the mart, so cell ids match
    finally:
        con.close()


def build_release(tmp_path: Path, marts: list[dict[str, pd.DataFrame]], min_cell: int = 5) -> subprocess.CompletedProcess:
    """`dbt build` of the release models, their unit tests and blocking checks on the given marts."""
    build_file = tmp_path / "build" / "warehouse.duckdb"
    build_file.parent.mkdir(parents=True, exist_ok=True)
    _write_marts(build_file, marts)
    env = {**os.environ, "PANEL_BUILD_DB": str(build_file), "PANEL_MIN_CELL": str(min_cell),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    arguments = [str(DBT_EXECUTABLE), "build", "--project-dir", str(PROJECT_ROOT / "dbt_project"),
                 "--profiles-dir", str(PROJECT_ROOT / "dbt_project"), "--target-path", str(tmp_path / "target"),
                 "--log-path", str(tmp_path / "logs"), "--select", "aspiration_scales", "path:models/release",
                 "path:tests/release"]
    return subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)


class Relations:
    """The linear relations a reader knows, as rows of (relation id, variable, coefficient) = 0, and the
    variables' true values and published values (NaN = suppressed or never published)."""

    def __init__(self) -> None:
        self.terms: list[tuple[str, str, float]] = []
        self.truth: dict[str, float] = {}
        self.published: dict[str, float] = {}
        self.at_least_one: set[str] = set()  # suppressed counts a reader knows are not zero

    def cell(self, name: str, true_value: float, published_value: float | None) -> str:
        self.truth[name] = float(true_value)
        known = published_value is not None and not pd.isna(published_value)
        previous = self.published.get(name)
        self.published[name] = float(published_value) if known else (previous if previous is not None else np.nan)
        return name

    def add(self, relation: str, name: str, coefficient: float = 1.0) -> None:
        self.terms.append((relation, name, coefficient))


def reader_relations(marts: dict[str, pd.DataFrame], release: dict[str, pd.DataFrame]) -> Relations:
    """The relations a reader knows, written independently of the dbt macros: within each table, and
    across tables attrition n_base = all transitions of the pair, attrition's in-Norway count = the
    transitions to an aspiration and (consecutive waves) its abroad and not-observed counts = the
    transitions that left or were not observed, and aspiration_by_wave's coarse answers = the
    transitions' origins (all exact here, as everyone in Norway answers the aspiration: the worst case;
    in real data they hold up to people the tables do not count)."""
    r = Relations()
    keys = ["wave_from", "wave_to", "subgroup", "subgroup_value"]
    att = marts["attrition"].merge(release["attrition"], on=keys, suffixes=("", "_pub"))
    for row in att.itertuples():
        base = r.cell(f"att|n_base|{row.wave_from}|{row.subgroup}|{row.subgroup_value}", row.n_base, row.n_base_pub)
        rel = f"att_row|{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}"
        r.add(rel, base, -1)
        for measure in ATTRITION_COUNTS[1:]:
            name = r.cell(f"att|{measure}|{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}",
                          getattr(row, measure), getattr(row, f"{measure}_pub"))
            r.add(rel, name)
        for measure in ATTRITION_COUNTS:
            name = base if measure == "n_base" else f"att|{measure}|{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}"
            if row.subgroup == "all":
                for subgroup in ("gender", "age_band"):
                    r.add(f"att_values|{measure}|{row.wave_from}|{row.wave_to}|{subgroup}", name, -1)
            else:
                r.add(f"att_values|{measure}|{row.wave_from}|{row.wave_to}|{row.subgroup}", name)
    origin = ["wave_from", "subgroup", "subgroup_value", "aspiration_from"]
    # A release row the mart has not (a zero of a full grid) is a count of 0.
    tra = marts["aspiration_transitions"].merge(release["aspiration_transitions"], on=keys + ["aspiration_from", "outcome_to"],
                                               how="right", suffixes=("", "_pub")).fillna({"n_persons": 0})
    pairs = set(zip(att["wave_from"], att["wave_to"]))
    for key, group in tra.groupby(origin):
        # The origin's base is one unknown for every wave_to; a published share reveals it.
        base = r.cell("tra_base|" + "|".join(key), group["n_persons"].sum() / group["wave_to"].nunique(),
                      next((row.n_persons_pub / row.share_pub for row in group.itertuples() if not pd.isna(row.share_pub) and row.share_pub > 0), None))
        for wave_to, cells in group.groupby("wave_to"):
            rel = "tra_origin|" + "|".join(key) + "|" + wave_to
            r.add(rel, base, -1)
            for row in cells.itertuples():
                r.add(rel, r.cell(f"tra|{row.wave_from}|{wave_to}|{row.subgroup}|{row.subgroup_value}|{row.aspiration_from}|{row.outcome_to}",
                                  row.n_persons, row.n_persons_pub))
    for row in tra.itertuples():
        name = f"tra|{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}|{row.aspiration_from}|{row.outcome_to}"
        tail = f"{row.wave_from}|{row.wave_to}|{row.aspiration_from}|{row.outcome_to}"
        if row.subgroup == "all":
            for subgroup in ("gender", "age_band"):
                r.add(f"tra_values|{subgroup}|{tail}", name, -1)
        else:
            r.add(f"tra_values|{row.subgroup}|{tail}", name)
        pair = f"{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}"
        r.add(f"x_base|{pair}", name)
    for row in att.itertuples():
        pair = f"{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}"
        r.add(f"x_base|{pair}", f"att|n_base|{row.wave_from}|{row.subgroup}|{row.subgroup_value}", -1)
    # Attrition's outcomes are the transitions' outcomes summed over origins: in Norway = the transitions
    # to an aspiration; for consecutive waves, abroad = the transitions that left (and so not observed too).
    consecutive = {(a, b) for a, b in pairs if not any((a, w) in pairs and (w, b) in pairs for w in {x for _, x in pairs})}
    outcome_links = {"n_responded_norway": set(OUTCOMES_TO_ASPIRATION), "n_responded_abroad": set(OUTCOMES_ABROAD.values()),
                     "n_not_observed": {"not_observed"}}
    for row in att.itertuples():
        pair = f"{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}"
        for measure in outcome_links if (row.wave_from, row.wave_to) in consecutive else ["n_responded_norway"]:
            r.add(f"x_{measure}|{pair}", f"att|{measure}|{pair}", -1)
    for row in tra.itertuples():
        pair = f"{row.wave_from}|{row.wave_to}|{row.subgroup}|{row.subgroup_value}"
        name = f"tra|{pair}|{row.aspiration_from}|{row.outcome_to}"
        for measure, outcomes in outcome_links.items():
            if row.outcome_to in outcomes and (measure == "n_responded_norway" or (row.wave_from, row.wave_to) in consecutive):
                r.add(f"x_{measure}|{pair}", name)
    abw = marts["aspiration_by_wave"].merge(release["aspiration_by_wave"], on=["wave_id", "scale", "aspiration"], how="right",
                                           suffixes=("", "_pub")).fillna({"n": 0})
    for (wave, scale), group in abw.groupby(["wave_id", "scale"]):
        base = r.cell(f"abw_base|{wave}|{scale}", group["n"].sum(),
                      next((row.n_pub / row.share_pub for row in group.itertuples() if not pd.isna(row.share_pub) and row.share_pub > 0), None))
        r.add(f"abw_base|{wave}|{scale}", base, -1)
        for row in group.itertuples():
            name = r.cell(f"abw|{wave}|{scale}|{row.aspiration}", row.n, row.n_pub)
            r.add(f"abw_base|{wave}|{scale}", name)
            coarse = row.aspiration if scale == "coarse" else COARSE_OF_FINE[row.aspiration]
            r.add(f"abw_coarse|{wave}|{coarse}", name, -1 if scale == "coarse" else 1)
            if scale == "coarse":
                # The coarse answers of a wave are the origins of its transitions (all).
                for wave_to in {b for a, b in pairs if a == wave}:
                    r.add(f"x_answers|{wave}|{wave_to}|{row.aspiration}", name, -1)
    for row in tra[tra["subgroup"] == "all"].itertuples():
        r.add(f"x_answers|{row.wave_from}|{row.wave_to}|{row.aspiration_from}",
              f"tra|{row.wave_from}|{row.wave_to}|all|all|{row.aspiration_from}|{row.outcome_to}")
    ext = marts["exit_reasons"].merge(release["exit_reasons"], on=["wave_id", "reason_code"], suffixes=("", "_pub"))
    for wave, group in ext.drop_duplicates(["wave_id", "asked_of"]).groupby("wave_id"):
        for row in group.itertuples():
            name = r.cell(f"exit|{wave}|{row.asked_of}", row.n_asked, row.n_asked_pub)
            r.add(f"exit_leavers|{wave}", name, -1 if row.asked_of == "everyone" else 1)
    for row in ext.itertuples():
        r.cell(f"exit_selected|{row.wave_id}|{row.reason_code}", row.n_selected, row.n_selected_pub)
    udi_keys = ["snapshot_date", "fylke_code", "sex", "age_group"]
    udi = marts["udi_stock"].merge(release["udi_stock"], on=udi_keys, suffixes=("", "_pub"))
    udi = udi[udi["valid_permits"].notna()]  # UDI's own dashes are unknown to us too: left out of every relation
    for row in udi.itertuples():
        name = r.cell("udi|" + "|".join(str(getattr(row, k)) for k in udi_keys), row.valid_permits, row.valid_permits_pub)
        for label, parts in (("ages", ["fylke_code", "sex"]), ("sexes", ["fylke_code", "age_group"]), ("snapshot", [])):
            group_key = "|".join([label, str(row.snapshot_date)] + [str(getattr(row, p)) for p in parts])
            r.add(group_key, name)
    # Each udi group total is published elsewhere (udi_monthly), so a group adds up to a known number: a
    # variable published with its true value (groups with a dash are left out: their total hides it).
    dashed_groups = set()
    for row in marts["udi_stock"][marts["udi_stock"]["suppressed"]].itertuples():
        dashed_groups |= {f"ages|{row.snapshot_date}|{row.fylke_code}|{row.sex}", f"sexes|{row.snapshot_date}|{row.fylke_code}|{row.age_group}",
                          f"snapshot|{row.snapshot_date}"}
    for relation in {t[0] for t in r.terms if t[0].split("|")[0] in ("ages", "sexes", "snapshot")}:
        total = sum(r.truth[n] * c for rel, n, c in r.terms if rel == relation)
        published = None if relation in dashed_groups else total
        r.add(relation, r.cell(f"total|{relation}", total, published), -1)
    # A table with one count per row that leaves some combination of its dimensions out leaves zero
    # counts out: zeros are published, so each of its suppressed counts is at least 1.
    for name, prefix in ROW_COUNT_TABLES.items():
        if any(omits_zero_rows(part, GRID_DIMENSIONS[name]) for _, part in release[name].groupby(GRID_WITHIN[name])):
            r.at_least_one |= {n for n, v in r.published.items() if n.startswith(prefix) and np.isnan(v)}
    return r


# Tables whose rows are one count each (name -> prefix of its counts in Relations), and the
# dimensions whose every combination a full grid has (columns listed together vary together).
ROW_COUNT_TABLES = {"aspiration_transitions": "tra|", "aspiration_by_wave": "abw|", "udi_stock": "udi|"}
GRID_DIMENSIONS = {
    "aspiration_transitions": [["wave_to"], ["subgroup", "subgroup_value"], ["aspiration_from"], ["outcome_to"]],
    "aspiration_by_wave": [["wave_id"], ["scale", "aspiration"]],
    "udi_stock": [["snapshot_date"], ["fylke_code"], ["sex"], ["age_group"]],
}
# A grid is full within each of these: a subgroup value with nobody in the transitions at wave_from has
# no rows there (all its counts are 0, none suppressed, so the absence tells nothing more).
GRID_WITHIN = {"aspiration_transitions": "wave_from", "aspiration_by_wave": "scale", "udi_stock": "snapshot_date"}


def omits_zero_rows(table: pd.DataFrame, dimensions: list[list[str]]) -> bool:
    """Whether a reader sees that a table leaves rows out: fewer rows than combinations of its dimensions."""
    combinations = np.prod([len(table[columns].drop_duplicates()) for columns in dimensions])
    return len(table) < combinations


UNBOUNDED = 10**7  # more than any count here: an upper bound this large means none


def recoverable_cells(relations: Relations, min_cell: int = 5) -> list[str]:
    """Suppressed counts an attacker narrows down too far: the whole numbers left by the tightest
    bounds under every relation and non-negativity (at least 1 for counts a reader knows are not zero;
    integer programming) are one value other than zero (recovered; a zero is publishable), or all lie
    in 1 .. min_cell - 1 (known to be a small count)."""
    names = sorted(relations.truth)
    index = {name: i for i, name in enumerate(names)}
    relation_ids = sorted({t[0] for t in relations.terms})
    row_of = {rel: i for i, rel in enumerate(relation_ids)}
    matrix = np.zeros((len(relation_ids), len(names)))
    for relation, name, coefficient in relations.terms:
        matrix[row_of[relation], index[name]] += coefficient
    truth = np.array([relations.truth[n] for n in names])
    assert np.allclose(matrix @ truth, 0), "the simulated marts break a relation the solver assumes"
    published = np.array([relations.published[n] for n in names])
    # Every variable is a count (a share base, n / share, up to rounding), so a whole number.
    lower = np.where(np.isnan(published), [1 if n in relations.at_least_one else 0 for n in names], np.round(published))
    upper = np.where(np.isnan(published), UNBOUNDED, np.round(published))  # a finite cap keeps HiGHS' MIP status clear
    system = {"constraints": LinearConstraint(matrix, 0, 0), "bounds": Bounds(lower, upper), "integrality": np.ones(len(names))}
    found = []
    for name in names:
        i = index[name]
        if not np.isnan(published[i]) or name.startswith(("tra_base", "abw_base", "total")):
            continue
        objective = np.zeros(len(names))
        objective[i] = 1
        low = milp(objective, **system)
        high = milp(-objective, **system)
        assert low.status == 0 and high.status == 0, name
        least, most = round(low.fun), round(-high.fun)
        if (least == most and most > 0) or (least >= 1 and most <= min_cell - 1):
            found.append(f"{name} = {relations.truth[name]:g} (bounds {least:g} .. {most:g})")
    return found


@pytest.fixture(scope="module")
def adversarial_release(tmp_path_factory) -> tuple[list[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
    tmp_path = tmp_path_factory.mktemp("release_adversarial")
    marts = [simulated_marts(seed) for seed in SCENARIO_SEEDS]
    result = build_release(tmp_path, marts)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    con = duckdb.connect(str(tmp_path / "build" / "warehouse.duckdb"), read_only=True)
    try:
        assert_release_is_safe(con, min_cell=5)
        release = {name: con.execute(f"select * from release.{name}").df() for name in RELEASE_TABLES}
    finally:
        con.close()
    return marts, release


def _scenario(release: dict[str, pd.DataFrame], marts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The release rows of one simulated data set (its wave ids and snapshot date are its own)."""
    waves = set(marts["aspiration_by_wave"]["wave_id"]) | set(marts["attrition"]["wave_from"]) | set(marts["exit_reasons"]["wave_id"])
    column = {"attrition": "wave_from", "aspiration_transitions": "wave_from", "aspiration_by_wave": "wave_id",
              "exit_reasons": "wave_id"}
    picked = {name: table[table[column[name]].isin(waves)] for name, table in release.items() if name in column}
    picked["udi_stock"] = release["udi_stock"][release["udi_stock"]["snapshot_date"].isin(set(marts["udi_stock"]["snapshot_date"]))]
    return picked


@pytest.mark.parametrize("seed", SCENARIO_SEEDS)
def test_no_suppressed_count_of_an_adversarial_release_is_recoverable(adversarial_release, seed):
    all_marts, release = adversarial_release
    marts = all_marts[seed]
    relations = reader_relations(marts, _scenario(release, marts))
    suppressed = sum(1 for n, v in relations.published.items() if np.isnan(v) and not n.startswith(("tra_base", "abw_base", "total")))
    assert suppressed > 0  # the scenario has something to protect
    assert recoverable_cells(relations) == []


def test_the_attack_finds_a_count_left_recoverable():
    # The solver can fail: publish one suppressed count's partner and it finds the count by subtraction.
    marts = simulated_marts(0)
    published = marts["attrition"].copy()
    published.loc[published.index[0], "n_responded_abroad"] = np.nan
    fake = {"attrition": published, "aspiration_transitions": marts["aspiration_transitions"],
            "aspiration_by_wave": marts["aspiration_by_wave"], "exit_reasons": marts["exit_reasons"],
            "udi_stock": marts["udi_stock"]}
    found = recoverable_cells(reader_relations(marts, fake))
    assert len(found) == 1 and found[0].startswith("att|n_responded_abroad|")
