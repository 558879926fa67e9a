"""Deliveries the warehouse has never seen: a fourth wave with no seed row, residents of all of Norway,
and a delivery that says something new (a late UDI history, an unexpected return share, an impossible
date, no `_truth/`). Each is refreshed end to end with `python -m orchestration.refresh`."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_ROOT, panel_env

pytestmark = pytest.mark.end_to_end

NEW_WAVE = "w4_2025"
SAMPLE_MUNICIPALITIES = PROJECT_ROOT / "synthetic_panel" / "data" / "synthetic_sample_municipalities.csv"
MUNICIPALITY_COLUMNS = ("kommune", "Municipality", "kommunenr")


def generate(data_dir: Path, *args: str) -> Path:
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data_dir / "raw"), *args], check=True,
                   cwd=PROJECT_ROOT, env=panel_env(data_dir), capture_output=True)
    return data_dir / "raw"


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def truth_rows(raw_or_truth: Path, name: str) -> list[dict[str, str]]:
    with (raw_or_truth / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_published(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def person_of_each_response(data_dir: Path) -> dict[tuple[str, str], str]:
    rows = query(data_dir, "select wave_id, response_id, person_id from intermediate.int_responses_linked")
    return {(wave, response): person for wave, response, person in rows}


# ---- a fourth wave, no seed row, residents of all of Norway -----------------------------------------------

@pytest.fixture(scope="module")
def four_waves(tmp_path_factory, run_refresh):
    """w1-w3 published first, then the generator's w4_2025 (w3 layout, no survey_waves.csv row) added."""
    data_dir = tmp_path_factory.mktemp("four_waves") / "data"
    raw = generate(data_dir, "--scale", "0.3", "--seed", "3", "--waves", "4", "--municipalities", "all")
    parked = data_dir / "parked_wave"
    shutil.move(raw / "survey" / NEW_WAVE, parked)
    assert_published(run_refresh(data_dir))
    before = person_of_each_response(data_dir)
    shutil.move(parked, raw / "survey" / NEW_WAVE)
    second = run_refresh(data_dir)
    assert_published(second)
    return data_dir, before, person_of_each_response(data_dir), second


def test_the_new_wave_has_no_seed_row():
    waves = truth_rows(PROJECT_ROOT / "dbt_project" / "seeds" / "codebook", "survey_waves.csv")
    assert NEW_WAVE not in {row["wave_id"] for row in waves}


def test_a_fourth_wave_flows_into_every_mart(four_waves):
    data_dir, _, after, _ = four_waves
    assert {wave for wave, _ in after} == {"w1_2022", "w2_2023", "w3_2024", NEW_WAVE}
    assert query(data_dir, "select distinct length(wave_pattern) from marts.persons") == [(4,)]
    assert query(data_dir, "select count(*) from marts.persons where n_waves <> "
                           "length(replace(wave_pattern, '0', ''))") == [(0,)]
    for mart in ("aspiration_transitions", "attrition"):
        pairs = query(data_dir, f"select distinct wave_from, wave_to from marts.{mart} order by 1, 2")
        assert len(pairs) == 6, (mart, pairs)
    for table in ("aspiration_by_wave", "exit_reasons", "panel_tracking"):
        waves = {w for (w,) in query(data_dir, f"select distinct wave_id from marts.{table}")}
        assert NEW_WAVE in waves, table
    assert query(data_dir, "select count(*) from release.aspiration_transitions where wave_to = ?", [NEW_WAVE])[0][0] > 0


def test_adding_the_wave_keeps_every_person_id_and_links_only_the_new_wave(four_waves):
    data_dir, before, after, _ = four_waves
    assert before and {wave for wave, _ in before} == {"w1_2022", "w2_2023", "w3_2024"}
    assert {key: after[key] for key in before} == before
    new_persons = {person for (wave, _), person in after.items() if wave == NEW_WAVE}
    assert new_persons & set(before.values()), "some w4 respondents are earlier panel members"
    (waves_linked_last,) = query(data_dir, "select waves from linkage.runs order by finished_at desc limit 1")[0]
    assert waves_linked_last == [NEW_WAVE]


def test_the_missing_seed_row_is_a_warning_not_a_failure(four_waves):
    *_, second = four_waves
    assert NEW_WAVE in second.stdout + second.stderr
    assert "survey_waves.csv" in second.stdout + second.stderr


