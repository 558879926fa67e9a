"""A new build starts from the published panel's person assignments (see orchestration.refresh)."""
from __future__ import annotations

import duckdb

from linkage.schema import carry_over_assignments, ensure_linkage_tables


def published_with_one_assignment(folder):
    path = folder / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    ensure_linkage_tables(con)
    con.execute("INSERT INTO linkage.response_persons VALUES "
                "('w1_2022', 1, '7', 'P0123456789ab', true, NULL, 'single', NULL, NULL, 'run-1')")
    con.execute("INSERT INTO linkage.runs VALUES ('run-1', now()::TIMESTAMP, now()::TIMESTAMP, ['w1_2022'], '{}', '{}')")
    con.close()
    return path


def test_assignments_and_runs_are_carried_over_even_from_a_path_with_a_quote(tmp_path):
    folder = tmp_path / "o'brien's data"
    folder.mkdir()
    published = published_with_one_assignment(folder)
    build = duckdb.connect(str(tmp_path / "build.duckdb"))
    assert carry_over_assignments(build, published) == 1
    assert build.execute("SELECT person_id, linkage_run_id FROM linkage.response_persons").fetchall() == [
        ("P0123456789ab", "run-1")]
    assert build.execute("SELECT waves FROM linkage.runs").fetchall() == [(["w1_2022"],)]
    assert build.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'previous_warehouse'"
                         ).fetchone() == (0,)


def test_a_missing_published_file_starts_an_empty_panel(tmp_path):
    build = duckdb.connect(str(tmp_path / "build.duckdb"))
    assert carry_over_assignments(build, tmp_path / "warehouse.duckdb") == 0
    assert build.execute("SELECT count(*) FROM linkage.response_persons").fetchone() == (0,)


def test_decisions_applied_and_candidate_pairs_are_carried_over_too(tmp_path):
    published = published_with_one_assignment(tmp_path)
    con = duckdb.connect(str(published))
    con.execute("INSERT INTO linkage.decisions_applied VALUES ('run-1', 1, 'w1_2022', '7', 'w2_2023', 'R_a', "
                "'non_match', 'ann', DATE '2026-11-28', 'honoured', 'split', 0.9)")
    con.close()
    build = duckdb.connect(str(tmp_path / "build.duckdb"))
    carry_over_assignments(build, published)
    assert build.execute("SELECT decision, status FROM linkage.decisions_applied").fetchall() == [("non_match", "honoured")]
    assert build.execute("SELECT count(*) FROM linkage.candidate_pairs").fetchone() == (0,)


def test_a_warehouse_from_before_the_review_loop_is_carried_over(tmp_path):
    path = published_with_one_assignment(tmp_path)
    con = duckdb.connect(str(path))
    for table in ("candidate_pairs", "decisions_applied", "review_queue", "quality_estimates"):
        con.execute(f"DROP TABLE linkage.{table}")
    con.close()
    build = duckdb.connect(str(tmp_path / "build.duckdb"))
    assert carry_over_assignments(build, path) == 1
