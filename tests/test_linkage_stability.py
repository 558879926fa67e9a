"""Person ids are deterministic and stable: adding a wave never changes an existing id."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from linkage.run import link_waves
from linkage.synthetic import build_population, write_staging
from linkage.truth import TruthFileError, load_truth

ID_COLUMNS = ["wave_id", "response_id", "person_id", "is_response_of_record", "link_method"]


@pytest.fixture(scope="module")
def population():
    return build_population(250, seed=3)


def assignments(con) -> pd.DataFrame:
    return con.execute(f"SELECT {', '.join(ID_COLUMNS)} FROM linkage.response_persons "
                       "ORDER BY wave_id, response_id").df()


def staged(population, waves):
    con = duckdb.connect()
    responses = population.responses[population.responses.wave_id.isin(waves)]
    invitations = population.invitations[population.invitations.wave_id.isin(waves)]
    write_staging(con, responses, invitations)
    return con


def test_adding_w3_keeps_every_existing_person_id(population):
    con = staged(population, ["w1_2022", "w2_2023"])
    link_waves(con)
    before = assignments(con)
    responses_w3 = population.responses
    write_staging(con, responses_w3, population.invitations)
    metadata = link_waves(con)
    after = assignments(con)
    assert metadata["waves_linked_this_run"] == ["w3_2024"]
    kept = after[after.wave_id != "w3_2024"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before)
    w3 = after[after.wave_id == "w3_2024"]
    assert len(w3) == (population.responses.wave_id == "w3_2024").sum()
    # The new wave is linked against the existing persons, not only given new ids.
    assert w3.person_id.isin(before.person_id).mean() > 0.5


def test_incremental_and_full_runs_give_identical_ids(population):
    incremental = staged(population, ["w1_2022", "w2_2023"])
    link_waves(incremental)
    write_staging(incremental, population.responses, population.invitations)
    link_waves(incremental)
    full = staged(population, ["w1_2022", "w2_2023", "w3_2024"])
    link_waves(full)
    pd.testing.assert_frame_equal(assignments(incremental), assignments(full))


def test_rerun_with_same_inputs_keeps_ids_and_records_a_run(population):
    con = staged(population, ["w1_2022", "w2_2023", "w3_2024"])
    link_waves(con)
    first = assignments(con)
    metadata = link_waves(con)
    pd.testing.assert_frame_equal(assignments(con), first)
    assert metadata["waves_linked_this_run"] == []
    runs = con.execute("SELECT waves, parameters, counts FROM linkage.runs ORDER BY started_at").fetchall()
    assert len(runs) == 2 and runs[0][0] == ["w1_2022", "w2_2023", "w3_2024"]
    parameters = json.loads(runs[0][1])
    assert parameters["match_threshold"] == metadata["thresholds"]["match_threshold"]
    assert "comparisons" in parameters["models_by_wave"]["w2_2023"]["splink_model"]


def test_changed_earlier_wave_relinks_from_that_wave_on(population):
    con = staged(population, ["w1_2022", "w2_2023", "w3_2024"])
    link_waves(con)
    con.execute("DELETE FROM staging.stg_survey__responses WHERE response_id = "
                "(SELECT min(response_id) FROM staging.stg_survey__responses WHERE wave_id = 'w2_2023')")
    metadata = link_waves(con)
    assert metadata["waves_linked_this_run"] == ["w2_2023", "w3_2024"]
    n_staged = con.execute("SELECT count(*) FROM staging.stg_survey__responses").fetchone()[0]
    assert con.execute("SELECT count(*) FROM linkage.response_persons").fetchone()[0] == n_staged


def test_person_id_is_the_hash_of_the_first_response_of_record(population):
    con = staged(population, ["w1_2022"])
    link_waves(con)
    wave, response, person = con.execute(
        "SELECT wave_id, response_id, person_id FROM linkage.response_persons "
        "WHERE is_response_of_record ORDER BY response_id LIMIT 1").fetchone()
    import hashlib
    assert person == "P" + hashlib.sha256(f"{wave}:{response}".encode()).hexdigest()[:12]


def test_truth_is_loaded_when_present_and_empty_otherwise(tmp_path):
    con = duckdb.connect()
    assert load_truth(con, None) == 0
    assert con.execute("SELECT count(*) FROM linkage.truth_responses").fetchone()[0] == 0
    path = tmp_path / "responses.csv"
    path.write_text("wave_id,response_id,person_id\nw1_2022,1,T1\nw2_2023,R_a,T1\nw1_2022,0,\n", encoding="utf-8")
    assert load_truth(con, path) == 3
    # A row written by no person (a test submission) is kept, with person_id NULL.
    assert con.execute("SELECT count(*) FROM linkage.truth_responses WHERE person_id IS NULL").fetchone()[0] == 1
    assert load_truth(con, tmp_path / "missing.csv") == 0


def test_truth_file_with_wrong_header_or_empty_cell_is_refused(tmp_path):
    con = duckdb.connect()
    bad = tmp_path / "responses.csv"
    bad.write_text("wave,response_id,person_id\n", encoding="utf-8")
    with pytest.raises(TruthFileError, match="header"):
        load_truth(con, bad)
    bad.write_text("wave_id,response_id,person_id\nw1_2022,,T1\n", encoding="utf-8")
    with pytest.raises(TruthFileError, match="row 1: column response_id"):
        load_truth(con, bad)
