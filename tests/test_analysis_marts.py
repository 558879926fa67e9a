"""The analysis marts and release tables built by dbt on a small hand-made panel.

The inputs other parts write (`intermediate.int_responses_linked` for the marts, and what it joins,
`staging.stg_survey__responses` and `linkage.response_persons`, for the weights; `marts.persons`,
`marts.udi_stock`, `staging.stg_udi__valid_permits`) are created here by hand; the codebook seeds,
`survey_weights` and this part's dbt models (with their unit and data tests) then run for real on them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from survey_weights import compute_weights
from test_analysis_release import assert_release_is_safe

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
SEEDS = ["survey_waves", "exit_reasons", "aspiration_scales"]
SELECTION = ["path:models/intermediate/analysis", "path:models/marts/analysis", "path:models/release"]
# w4_2025 has no row in the survey_waves seed: it must flow through weights and every mart all the same.
WAVES = {"w1_2022": 2022, "w2_2023": 2023, "w3_2024": 2024, "w4_2025": 2025}
REGIONS = ["03", "30", "46"]
# Table 1 reasons each w2 leaver in Ukraine / abroad elsewhere selected (codes), hand-made.
W2_LEAVERS = [
    ("ukraine", {1, 3}), ("ukraine", {1, 2}), ("ukraine", {3, 4}), ("ukraine", {5}), ("ukraine", {1, 6, 7}),
    ("ukraine", {2}), ("other", {12, 13}), ("other", {4, 12}),
]
W1_ASPIRATIONS = ["return_asap"] * 25 + ["uncertain"] * 55 + ["stay_norway"] * 20
LATER_FINE = ["return_asap", "return_later", "stay_norway", "move_onward", "uncertain"]
COARSE = {"return_asap": "return_asap", "stay_norway": "stay_norway"}


def hand_made_panel(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """100 w1 respondents in Norway; 60 answer w2 (8 of them abroad); 45 answer w3; 31 answer w4."""
    rng = np.random.default_rng(seed)
    persons, responses = [], []
    for i, aspiration in enumerate(W1_ASPIRATIONS):
        person = {
            "person_id": f"P{i:03d}",
            "gender": ["female", "female", "male", "female", "other"][i % 5] if i % 17 else "male",
            "birth_year": int(1950 + (i * 7) % 55),
            "children_in_norway_first": bool(i % 3 == 0) if i % 23 else None,
            "macro_region": ["east", "south", "west", "centre", None][i % 5],
            "arrival_month": dt.date(2022, 3 + i % 4, 1),
            "region_code": REGIONS[i % 3] if i % 29 else None,
        }
        persons.append(person)
        responses.append(_response(person, "w1_2022", "norway", aspiration, rng))
    for i, person in enumerate(persons[:60]):
        if i < len(W2_LEAVERS):
            destination, reasons = W2_LEAVERS[i]
            responses.append(_response(person, "w2_2023", destination, None, rng, reasons))
        else:
            responses.append(_response(person, "w2_2023", "norway", LATER_FINE[i % 5], rng))
    for i, person in enumerate(persons[4:49]):
        country = "ukraine" if i in (0, 1, 10) else "norway"
        responses.append(_response(person, "w3_2024", country, LATER_FINE[(i + 1) % 5] if country == "norway" else None,
                                   rng, {1} if country == "ukraine" else set()))
    # w4: person 0 (left for Ukraine at w2, silent at w3) is back in Norway; 20-49 answer in Norway;
    # 6-7 (onward at w2, back in Norway at w3) are silent, so they no longer count as left for w1 -> w4.
    for i in [0, *range(20, 50)]:
        responses.append(_response(persons[i], "w4_2025", "norway", LATER_FINE[i % 5], rng))
    frame = pd.DataFrame(responses)
    frame.loc[5, "is_complete"] = False  # a partial w1 response of record
    return pd.DataFrame(persons), frame


def _response(person: dict, wave_id: str, country: str, aspiration: str | None, rng, reasons: set[int] = frozenset()) -> dict:
    abroad = country != "norway"
    shown = _reasons_shown(country) if abroad else set()
    row = {
        "wave_id": wave_id,
        "wave_number": int(wave_id[1]),
        "submitted_at": dt.datetime(WAVES[wave_id], 6, 10, 12, 0),
        "response_id": f"{wave_id}-{person['person_id']}",
        "person_id": person["person_id"],
        "is_response_of_record": True,
        "is_complete": True,
        "country_now": country,
        "gender": person["gender"],
        "birth_year": person["birth_year"],
        "region_code": None if abroad else person["region_code"],
        "children_in_norway": None if abroad else int(rng.integers(0, 3)),
        "arrival_month": person["arrival_month"],
        "left_month": dt.date(WAVES[wave_id] - 1, 11, 1) if abroad else None,
        "aspiration": aspiration,
        "aspiration_coarse": None if aspiration is None else COARSE.get(aspiration, "undecided"),
    }
    for code in range(1, 15):
        row[f"reason_{code:02d}"] = (code in reasons) if code in shown else None
    return row


def _reasons_shown(country: str) -> set[int]:
    everyone = {3, 4, 6, 7, 8, 9, 11}
    return everyone | ({1, 2, 5, 10} if country == "ukraine" else {12, 13, 14})


def udi_rows() -> pd.DataFrame:
    rows = []
    for snapshot in ("2022-06-05", "2023-05-05", "2024-10-05"):
        for region_index, region in enumerate(REGIONS):
            for sex in ("female", "male"):
                for age_index, age_group in enumerate(["0-5", "18-34", "35-49", "50-66", "67+"]):
                    count = (3 if sex == "male" else 7) * (20 + 9 * region_index + 4 * age_index)
                    small = region == "46" and sex == "male" and age_group == "67+"
                    rows.append({
                        "snapshot_date": dt.date.fromisoformat(snapshot), "fylke_code": region,
                        "fylke_name": f"county {region}", "region_code": region, "sex": sex, "age_group": age_group,
                        "is_adult": age_group != "0-5", "valid_permits": 3 if small else count,
                        "is_suppressed": False,
                    })
    return pd.DataFrame(rows)


def run_dbt(args: list[str], db_path: Path, tmp_path: Path, min_cell: int = 5) -> subprocess.CompletedProcess:
    env = {**os.environ, "PANEL_BUILD_DB": str(db_path), "PANEL_MIN_CELL": str(min_cell), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [str(DBT_EXECUTABLE), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def build_inputs(db_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    persons, responses = hand_made_panel()
    udi = udi_rows()
    con = duckdb.connect(str(db_path))
    try:
        for schema in ("intermediate", "linkage", "marts", "staging"):
            con.execute(f"create schema if not exists {schema}")
        con.register("responses_df", responses)
        con.register("persons_df", persons)
        con.register("udi_df", udi)
        con.execute("create or replace table intermediate.int_responses_linked as select * from responses_df")
        # What int_responses_linked joins, which survey_weights reads: the staged responses and their links.
        con.execute("""create or replace table staging.stg_survey__responses as
                       select * exclude (person_id, is_response_of_record) from responses_df""")
        con.execute("""create or replace table linkage.response_persons as
                       select wave_id, wave_number, response_id, person_id, is_response_of_record from responses_df""")
        con.execute("create or replace table marts.persons as select * exclude (region_code) from persons_df")
        con.execute("create or replace table staging.stg_udi__valid_permits as select * from udi_df")
        con.execute("""create or replace table marts.udi_stock as
                       select snapshot_date, fylke_code, fylke_name, region_code, sex, age_group, is_adult,
                              valid_permits::integer as valid_permits, is_suppressed as suppressed from udi_df""")
    finally:
        con.close()
    return persons, responses


@pytest.fixture(scope="module")
def analysis_build(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("analysis")
    db_path = tmp_path / "warehouse.duckdb"
    persons, responses = build_inputs(db_path)
    seeded = run_dbt(["seed", "--select", *SEEDS], db_path, tmp_path)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    con = duckdb.connect(str(db_path))
    try:
        compute_weights(con)
    finally:
        con.close()
    built = run_dbt(["build", "--select", *SELECTION], db_path, tmp_path)
    assert built.returncode == 0, built.stdout[-6000:] + built.stderr[-3000:]
    con = duckdb.connect(str(db_path), read_only=True)
    yield {"con": con, "persons": persons, "responses": responses, "dbt_log": built.stdout, "tmp_path": tmp_path, "db_path": db_path}
    con.close()


def fetch(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def test_dbt_build_ran_the_unit_and_data_tests(analysis_build):
    log = analysis_build["dbt_log"]
    unit_tests_passed = set(re.findall(r"PASS (\w+::\w+)", log))
    assert len(unit_tests_passed) >= 10, unit_tests_passed
    assert "release_attrition::release_attrition_suppresses_small_cells_and_their_complements" in unit_tests_passed
    assert "PASS analysis_subgroups_add_up" in log and "PASS release_no_small_cells" in log
    assert "ERROR=0" in log and "FAIL=" not in log


def test_aspiration_by_wave_shares_reproduce_the_hand_made_w1(analysis_build):
    rows = fetch(analysis_build["con"], "select * from marts.aspiration_by_wave where wave_id = 'w1_2022' and scale = 'coarse'")
    shares = dict(zip(rows["aspiration"], rows["share"]))
    # 100 w1 responses of which one (person 5, `return_asap`) is partial: base 99.
    assert shares == pytest.approx({"return_asap": 24 / 99, "undecided": 55 / 99, "stay_norway": 20 / 99})
    assert rows["weighted_share"].sum() == pytest.approx(1.0)
    assert set(rows["weighted_share"].round(6)) != set(rows["share"].round(6))


def test_attrition_counts_the_hand_made_follow_up(analysis_build):
    row = fetch(analysis_build["con"],
                "select * from marts.attrition where wave_from = 'w1_2022' and wave_to = 'w2_2023' and subgroup = 'all'").iloc[0]
    assert (row["n_base"], row["n_responded_norway"], row["n_responded_abroad"], row["n_not_observed"]) == (100, 52, 8, 40)
    assert row["retention_rate"] == pytest.approx(0.6)


def test_transitions_count_leavers_at_an_earlier_wave_as_left(analysis_build):
    con = analysis_build["con"]
    outcomes = fetch(con, "select outcome_to, sum(n_persons) as n from marts.aspiration_transitions "
                          "where wave_from = 'w1_2022' and wave_to = 'w3_2024' and subgroup = 'all' group by 1")
    counts = dict(zip(outcomes["outcome_to"], outcomes["n"]))
    # Persons 0-5 answered w2 from Ukraine (0-3 are silent at w3, 4-5 answer it from Ukraine), 6-7 went
    # onward by w2 but answer w3 from Norway again, and 14 answers w3 from Ukraine: 7 left to Ukraine.
    assert counts["left_to_ukraine"] == 7
    assert "left_onward" not in counts
    assert sum(counts.values()) == 100  # every w1 response in Norway has an aspiration (the partial one too)


def test_a_fourth_wave_without_a_seed_row_gives_every_pair_and_follows_the_outcome_rule(analysis_build):
    con = analysis_build["con"]
    pairs = {tuple(p) for p in fetch(con, "select distinct wave_from, wave_to from marts.attrition").to_numpy()}
    assert pairs == {(a, b) for a in WAVES for b in WAVES if a < b}
    transitions = {tuple(p) for p in fetch(con, "select distinct wave_from, wave_to from marts.aspiration_transitions").to_numpy()}
    assert transitions == pairs
    outcomes = fetch(con, "select outcome_to, sum(n_persons) as n from marts.aspiration_transitions "
                          "where wave_from = 'w1_2022' and wave_to = 'w4_2025' and subgroup = 'all' group by 1")
    counts = dict(zip(outcomes["outcome_to"], outcomes["n"]))
    # Left to Ukraine by w4: 1-3 (Ukraine at w2, silent since), 4-5 (Ukraine at w2 and w3), 14 (Ukraine at
    # w3); person 0 is back in Norway and 6-7 answered w3 from Norway: not left.
    assert counts["left_to_ukraine"] == 6 and "left_onward" not in counts
    assert sum(counts.values()) - counts["not_observed"] - counts["left_to_ukraine"] == 31
    attrition = fetch(con, "select * from marts.attrition where wave_from = 'w3_2024' and wave_to = 'w4_2025' "
                           "and subgroup = 'all'").iloc[0]
    # w3: persons 4-48, of whom 4, 5 and 14 answered from Ukraine; 20-48 answer w4 in Norway.
    assert attrition["n_base"] == 42 and attrition["n_responded_norway"] == 29
    weights = fetch(con, "select count(*) as n, avg(weight_cross) as mean from weights.cross_sectional where wave_id = 'w4_2025'").iloc[0]
    assert weights["n"] == 31 and weights["mean"] == pytest.approx(1.0)


def test_exit_reasons_for_w2_count_the_hand_made_answers(analysis_build):
    rows = fetch(analysis_build["con"], "select * from marts.exit_reasons where wave_id = 'w2_2023' order by reason_code")
    selected = dict(zip(rows["reason_code"], rows["n_selected"]))
    asked = dict(zip(rows["reason_code"], rows["n_asked"]))
    assert selected == {1: 3, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1, 7: 1, 8: 0, 9: 0, 10: 0, 11: 0, 12: 2, 13: 1, 14: 0}
    assert asked[3] == 8 and asked[1] == 6 and asked[12] == 2


def test_exits_one_row_per_leaver_with_time_in_norway_and_prior_aspiration(analysis_build):
    exits = fetch(analysis_build["con"], "select * from marts.exits order by person_id")
    assert len(exits) == exits["person_id"].nunique() == 9  # 8 in w2, person 14 in w3
    first = exits.set_index("person_id").loc["P000"]
    assert first["reported_in_wave"] == "w2_2023" and first["destination"] == "ukraine"
    assert first["months_in_norway"] == 8  # arrived 2022-03, left 2022-11
    assert first["aspiration_before"] == "return_asap"
    assert bool(first["reason_1"]) and bool(first["reason_3"]) and not bool(first["reason_2"])
    late = exits.set_index("person_id").loc["P014"]
    assert late["reported_in_wave"] == "w3_2024" and late["aspiration_before"] == "undecided"  # w2 answer


def test_raked_weights_reproduce_udi_margins(analysis_build):
    margins = fetch(analysis_build["con"], "select * from weights.raking_margins")
    assert (margins["achieved_share"] - margins["target_share"]).abs().max() < 0.005


def test_release_tables_pass_the_disclosure_check(analysis_build):
    assert_release_is_safe(analysis_build["con"], min_cell=5)


def test_release_suppresses_small_exit_reason_counts(analysis_build):
    rows = fetch(analysis_build["con"], "select * from release.exit_reasons where wave_id = 'w2_2023' order by reason_code")
    # Every count is below 5: the nonzero ones are suppressed, the zeros published (a zero is not small).
    zero = rows["n_selected"].eq(0).fillna(False)
    assert zero.any() and (rows["n_selected_suppressed"] == ~zero).all() and rows.loc[~zero, "n_selected"].isna().all()
    assert rows.loc[rows["asked_of"] == "everyone", "n_asked"].eq(8).all()
    assert rows.loc[rows["asked_of"] != "everyone", "n_asked"].isna().all()  # 6 in Ukraine would give 8 - 6 = 2


def test_every_contract_column_is_documented_and_persisted(analysis_build):
    comments = fetch(analysis_build["con"],
                     "select schema_name, table_name, column_name, comment from duckdb_columns() "
                     "where schema_name in ('marts', 'release') and table_name not in ('persons', 'udi_stock')")
    assert len(comments) > 40
    assert comments["comment"].notna().all() and (comments["comment"].str.len() > 5).all(), \
        comments[comments["comment"].isna()]


def test_panel_min_cell_sets_the_release_threshold(analysis_build, tmp_path):
    # Rebuild only the release tables, on a copy, with a threshold of 12 taken from PANEL_MIN_CELL.
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(analysis_build["db_path"], copy)
    rebuilt = run_dbt(["run", "--select", "path:models/release"], copy, tmp_path, min_cell=12)
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert_release_is_safe(con, min_cell=12)
        (n_asked,) = con.execute("select distinct n_asked from release.exit_reasons where wave_id = 'w2_2023'").fetchone()
        assert n_asked is None  # 8 leavers: published at 5, withheld at 12
        (smallest,) = con.execute("select min(n_base) from release.attrition").fetchone()
        assert smallest >= 12
    finally:
        con.close()


def test_a_null_in_a_not_null_mart_column_fails_the_build_naming_the_column(analysis_build, tmp_path):
    """Not-null columns of the contracted marts are constraints DuckDB enforces as the table is built (no
    separate not_null test): a NULL where one is declared fails the model, so nothing downstream builds."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(analysis_build["db_path"], copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("update intermediate.int_analysis_responses set wave_id = null where response_id = "
                    "(select min(response_id) from intermediate.int_analysis_responses "
                    " where is_complete and country_now = 'norway' and aspiration is not null)")
    finally:
        con.close()
    rebuilt = run_dbt(["run", "--select", "aspiration_by_wave"], copy, tmp_path)
    assert rebuilt.returncode != 0
    assert "NOT NULL constraint failed" in rebuilt.stdout and "wave_id" in rebuilt.stdout, rebuilt.stdout[-3000:]