def test_residents_of_all_of_norway_load_with_the_right_municipality(four_waves):
    data_dir, *_ = four_waves
    truth = data_dir / "raw" / "_truth"
    sample = {row["kommune_code_2024"] for row in truth_rows(SAMPLE_MUNICIPALITIES.parent, SAMPLE_MUNICIPALITIES.name)}
    defective = {(row["wave_id"], row["response_id"]) for row in truth_rows(truth, "defects.csv")
                 if row["column"] in MUNICIPALITY_COLUMNS}
    true_person = {(r["wave_id"], r["response_id"]): r["person_id"] for r in truth_rows(truth, "responses.csv")}
    true_first_code = {r["person_id"]: r["kommune_code_2024_first"] for r in truth_rows(truth, "persons.csv")}
    # Persons first seen in w1/w2 whose first response of record answered the municipality question
    # (a partial response may have stopped before it).
    rows = query(data_dir, """
        select p.first_wave_id, l.response_id, p.first_kommune_code_2024
        from marts.persons p
        join intermediate.int_responses_linked l
          on l.person_id = p.person_id and l.wave_id = p.first_wave_id and l.is_response_of_record
        join raw.survey_responses r on r.wave_id = l.wave_id and r.response_id = l.response_id
        where p.first_wave_id in ('w1_2022', 'w2_2023')
          and exists (select 1 from raw.survey_cells c
                      where c.source_file = r.source_file and c.row_number = r.row_number
                        and c.variable in ('kommune', 'Municipality') and c.value is not null)""")
    checked, outside_sample, wrong = 0, set(), []
    for wave, response, code in rows:
        if (wave, response) in defective or not true_person.get((wave, response)):
            continue
        expected = true_first_code[true_person[(wave, response)]]
        checked += 1
        if expected not in sample:
            outside_sample.add(expected)
        if code != expected:
            wrong.append((wave, response, code, expected))
    assert len(outside_sample) >= 50, f"only {len(outside_sample)} municipalities outside the generator's sample"
    assert not wrong, f"{len(wrong)} of {checked} persons have the wrong first municipality, e.g. {wrong[:5]}"
    assert query(data_dir, "select count(*) from audit.quarantine where action = 'row_quarantined' "
                           "and column_name in ('kommune', 'Municipality', 'kommunenr')") == [(0,)]


# ---- the default data: nobody lost for one bad answer ------------------------------------------------------

def test_no_respondent_of_record_is_lost_to_quarantine(demo_warehouse):
    data_dir = Path(demo_warehouse)
    truth = truth_rows(data_dir / "raw" / "_truth", "responses.csv")
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("create temp table truth (wave_id varchar, response_id varchar, person_id varchar)")
        con.executemany("insert into truth values (?, ?, ?)",
                        [(r["wave_id"], r["response_id"], r["person_id"]) for r in truth if r["person_id"]])
        lost = con.execute("""
            select count(*) from (select distinct wave_id, person_id from truth) respondents
            where not exists (
                select 1 from truth t join raw.survey_responses r
                  on r.wave_id = t.wave_id and r.response_id = t.response_id
                where t.wave_id = respondents.wave_id and t.person_id = respondents.person_id)""").fetchone()[0]
        cells = con.execute("select coalesce(sum(cells_set_missing), 0) from audit.row_accounting").fetchone()[0]
    finally:
        con.close()
    assert lost == 0
    assert cells > 0, "the default data puts defects on real respondents' answers"


# ---- a delivery that says something new ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def new_story(tmp_path_factory, run_refresh):
    """65 % 'return as soon as the war ends' in w1, UDI history from late 2024, an empty snapshot folder,
    impossible dates, and no `_truth/` (as in a real delivery)."""
    data_dir = tmp_path_factory.mktemp("new_story") / "data"
    raw = generate(data_dir, "--scale", "0.2", "--seed", "11", "--w1-return-share", "0.65",
                   "--udi-from", "2024-10-05")
    truth = data_dir / "truth_kept_aside"
    shutil.move(raw / "_truth", truth)
    (raw / "udi" / "2025-11-05").mkdir()
    result = run_refresh(data_dir)
    assert_published(result)
    return data_dir, truth, result


def test_a_new_story_publishes_as_it_is(new_story):
    data_dir, _, _ = new_story
    (share,) = query(data_dir, "select share from marts.aspiration_by_wave where wave_id = 'w1_2022' "
                               "and scale = 'coarse' and aspiration = 'return_asap'")[0]
    assert share == pytest.approx(0.65, abs=0.05)
    assert query(data_dir, "select count(*) from marts.udi_monthly where granted_cumulative is not null") == [(0,)]
    assert query(data_dir, "select count(*) from marts.udi_monthly where valid_stock is not null")[0][0] > 0


def test_without_truth_linkage_quality_is_estimated(new_story):
    data_dir, _, _ = new_story
    rows = query(data_dir, "select predicted_pairs, estimated_precision, estimated_recall, precision "
                           "from marts.linkage_quality")
    assert rows and all(truth is None for *_, truth in rows)
    # estimated precision is documented NULL where a method predicted no pair of a wave pair
    assert all((est is not None) == (predicted > 0) for predicted, est, _, _ in rows)
    assert any(recall is not None for _, _, recall, _ in rows)


def test_an_impossible_date_costs_the_cell_not_the_respondent(new_story):
    data_dir, truth, _ = new_story
    impossible = [r for r in truth_rows(truth, "defects.csv") if r["kind"] == "impossible_date"]
    assert impossible
    for defect in impossible:
        loaded = query(data_dir, "select count(*) from raw.survey_responses where wave_id = ? and response_id = ?",
                       [defect["wave_id"], defect["response_id"]])
        audit = query(data_dir, "select action, reason from audit.quarantine where source_file like ? "
                                "and row_number = ? and column_name = ?",
                      [f"survey/{defect['wave_id']}/%", int(defect["row_number"]), defect["column"]])
        assert loaded == [(1,)], defect
        assert [action for action, _ in audit] == ["cell_set_missing"], (defect, audit)
        cell = query(data_dir, "select value from raw.survey_cells where wave_id = ? and row_number = ? "
                               "and variable = ?", [defect["wave_id"], int(defect["row_number"]), defect["column"]])
        assert cell in ([], [(None,)]), defect


def test_an_empty_snapshot_folder_does_not_block(new_story):
    data_dir, _, result = new_story
    assert "2025-11-05" in result.stdout + result.stderr
    assert query(data_dir, "select count(*) from audit.row_accounting where partition_key = '2025-11-05' "
                           "and rows_in > 0") == [(0,)]
