"""Loading waves and UDI snapshots into DuckDB: accounting, quarantine, idempotence, privacy, checks."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from test_ingest_fixtures import (
    ADDRESSES, HMAC_KEY, invitation, w1_row, w2_row, w3_row, write_invitations, write_udi_snapshot, write_w1_csv,
    write_w2_xlsx, write_w3_sav,
)
from test_schemas_survey import future_codebook

from panel_ingest.checks import check_survey_partition, check_udi_partition
from panel_ingest.errors import UnreadableFileError
from panel_ingest.pseudonymise import email_hash
from panel_ingest.raw_tables import TABLES, ensure_raw_tables
from panel_ingest.survey import ingest_survey_wave
from panel_ingest.udi import ingest_udi_snapshot

TEST_ADDRESS = "Tester.One@Survey-Team.example"


def w1_rows() -> list[dict]:
    clean = [w1_row(n) for n in range(1, 21)]
    return clean + [w1_row(21, innsendt="2022-05-25 09:00:00", epost=TEST_ADDRESS),  # test submission
                    w1_row(5, innsendt="2022-06-30 10:00:00"),  # repeated id
                    w1_row(23, fodselsar="1899", barn_norge="99")]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write_w1_csv(raw / "survey/w1_2022/responses.csv", w1_rows(), encoding="cp1252", delimiter=";")
    write_w2_xlsx(raw / "survey/w2_2023/responses.xlsx", [w2_row(n) for n in range(1, 6)] + [w2_row(6, Gender="F")])
    write_invitations(raw / "survey/w2_2023/invitations.csv", [invitation(n) for n in range(1, 5)])
    write_w3_sav(raw / "survey/w3_2024/responses.sav", [w3_row(n) for n in range(1, 5)])
    write_invitations(raw / "survey/w3_2024/invitations.csv", [invitation(n, source_wave="w2_2023") for n in range(1, 3)])
    write_udi_snapshot(raw)
    (raw / "_truth").mkdir()
    (raw / "_truth/responses.csv").write_text("wave_id,response_id,person_id\n", encoding="utf-8")
    return raw


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def ingest_all(con, raw: Path) -> list:
    results = []
    for wave in ["w1_2022", "w2_2023", "w3_2024"]:
        results += ingest_survey_wave(con, raw, wave, HMAC_KEY)
    results += ingest_udi_snapshot(con, raw, "2024-02-05")
    return results


def table_rows(con, table: str) -> list[tuple]:
    columns = [c for c in TABLES[table] if c not in ("loaded_at", "quarantined_at")]
    names = ", ".join(f'"{c}"' for c in columns)
    return sorted(con.execute(f"SELECT {names} FROM {table}").fetchall(), key=repr)


def test_ensure_raw_tables_creates_every_table_and_is_repeatable(con):
    ensure_raw_tables(con)
    ensure_raw_tables(con)
    tables = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'audit')").fetchall()}
    assert tables == set(TABLES)


def test_ensure_raw_tables_adds_what_an_older_build_lacks_whatever_another_attached_file_holds(tmp_path):
    other = tmp_path / "published.duckdb"
    with duckdb.connect(str(other)) as published:
        ensure_raw_tables(published)  # complete tables in another file must not count for this one
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute(f"ATTACH '{other}' AS published_warehouse (READ_ONLY)")
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.udi_decisions (snapshot_date DATE, source_file VARCHAR)")
    con.execute("INSERT INTO raw.udi_decisions VALUES ('2025-09-05', 'udi/2025-09-05/vedtak_2025.csv')")
    ensure_raw_tables(con)
    columns = [row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'raw' AND table_name = 'udi_decisions'").fetchall()]
    assert set(columns) == set(TABLES["raw.udi_decisions"])
    assert con.execute("SELECT count(*) FROM raw.udi_decisions").fetchone()[0] == 1, "nothing dropped"
    tables = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    assert set(TABLES) <= tables
    con.close()


def test_every_file_is_accounted_for_and_rows_add_up(con, raw):
    results = ingest_all(con, raw)
    by_file = {r.source_file: r for r in results}
    assert set(by_file) == {str(p.relative_to(raw)) for p in raw.rglob("*.*") if "_truth" not in p.parts}
    w1 = by_file["survey/w1_2022/responses.csv"]
    # Structural faults cost the row (test submission, repeated id); invalid optional answers cost the cell.
    assert (w1.layout, w1.rows_in, w1.rows_loaded, w1.rows_quarantined, w1.cells_set_missing) == ("w1_csv", 23, 21, 2, 2)
    assert w1.quarantine_reasons == {"innsendt: test submission before the field start": 1, "svar_id: repeated value": 1}
    assert w1.cells_set_missing_reasons == {"fodselsar: out of range": 1, "barn_norge: out of range": 1}
    accounting = con.execute("SELECT source_file, partition_key, rows_in, rows_loaded, rows_quarantined, file_sha256, "
                             "cells_set_missing FROM audit.row_accounting").fetchall()
    assert len(accounting) == len(results)
    for source_file, key, rows_in, loaded, quarantined, sha, cells in accounting:
        assert rows_in == loaded + quarantined
        assert sha == by_file[source_file].file_sha256 and len(sha) == 64
        distinct_quarantined, n_cells = con.execute(
            "SELECT count(DISTINCT row_number) FILTER (WHERE action = 'row_quarantined'), "
            "count(*) FILTER (WHERE action = 'cell_set_missing') FROM audit.quarantine WHERE source_file = ?",
            [source_file]).fetchall()[0]
        assert (distinct_quarantined, n_cells) == (quarantined, cells)
        summed = con.execute("SELECT coalesce(sum(n_cells), 0) FROM audit.cells_set_missing WHERE source_file = ?",
                             [source_file]).fetchall()[0][0]
        assert summed == cells
    assert con.execute("SELECT column_name, reason, n_cells FROM audit.cells_set_missing WHERE "
                       "source_file = 'survey/w1_2022/responses.csv' ORDER BY column_name").fetchall() == [
        ("barn_norge", "out of range: expected an integer from 0 to 9", 1),
        ("fodselsar", "out of range: expected an integer from 1917 to 2007", 1)]
    assert con.execute("SELECT count(*) FROM raw.survey_responses WHERE wave_id = 'w1_2022'").fetchall()[0][0] == 21
    assert con.execute("SELECT variable, value FROM raw.survey_cells WHERE wave_id = 'w1_2022' AND row_number = 23 "
                       "AND variable IN ('fodselsar', 'barn_norge', 'kommune') ORDER BY variable").fetchall() == [
        ("barn_norge", None), ("fodselsar", None), ("kommune", "Bærum")]
    assert con.execute("SELECT count(*) FROM raw.survey_invitations").fetchall()[0][0] == 6
    assert con.execute("SELECT count(*) FROM raw.udi_valid_permits").fetchall()[0][0] == 3


def test_quarantine_rows_name_row_column_reason_and_keep_the_record_without_the_address(con, raw):
    ingest_all(con, raw)
    rows = con.execute("SELECT row_number, column_name, reason, raw_record, action FROM audit.quarantine "
                       "WHERE source_file = 'survey/w1_2022/responses.csv' ORDER BY row_number, column_name").fetchall()
    assert [(n, c, a) for n, c, _, _, a in rows] == [
        (21, "innsendt", "row_quarantined"), (22, "svar_id", "row_quarantined"),
        (23, "barn_norge", "cell_set_missing"), (23, "fodselsar", "cell_set_missing")]
    assert "on or after the field start 2022-06-01" in rows[0][2]
    assert "1899" not in rows[3][2] and "expected an integer from 1917 to 2007" in rows[3][2]
    record = json.loads(rows[0][3])
    assert record["svar_id"] == "21" and record["kommune"] == "Bærum"
    assert record["epost"] == email_hash(TEST_ADDRESS, HMAC_KEY)


def test_cells_are_the_answers_in_long_form_as_text(con, raw):
    ingest_all(con, raw)
    cells = dict(con.execute("SELECT variable, value FROM raw.survey_cells WHERE wave_id = 'w2_2023' AND row_number = 1")
                 .fetchall())
    assert cells["EndDate"] == "2023-05-10 09:15:01" and cells["Finished"] == "TRUE" and cells["BirthYear"] == "1980"
    assert cells["Reason_1"] is None and "Email" not in cells and len(cells) == 31
    first = con.execute("SELECT response_id, email_hash, length(email_bloom) FROM raw.survey_responses "
                        "WHERE wave_id = 'w2_2023' AND row_number = 1").fetchall()[0]
    assert first == ("R_000000000000001", email_hash(ADDRESSES[1], HMAC_KEY), 1024)


def test_reingest_is_idempotent_and_replaces_only_its_partition(con, raw):
    ingest_all(con, raw)
    before = {t: table_rows(con, t) for t in TABLES}
    ingest_all(con, raw)
    assert {t: table_rows(con, t) for t in TABLES} == before
    write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(1), w1_row(2)], encoding="cp1252", delimiter=";")
    ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    assert con.execute("SELECT count(*) FROM raw.survey_responses WHERE wave_id = 'w1_2022'").fetchall()[0][0] == 2
    assert con.execute("SELECT count(*) FROM audit.quarantine WHERE partition_key = 'w1_2022'").fetchall()[0][0] == 0
    assert table_rows(con, "raw.survey_invitations") == before["raw.survey_invitations"]
    assert table_rows(con, "raw.udi_applications") == before["raw.udi_applications"]


def test_unreadable_file_keeps_the_previous_partition(con, raw):
    ingest_survey_wave(con, raw, "w3_2024", HMAC_KEY)
    before = table_rows(con, "raw.survey_cells")
    (raw / "survey/w3_2024/responses.sav").write_bytes(b"not spss at all")
    with pytest.raises(UnreadableFileError, match=r"^survey/w3_2024/responses\.sav: "):
        ingest_survey_wave(con, raw, "w3_2024", HMAC_KEY)
    assert table_rows(con, "raw.survey_cells") == before


def test_no_email_address_in_clear_anywhere_in_the_duckdb_file(tmp_path, raw):
    path = tmp_path / "privacy.duckdb"
    connection = duckdb.connect(str(path))
    ingest_all(connection, raw)
    columns = connection.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                                 "WHERE data_type = 'VARCHAR' AND schema_name IN ('raw', 'audit')").fetchall()
    forms = {f for a in ADDRESSES + [TEST_ADDRESS] for f in (a, a.strip(), a.strip().lower(), "".join(a.split()).lower().rstrip("."))}
    assert len(columns) > 20
    for schema, table, column in columns:
        values = connection.execute(f'SELECT "{column}" FROM {schema}.{table} WHERE "{column}" LIKE \'%@%\'').fetchall()
        assert values == [], (schema, table, column)
    connection.execute("CHECKPOINT")
    connection.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("privacy.duckdb*")).lower()
    assert [f for f in forms if f.lower().encode() in data] == []


def test_unknown_wave_is_matched_to_a_layout_by_its_header_and_its_field_start_inferred(con, raw, monkeypatch):
    write_w2_xlsx(raw / "survey/w4_2025/responses.xlsx",
                  [w2_row(1, EndDate="2020-01-01 10:00:00"), w2_row(2, EndDate="2020-01-03 10:00:00"),
                   w2_row(3, EndDate="2025-06-20 10:00:00")]
                  + [w2_row(n, EndDate=f"2025-05-{10 + n % 3} 09:00:00", BirthYear=2009) for n in range(4, 12)])
    (result,) = ingest_survey_wave(con, raw, "w4_2025", HMAC_KEY)
    assert (result.layout, result.rows_loaded, result.rows_quarantined) == ("w2_xlsx", 9, 2)
    assert result.cells_set_missing == 0  # a 16-year-old born in 2009 is plausible in 2025
    assert result.wave.field_start == "2025-05-10" and "dense run" in result.wave.field_start_source
    assert any("not in survey_waves.csv" in w for w in result.warnings)
    monkeypatch.setenv("PANEL_MAX_QUARANTINE_SHARE", "0.3")  # 2 test rows of 11 in this tiny file
    assert check_survey_partition(con, "w4_2025").passed


def test_wave_in_a_layout_unknown_to_the_codebook_asks_for_codebook_rows(con, raw):
    path = raw / "survey/w5_2026/responses.csv"
    path.parent.mkdir(parents=True)
    path.write_text("rid,sent,kids\n1,2026-05-01 10:00:00,2\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"^survey/w5_2026/responses\.csv: unknown layout: add rows to the codebook seeds"):
        ingest_survey_wave(con, raw, "w5_2026", HMAC_KEY)


def test_layout_added_only_in_the_codebook_is_ingested_without_new_code(tmp_path, con, raw, monkeypatch):
    codebook = future_codebook(tmp_path)
    path = raw / "survey/w5_2026/responses.csv"
    path.parent.mkdir(parents=True)
    path.write_text("rid;sent;kids;mood;mail\n1;2026-05-01 10:00:00;2;A;x@y.no\n2;2026-05-02 10:00:00;11;B;\n",
                    encoding="utf-8")
    (result,) = ingest_survey_wave(con, raw, "w5_2026", HMAC_KEY, codebook=codebook)
    assert (result.layout, result.rows_loaded, result.rows_quarantined, result.cells_set_missing) == ("w4_csv", 2, 0, 1)
    assert con.execute("SELECT email_hash FROM raw.survey_responses WHERE wave_id = 'w5_2026' ORDER BY row_number"
                       ).fetchall() == [(email_hash("x@y.no", HMAC_KEY),), (None,)]
    monkeypatch.setenv("PANEL_MAX_QUARANTINE_SHARE", "0.5")
    outcome = check_survey_partition(con, "w5_2026")
    assert outcome.passed, outcome.description


def test_unexpected_file_in_a_wave_folder_is_refused(con, raw):
    (raw / "survey/w1_2022/notes.docx").write_bytes(b"...")
    with pytest.raises(UnreadableFileError, match=r"survey/w1_2022/notes\.docx: unexpected file"):
        ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)


def test_wave_with_wrong_header_names_the_missing_columns(con, raw):
    write_w1_csv(raw / "survey/w1_2022/responses.csv", [{k: v for k, v in w1_row(1).items() if k != "retur"}])
    with pytest.raises(UnreadableFileError, match=r"responses\.csv: header does not match layout w1_csv: missing columns \['retur'\]"):
        ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)


def test_udi_county_unknown_for_the_snapshot_date_is_quarantined(con, raw):
    write_udi_snapshot(raw, snapshot="2023-12-05", year="2023",
                       permits=[["Viken", "Menn", "6-10", "45"], ["Akershus", "Kvinner", "0-5", "3"]])
    results = {r.source_file: r for r in ingest_udi_snapshot(con, raw, "2023-12-05")}
    permits = results["udi/2023-12-05/gyldige_2023-12-05.csv"]
    assert (permits.rows_loaded, permits.rows_quarantined) == (1, 1)
    assert con.execute("SELECT row_number, column_name FROM audit.quarantine WHERE partition_key = '2023-12-05'"
                       ).fetchall() == [(2, "fylke")]
    assert con.execute("SELECT DISTINCT report_year FROM raw.udi_decisions WHERE snapshot_date = '2023-12-05'"
                       ).fetchall() == [(2023,)]


def test_partition_checks_pass_on_clean_loads(con, raw, monkeypatch):
    ingest_all(con, raw)
    outcome = check_survey_partition(con, "w3_2024")
    assert outcome.passed, outcome.description
    outcome = check_survey_partition(con, "w2_2023")  # w2's fixture has 1 unknown gender label of 6 rows
    assert outcome.passed, outcome.description
    assert outcome.metadata["files"] == 2 and outcome.metadata["rows_quarantined"] == 0
    assert outcome.metadata["cells_set_missing"] == 1
    outcome = check_udi_partition(con, "2024-02-05")
    assert outcome.passed, outcome.description
    assert outcome.metadata["rows_in"] == 8


def test_survey_check_fails_on_too_many_quarantined_rows_naming_the_file(con, raw, monkeypatch):
    ingest_all(con, raw)
    assert check_survey_partition(con, "w1_2022").passed  # 2 of 23 rows kept out; 2 cells set missing do not count
    monkeypatch.setenv("PANEL_MAX_QUARANTINE_SHARE", "0.05")
    outcome = check_survey_partition(con, "w1_2022")
    assert not outcome.passed
    assert "survey/w1_2022/responses.csv" in outcome.description
    assert "quarantined share of rows 0.087" in outcome.description
    assert "innsendt: test submission before the field start (1 rows)" in outcome.description
    assert "svar_id: repeated value (1 rows)" in outcome.description and "audit.quarantine" in outcome.description


def test_checks_catch_loads_that_do_not_add_up(con, raw):
    """The cells were validated once, as ingest read them; the check catches a load whose rows do not add up."""
    ingest_all(con, raw)
    con.execute("DELETE FROM raw.survey_responses WHERE wave_id = 'w3_2024' AND row_number = 2")
    outcome = check_survey_partition(con, "w3_2024")
    assert not outcome.passed and "rows in the raw table, row_accounting says" in outcome.description
    assert "survey/w3_2024/responses.sav" in outcome.description
    con.execute("DELETE FROM audit.quarantine WHERE source_file = 'survey/w1_2022/responses.csv' AND row_number = "
                "(SELECT min(row_number) FROM audit.quarantine WHERE source_file = 'survey/w1_2022/responses.csv' "
                "AND action = 'row_quarantined')")
    outcome = check_survey_partition(con, "w1_2022")
    assert not outcome.passed and "rows in audit.quarantine, row_accounting says" in outcome.description
    con.execute("DELETE FROM raw.udi_valid_permits WHERE row_number = 1")
    outcome = check_udi_partition(con, "2024-02-05")
    assert not outcome.passed and "udi/2024-02-05/gyldige_2024-02-05.csv" in outcome.description
    assert not check_udi_partition(con, "2030-01-05").passed


def test_unexpected_file_in_a_udi_folder_is_refused(con, raw):
    (raw / "udi/2024-02-05/befolkning_2024.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"udi/2024-02-05/befolkning_2024\.csv: unexpected file"):
        ingest_udi_snapshot(con, raw, "2024-02-05")


def test_two_response_files_in_one_wave_are_refused(con, raw):
    write_w1_csv(raw / "survey/w3_2024/responses.csv", [w1_row(1)])
    with pytest.raises(UnreadableFileError, match=r"survey/w3_2024: expected exactly one responses"):
        ingest_survey_wave(con, raw, "w3_2024", HMAC_KEY)


def test_checks_fail_clearly_before_any_ingest(con):
    outcome = check_survey_partition(con, "w1_2022")
    assert not outcome.passed and "no file of this partition" in outcome.description
    assert not check_udi_partition(con, "2024-02-05").passed
