"""dbt builds int_responses_linked and the persons marts (with their data and unit tests) on a linked
synthetic panel, and marts.linkage_quality reports what linkage.quality computes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from linkage.quality import overall_quality
from linkage.run import link_waves
from linkage.synthetic import build_population, write_staging

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT = Path(sys.executable).parent / "dbt"
SELECTION = ["path:models/intermediate/linkage", "path:models/marts/persons"]


def dbt(args: list[str], build_db: Path, scratch: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PANEL_BUILD_DB": str(build_db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    command = [str(DBT), *args, "--project-dir", str(PROJECT_ROOT / "dbt_project"), "--profiles-dir",
               str(PROJECT_ROOT / "dbt_project"), "--target-path", str(scratch / "target"),
               "--log-path", str(scratch / "logs")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("linkage_dbt")
    build_db = scratch / "warehouse.duckdb"  # dbt's view definitions name the catalog `warehouse`
    population = build_population(300, seed=9)
    truth = scratch / "responses.csv"
    population.truth.to_csv(truth, index=False)
    con = duckdb.connect(str(build_db))
    write_staging(con, population.responses, population.invitations)
    con.execute("CREATE SCHEMA weights")
    con.execute("CREATE TABLE weights.cross_sectional (wave_id VARCHAR, response_id VARCHAR, person_id VARCHAR, "
                "weight_cross DOUBLE, is_raked BOOLEAN)")
    link_waves(con, truth)
    con.execute("INSERT INTO weights.cross_sectional SELECT wave_id, response_id, person_id, 1.0, true "
                "FROM linkage.response_persons WHERE is_response_of_record")
    con.close()
    seeded = dbt(["seed", "--select", "survey_waves"], build_db, scratch)
    assert seeded.returncode == 0, seeded.stdout[-3000:]
    built = dbt(["build", "--select", *SELECTION], build_db, scratch)
    assert built.returncode == 0, built.stdout[-5000:]
    return build_db, built.stdout


def test_models_unit_tests_and_data_tests_pass(built_warehouse):
    _, log = built_warehouse
    assert "persons_wave_pattern_and_weakest_link" in log and "panel_tracking_status_from_first_wave_on" in log
    assert "ERROR=0" in log


def test_linkage_quality_mart_agrees_with_the_python_scorer(built_warehouse):
    con = duckdb.connect(str(built_warehouse[0]), read_only=True)
    expected = overall_quality(con)
    true_pairs, predicted, positives = con.execute(
        "SELECT sum(true_pairs), sum(predicted_pairs), sum(true_positive_pairs) FROM marts.linkage_quality "
        "WHERE method = 'all'").fetchone()
    assert (true_pairs, predicted, positives) == (
        expected["true_pairs"], expected["predicted_pairs"], expected["true_positives"])
    by_method = con.execute("SELECT sum(predicted_pairs) FROM marts.linkage_quality WHERE method <> 'all'").fetchone()[0]
    assert by_method == predicted


def test_persons_and_tracking_are_consistent(built_warehouse):
    con = duckdb.connect(str(built_warehouse[0]), read_only=True)
    n_persons = con.execute("SELECT count(DISTINCT person_id) FROM linkage.response_persons").fetchone()[0]
    assert con.execute("SELECT count(*) FROM marts.persons").fetchone()[0] == n_persons
    # Every responded wave in the pattern is a responded row in the tracking file, and vice versa.
    mismatches = con.execute("""
        SELECT count(*) FROM marts.persons p JOIN marts.panel_tracking t USING (person_id)
        WHERE (substr(p.wave_pattern, t.wave_number, 1) = '1') <> (t.status LIKE 'responded%')""").fetchone()[0]
    assert mismatches == 0
    assert con.execute("SELECT count(*) FROM marts.panel_tracking WHERE status = 'invited_no_response'").fetchone()[0] > 0
    columns = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name IN ('persons', 'panel_tracking')").fetchall()}
    assert not {c for c in columns if "email" in c or "bloom" in c or "token" in c}


def test_linkage_quality_mart_carries_the_estimates_next_to_the_truth(built_warehouse):
    con = duckdb.connect(str(built_warehouse[0]), read_only=True)
    mart = con.execute("""SELECT wave_from, wave_to, method, estimated_precision, estimated_recall, estimated_f1,
                                 estimated_precision_low, estimated_precision_high, precision
                          FROM marts.linkage_quality ORDER BY ALL""").df()
    estimates = con.execute("SELECT count(*) FROM linkage.quality_estimates").fetchone()[0]
    assert len(mart) == estimates > 0
    everything = mart[mart.method == "all"]
    assert everything.estimated_precision.notna().all() and everything.estimated_recall.notna().all()
    assert (everything.estimated_precision_low <= everything.estimated_precision).all()
    assert (everything.estimated_precision <= everything.estimated_precision_high).all()
    # Truth exists here, so the truth-based columns are filled as well.
    assert everything.precision.notna().all()
