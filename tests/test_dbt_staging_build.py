"""Builds the dbt seeds, staging views and UDI marts on hand-made raw rows and checks the harmonised values.

The scratch build file lives under tmp_path and is called `warehouse.duckdb` (dbt's fully qualified view
definitions name the catalog). Only this part's models are selected: the rest of the project needs
linkage and weights tables that a staging-only build does not have.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
SELECTION = ["tag:harmonise", "path:models/intermediate/udi", "path:models/marts/udi"]
LOADED_AT = datetime(2025, 1, 1, 12, 0, 0)
NBSP = "\u00a0"

# The raw tables exactly as docs/architecture.md fixes them (used only if the ingest package
# does not provide `ensure_raw_tables`).
RAW_DDL = """
create schema if not exists raw;
create table if not exists raw.survey_responses (wave_id varchar, layout varchar, source_file varchar,
    row_number integer, response_id varchar, email_hash varchar, email_bloom varchar, loaded_at timestamp);
create table if not exists raw.survey_cells (wave_id varchar, source_file varchar, row_number integer,
    response_id varchar, variable varchar, value varchar);
create table if not exists raw.survey_invitations (wave_id varchar, source_file varchar, row_number integer,
    token varchar, email_hash varchar, email_bloom varchar, invited_at varchar, source_wave varchar,
    loaded_at timestamp);
create table if not exists raw.udi_applications (snapshot_date date, source_file varchar, row_number integer,
    report_year integer, statsborgerskap varchar, jan varchar, feb varchar, mar varchar, apr varchar,
    mai varchar, jun varchar, jul varchar, aug varchar, sep varchar, okt varchar, nov varchar, des varchar,
    total varchar, loaded_at timestamp);
create table if not exists raw.udi_decisions (snapshot_date date, source_file varchar, row_number integer,
    report_year integer, statsborgerskap varchar, maaned varchar, innvilget varchar, avslag varchar,
    henlagt varchar, loaded_at timestamp);
create table if not exists raw.udi_valid_permits (snapshot_date date, source_file varchar, row_number integer,
    fylke varchar, kjonn varchar, aldersgruppe varchar, antall varchar, loaded_at timestamp);
"""

W1_FILE = "survey/w1_2022/responses.csv"
W2_FILE = "survey/w2_2023/responses.xlsx"
W3_FILE = "survey/w3_2024/responses.sav"
W4_FILE = "survey/w4_2025/responses.sav"

# (wave_id, layout, source_file, row_number, response_id, email_hash, answers by source variable)
RESPONSES = [
    ("w1_2022", "w1_csv", W1_FILE, 1, "101", "hash-a", {
        "svar_id": "101", "innsendt": "2022-06-03 10:15:00", "sprak": "uk", "fullfort": "1", "kjonn": "1",
        "fodselsar": "1985", "oblast": "  ЛЬВІВСЬКА   область ", "ankomst": "2022-03", "kommune": "Bærum",
        "barn_norge": "2", "barn_ukraina": "0", "partner": "2", "nettverk": "1", "krigens_varighet": "9",
        "retur": "2", "arbeid": "0", "samtykke": "1"}),
    ("w1_2022", "w1_csv", W1_FILE, 2, "102", None, {
        "svar_id": "102", "innsendt": "2022-06-04 08:00:00", "sprak": "ru", "fullfort": "0", "kjonn": "2",
        "fodselsar": None, "oblast": "харьковская область", "ankomst": "2022-04", "kommune": "tromsø",
        "barn_norge": None, "barn_ukraina": "1", "partner": "4", "nettverk": "0", "krigens_varighet": "1",
        "retur": "1", "arbeid": "1", "samtykke": "0"}),
    ("w2_2023", "w2_xlsx", W2_FILE, 1, "R_abcdefghijklmno", "hash-a", {
        "RespondentID": "R_abcdefghijklmno", "EndDate": "2023-05-10 21:30:00", "Finished": "TRUE",
        "Token": " TOKEN000001 ", "Language": "Ukrainian", "Gender": "Female", "BirthYear": "1985",
        "Region": "Lviv oblast", "ArrivalMonth": "03/2022", "CurrentCountry": "1", "Municipality": "Bærum",
        "LeftMonth": None, "FuturePlans": "2", "ChildrenInNorway": "2", "PartnerLocation": "2", "Working": "1",
        "FollowUpConsent": "1", **{f"Reason_{k}": None for k in range(1, 15)}}),
    ("w2_2023", "w2_xlsx", W2_FILE, 2, "R_zyxwvutsrqponml", None, {
        "RespondentID": "R_zyxwvutsrqponml", "EndDate": "2023-05-11 09:00:00", "Finished": "FALSE",
        "Token": None, "Language": "Russian", "Gender": "Other / prefer not to say", "BirthYear": "1970",
        "Region": "kharkiv OBLAST", "ArrivalMonth": "04/2022", "CurrentCountry": "2", "Municipality": None,
        "LeftMonth": "11/2022", "FuturePlans": None, "ChildrenInNorway": None, "PartnerLocation": "1",
        "Working": "0", "FollowUpConsent": "0",
        **{f"Reason_{k}": ("1" if k in (1, 3, 12) else None) for k in range(1, 15)}}),
    ("w3_2024", "w3_sav", W3_FILE, 1, "7", "hash-b", {
        "id": "7", "enddate": "2024-09-20 12:00:00", "finished": "1", "token": "TOKEN000002", "lang": "3",
        "sex": "1", "byear": "1960", "oblast": "63", "arrival": "2022-05-01", "country_now": "3",
        "kommunenr": None, "left": "2024-02-01", "plans": None, "kids_no": None, "partner_loc": "3",
        "employed": "1", "consent": "1",
        **{name: ("1" if name in ("r_family", "r_language") else "0") for name in (
            "r_home", "r_longing", "r_family", "r_competence", "r_safer", "r_education", "r_nowork",
            "r_support", "r_expectations", "r_temporary", "r_other", "r_language", "r_opportunities",
            "r_neverplanned")}}),
    ("w3_2024", "w3_sav", W3_FILE, 2, "8", None, {
        "id": "8", "enddate": "2024-10-01 18:45:10", "finished": "0", "token": None, "lang": "4",
        "sex": "2", "byear": "1990", "oblast": "99", "arrival": "2023-01-01", "country_now": "1",
        "kommunenr": "3201", "left": None, "plans": "4", "kids_no": "0", "partner_loc": "1",
        "employed": "0", "consent": "0"}),
    # A fourth wave in the w3 layout that survey_waves.csv does not know; ingest set an invalid sex cell missing.
    ("w4_2025", "w3_sav", W4_FILE, 1, "1", None, {
        "id": "1", "enddate": "2025-10-01 10:00:00", "finished": "1", "token": None, "lang": "1",
        "sex": None, "byear": "2009", "oblast": "46", "arrival": "2022-03-01", "country_now": "1",
        "kommunenr": "5001", "left": None, "plans": "3", "kids_no": "1", "partner_loc": "4",
        "employed": "0", "consent": "1"}),
    # Municipality names as people type them: a short name, an SSB name with county suffix, an ambiguous one.
    *[("w1_2022", "w1_csv", W1_FILE, 2 + n, f"1{n:02d}9", None, {
        "svar_id": f"1{n:02d}9", "innsendt": "2022-06-05 08:00:00", "sprak": "uk", "fullfort": "1", "kjonn": "1",
        "kommune": name, "retur": "1"}) for n, name in enumerate(("TRONDHEIM", "våler ( innlandet )", "Våler"), start=1)],
]

INVITATIONS = [
    ("w2_2023", "survey/w2_2023/invitations.csv", 1, " TOKEN000001 ", "hash-a", None, "2023-04-28 09:00:00", "w1_2022"),
    ("w3_2024", "survey/w3_2024/invitations.csv", 1, "TOKEN000002", "hash-b", None, "2024-09-10 09:00:00", "w2_2023"),
]

MONTHS = ["jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des"]


def _applications_row(snapshot: str, year: int, row: int, citizenship: str, months: list[str | None]):
    cells = months + [None] * (12 - len(months))
    return (date.fromisoformat(snapshot), f"udi/{snapshot}/soknader_{year}.csv", row, year, citizenship,
            *cells, None, LOADED_AT)


# Two vintages of 2024: March is revised from 1 383 to 1 400 between them; April is published only in the second.
APPLICATIONS = [
    _applications_row("2024-04-05", 2024, 1, "Ukraina", [f"1{NBSP}639", "1 361", "1 383"]),
    _applications_row("2024-04-05", 2024, 2, "Statsløs", ["-", "3", "-"]),
    _applications_row("2024-05-05", 2024, 1, "Ukraina", ["1 639", "1 361", "1 400", "1 255"]),
    _applications_row("2024-05-05", 2024, 2, "Statsløs", ["-", "3", "-", ""]),
]

DECISIONS = [
    (date(2024, 4, 5), "udi/2024-04-05/vedtak_2024.csv", 1, 2024, "Ukraina", "Jan", "1 500", "-", "12", LOADED_AT),
    (date(2024, 4, 5), "udi/2024-04-05/vedtak_2024.csv", 2, 2024, "Ukraina", "Feb", "1 300", "4", "10", LOADED_AT),
    (date(2024, 4, 5), "udi/2024-04-05/vedtak_2024.csv", 3, 2024, "Ukraina", "Mar", "1 200", "5", "9", LOADED_AT),
    (date(2024, 5, 5), "udi/2024-05-05/vedtak_2024.csv", 1, 2024, "Ukraina", "Jan", "1 500", "-", "12", LOADED_AT),
    (date(2024, 5, 5), "udi/2024-05-05/vedtak_2024.csv", 2, 2024, "Ukraina", "Feb", "1 300", "4", "10", LOADED_AT),
    (date(2024, 5, 5), "udi/2024-05-05/vedtak_2024.csv", 3, 2024, "Ukraina", "Mar", "1 250", "5", "9", LOADED_AT),
    (date(2024, 5, 5), "udi/2024-05-05/vedtak_2024.csv", 4, 2024, "Ukraina", "Apr", "1 100", "6", "7", LOADED_AT),
]

VALID_PERMITS = [
    (date(2023, 12, 5), "udi/2023-12-05/gyldige_2023-12-05.csv", 1, "Viken", "Kvinner", "18-34", "2 000", LOADED_AT),
    (date(2023, 12, 5), "udi/2023-12-05/gyldige_2023-12-05.csv", 2, "Viken", "Menn", "67+", "-", LOADED_AT),
    (date(2024, 4, 5), "udi/2024-04-05/gyldige_2024-04-05.csv", 1, "Akershus", "Kvinner", "18-34", "1 000", LOADED_AT),
    (date(2024, 4, 5), "udi/2024-04-05/gyldige_2024-04-05.csv", 2, "Troms", "Menn", "0-5", f"1{NBSP}200", LOADED_AT),
    (date(2024, 4, 5), "udi/2024-04-05/gyldige_2024-04-05.csv", 3, "Oslo", "Menn", "11-17", "-", LOADED_AT),
    (date(2024, 5, 5), "udi/2024-05-05/gyldige_2024-05-05.csv", 1, "Akershus", "Kvinner", "18-34", "2 500", LOADED_AT),
    (date(2024, 5, 5), "udi/2024-05-05/gyldige_2024-05-05.csv", 2, "Oslo", "Menn", "35-49", "3 000", LOADED_AT),
]


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The ingest's own DDL when it exists, so this test follows the real raw schema."""
    try:
        from panel_ingest.raw_tables import ensure_raw_tables
    except ImportError:
        con.execute(RAW_DDL)
    else:
        ensure_raw_tables(con)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Insert by column name so extra ingest columns (if any) keep their defaults."""
    placeholders = ", ".join("?" for _ in columns)
    con.executemany(f"insert into raw.{table} ({', '.join(columns)}) values ({placeholders})", rows)


def load_raw_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Write the hand-made raw rows of every source the staging models read."""
    insert_rows(con, "survey_responses",
                ["wave_id", "layout", "source_file", "row_number", "response_id", "email_hash", "email_bloom",
                 "loaded_at"],
                [(w, layout, f, n, rid, h, None if h is None else "01" * 512, LOADED_AT)
                 for w, layout, f, n, rid, h, _ in RESPONSES])
    insert_rows(con, "survey_cells", ["wave_id", "source_file", "row_number", "response_id", "variable", "value"],
                [(w, f, n, rid, variable, value)
                 for w, _, f, n, rid, _, answers in RESPONSES for variable, value in answers.items()])
    insert_rows(con, "survey_invitations",
                ["wave_id", "source_file", "row_number", "token", "email_hash", "email_bloom", "invited_at",
                 "source_wave", "loaded_at"],
                [(*row, LOADED_AT) for row in INVITATIONS])
    insert_rows(con, "udi_applications",
                ["snapshot_date", "source_file", "row_number", "report_year", "statsborgerskap", *MONTHS, "total",
                 "loaded_at"], APPLICATIONS)
    insert_rows(con, "udi_decisions",
                ["snapshot_date", "source_file", "row_number", "report_year", "statsborgerskap", "maaned",
                 "innvilget", "avslag", "henlagt", "loaded_at"], DECISIONS)
    insert_rows(con, "udi_valid_permits",
                ["snapshot_date", "source_file", "row_number", "fylke", "kjonn", "aldersgruppe", "antall",
                 "loaded_at"], VALID_PERMITS)


def run_dbt(command: str, selection: list[str], data_dir: Path, target_dir: Path) -> subprocess.CompletedProcess:
    """Run a dbt command on the given selection against `<data_dir>/build/warehouse.duckdb`."""
    env = {**os.environ, "PANEL_DATA_DIR": str(data_dir),
           "PANEL_BUILD_DB": str(data_dir / "build" / "warehouse.duckdb"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    # cautious: only tests whose every parent is selected (a release test over udi_stock needs release models).
    arguments = [str(DBT_EXECUTABLE), command, "--select", *selection, "--indirect-selection", "cautious",
                 "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                 "--target-path", str(target_dir / "target"), "--log-path", str(target_dir / "logs")]
    return subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    """A scratch data root whose build file has the raw rows loaded and this part's models built and tested."""
    root = tmp_path_factory.mktemp("staging")
    db_path = root / "data" / "build" / "warehouse.duckdb"
    db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(db_path)) as con:
        create_raw_tables(con)
        load_raw_rows(con)
    result = run_dbt("build", SELECTION, root / "data", root)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    return root


@pytest.fixture
def built(build_root) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the built scratch file (closed after each test, so dbt can reopen it)."""
    con = duckdb.connect(str(build_root / "data" / "build" / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def response(con: duckdb.DuckDBPyConnection, wave_id: str, response_id: str) -> dict:
    rows = fetch_dicts(con, f"select * from staging.stg_survey__responses "
                            f"where wave_id = '{wave_id}' and response_id = '{response_id}'")
    assert len(rows) == 1
    return rows[0]


def test_every_loaded_response_is_one_staging_row(built):
    assert built.execute("select count(*) from staging.stg_survey__responses").fetchone()[0] == len(RESPONSES)


def test_gender_follows_each_layouts_code_list(built):
    assert response(built, "w1_2022", "101")["gender"] == "female"  # w1 kjonn 1 = female
    assert response(built, "w3_2024", "7")["gender"] == "male"  # w3 sex 1 = male (reversed order)
    assert response(built, "w3_2024", "8")["gender"] == "female"
    assert response(built, "w2_2023", "R_zyxwvutsrqponml")["gender"] == "other"  # w2 text label


def test_oblast_labels_in_any_language_and_case_map_to_iso(built):
    assert response(built, "w1_2022", "101")["oblast_iso"] == "UA-46"  # Ukrainian, odd case and spacing
    assert response(built, "w1_2022", "102")["oblast_iso"] == "UA-63"  # Russian, lower case
    assert response(built, "w2_2023", "R_zyxwvutsrqponml")["oblast_iso"] == "UA-63"  # English, odd case
    assert response(built, "w3_2024", "7")["macro_region"] == "east"  # number 63
    assert response(built, "w3_2024", "8")["oblast_iso"] is None  # 99 prefer not to say


def test_municipalities_land_on_2024_geography(built):
    baerum_w1 = response(built, "w1_2022", "101")
    assert (baerum_w1["kommune_code_2024"], baerum_w1["fylke_code_2024"], baerum_w1["region_code"]) == \
        ("3201", "32", "30")
    assert "settlement" not in baerum_w1  # not an official attribute of a municipality
    assert response(built, "w1_2022", "102")["kommune_code_2024"] == "5501"  # tromsø, lower case
    assert response(built, "w3_2024", "8")["kommune_code_2024"] == "3201"  # 2024 code as delivered
    assert response(built, "w1_2022", "1019")["kommune_code_2024"] == "5001"  # short name, capitals
    assert response(built, "w1_2022", "1029")["kommune_code_2024"] == "3419"  # SSB name, odd spacing
    assert response(built, "w1_2022", "1039")["kommune_code_2024"] is None  # Våler alone is ambiguous
    assert response(built, "w4_2025", "1")["kommune_code_2024"] == "5001"


def test_a_wave_without_a_survey_waves_row_is_staged_by_its_folder_name(built):
    fourth = response(built, "w4_2025", "1")
    assert (fourth["wave_number"], fourth["layout"], fourth["gender"], fourth["birth_year"]) == (4, "w3_sav", None, 2009)
    assert (fourth["aspiration"], fourth["children_in_norway"], fourth["is_complete"]) == ("stay_norway", 1, True)


def test_types_ranges_and_months(built):
    first = response(built, "w1_2022", "101")
    assert first["submitted_at"] == datetime(2022, 6, 3, 10, 15)
    assert first["birth_year"] == 1985 and first["arrival_month"] == date(2022, 3, 1)
    assert first["language"] == "uk" and first["is_complete"] is True
    assert response(built, "w1_2022", "102")["birth_year"] is None  # ingest set the implausible year missing
    assert response(built, "w2_2023", "R_abcdefghijklmno")["arrival_month"] == date(2022, 3, 1)
    assert response(built, "w2_2023", "R_zyxwvutsrqponml")["left_month"] == date(2022, 11, 1)
    assert response(built, "w3_2024", "7")["left_month"] == date(2024, 2, 1)
    assert response(built, "w3_2024", "7")["wave_number"] == 3


def test_w1_only_questions_and_country(built):
    first = response(built, "w1_2022", "101")
    assert first["country_now"] == "norway"  # w1 did not ask: fielded in Norway
    assert (first["children_in_ukraine"], first["network_norway"], first["war_duration"]) == (False, True, "dont_know")
    assert first["partner_location"] == "ukraine" and first["consent"] is True
    assert response(built, "w2_2023", "R_abcdefghijklmno")["network_norway"] is None


def test_aspiration_fine_and_coarse(built):
    assert [response(built, "w1_2022", "101")[c] for c in ("aspiration", "aspiration_coarse")] == \
        ["uncertain", "undecided"]
    assert [response(built, "w1_2022", "102")[c] for c in ("aspiration", "aspiration_coarse")] == \
        ["return_asap", "return_asap"]
    assert [response(built, "w2_2023", "R_abcdefghijklmno")[c] for c in ("aspiration", "aspiration_coarse")] == \
        ["return_later", "undecided"]
    assert response(built, "w3_2024", "8")["aspiration"] == "move_onward"


def test_reasons_are_null_where_not_asked(built):
    returned = response(built, "w2_2023", "R_zyxwvutsrqponml")  # in Ukraine: 12-14 not asked
    assert (returned["reason_01"], returned["reason_02"], returned["reason_03"], returned["reason_04"]) == \
        (True, False, True, False)
    assert returned["reason_12"] is None
    onward = response(built, "w3_2024", "7")  # another country: 1, 2, 5, 10 not asked
    assert (onward["reason_01"], onward["reason_03"], onward["reason_12"], onward["reason_13"]) == \
        (None, True, True, False)
    in_norway = response(built, "w2_2023", "R_abcdefghijklmno")
    assert all(in_norway[f"reason_{k:02d}"] is None for k in range(1, 15))


def test_tokens_are_trimmed_and_invitations_typed(built):
    assert response(built, "w2_2023", "R_abcdefghijklmno")["token"] == "TOKEN000001"
    invitations = fetch_dicts(built, "select * from staging.stg_survey__invitations order by wave_id")
    assert [(i["token"], i["invited_at"]) for i in invitations] == [
        ("TOKEN000001", datetime(2023, 4, 28, 9)), ("TOKEN000002", datetime(2024, 9, 10, 9))]


def test_udi_applications_parse_separators_dashes_and_blanks(built):
    rows = built.execute("select month, citizenship, applications, is_suppressed from staging.stg_udi__applications "
                     "where snapshot_date = date '2024-05-05' order by citizenship, month").fetchall()
    assert rows == [
        (date(2024, 1, 1), "Statsløs", None, True), (date(2024, 2, 1), "Statsløs", 3, False),
        (date(2024, 3, 1), "Statsløs", None, True),  # April blank: not yet published, no row
        (date(2024, 1, 1), "Ukraina", 1639, False), (date(2024, 2, 1), "Ukraina", 1361, False),
        (date(2024, 3, 1), "Ukraina", 1400, False), (date(2024, 4, 1), "Ukraina", 1255, False),
    ]


def test_udi_decisions_are_long_by_measure(built):
    rows = built.execute("select measure, value, is_suppressed from staging.stg_udi__decisions "
                     "where snapshot_date = date '2024-04-05' and month = date '2024-01-01' order by measure").fetchall()
    assert rows == [("dismissed", 12, False), ("granted", 1500, False), ("refused", None, True)]


def test_valid_permits_coded_on_the_geography_of_the_snapshot(built):
    rows = built.execute("select snapshot_date, fylke_code, region_code, sex, is_adult, valid_permits, is_suppressed "
                     "from staging.stg_udi__valid_permits order by snapshot_date, row_number").fetchall()
    assert rows[:4] == [
        (date(2023, 12, 5), "30", "30", "female", True, 2000, False),
        (date(2023, 12, 5), "30", "30", "male", True, None, True),
        (date(2024, 4, 5), "32", "30", "female", True, 1000, False),
        (date(2024, 4, 5), "55", "54", "male", False, 1200, False),
    ]


def test_udi_monthly_takes_latest_vintage_and_next_months_stock(built):
    rows = fetch_dicts(built, "select * from marts.udi_monthly order by month")
    assert [r["month"] for r in rows] == [date(2024, m, 1) for m in (1, 2, 3, 4)]
    march, april = rows[2], rows[3]
    assert (march["applications"], march["granted"], march["vintage_date"]) == (1400, 1250, date(2024, 5, 5))
    # The flow history starts in 2024, not March 2022: no grants to date, so no implied departures.
    assert march["granted_cumulative"] is None and april["implied_departures_cumulative"] is None
    # The stock for April is the 2024-05-05 snapshot: 2 500 + 3 000.
    assert april["valid_stock"] == 5500
    # March's stock comes from the 2024-04-05 snapshot, whose Oslo cell is suppressed.
    assert march["valid_stock"] == 2200
    assert rows[0]["valid_stock"] is None  # no snapshot dated in February


def test_udi_revisions_keep_every_vintage(built):
    rows = built.execute("select vintage_date, value, first_value, revision_from_first from marts.udi_revisions "
                     "where measure = 'applications' and month = date '2024-03-01' order by vintage_date").fetchall()
    assert rows == [(date(2024, 4, 5), 1383, 1383, 0), (date(2024, 5, 5), 1400, 1383, 17)]


def test_udi_stock_keeps_suppressed_cells_flagged(built):
    rows = built.execute("select fylke_code, region_code, sex, age_group, valid_permits, suppressed from marts.udi_stock "
                     "where snapshot_date = date '2024-04-05' order by fylke_code").fetchall()
    assert rows == [("03", "03", "male", "11-17", None, True), ("32", "30", "female", "18-34", 1000, False),
                    ("55", "54", "male", "0-5", 1200, False)]


def test_values_that_slip_past_ingest_fail_the_dbt_tests_by_file_row_and_column(build_root):
    """An unknown code or an unparseable UDI number must stop the build, not turn silently into NULL."""
    db_path = build_root / "data" / "build" / "warehouse.duckdb"
    pristine = build_root / "pristine.duckdb"
    shutil.copy(db_path, pristine)
    try:
        with duckdb.connect(str(db_path)) as con:
            con.execute("update raw.survey_cells set value = '4' where source_file = ? and row_number = 1 "
                        "and variable = 'sex'", [W3_FILE])
            con.execute("update raw.udi_applications set feb = '1 3x1' where row_number = 1")
        # Same data root and target as the build, so dbt reuses its parsed project. Staging is materialised
        # as tables, so the two staging models are rebuilt from the altered raw rows first.
        rebuilt = run_dbt("run", ["stg_survey__responses", "stg_udi__applications"], build_root / "data", build_root)
        assert rebuilt.returncode == 0, rebuilt.stdout[-2000:]
        result = run_dbt("test", ["assert_survey_codes_and_labels_resolve",
                                  "stg_udi__applications_every_count_parsed_or_suppressed"],
                         build_root / "data", build_root)
    finally:
        shutil.move(pristine, db_path)
    assert result.returncode != 0
    assert "FAIL 1 assert_survey_codes_and_labels_resolve" in result.stdout
    assert "FAIL 2 stg_udi__applications_every_count_parsed_or_suppressed" in result.stdout


def test_a_wave_missing_from_survey_waves_warns_and_says_what_to_add(build_root):
    """w4_2025 has no survey_waves.csv row: a warning (the build above passed), naming the line to add."""
    result = run_dbt("test", ["assert_every_wave_has_a_survey_waves_row", "--store-failures"], build_root / "data", build_root)
    assert result.returncode == 0
    assert "WARN 1 assert_every_wave_has_a_survey_waves_row" in result.stdout
    with duckdb.connect(str(build_root / "data" / "build" / "warehouse.duckdb"), read_only=True) as con:
        (what_to_add,) = con.execute(
            "select what_to_add from dbt_test__audit.assert_every_wave_has_a_survey_waves_row").fetchone()
    assert what_to_add.startswith("add a row to dbt_project/seeds/codebook/survey_waves.csv: w4_2025,4,2025,w3_sav,")


def test_every_column_of_this_parts_models_and_seeds_is_documented(built, build_root):
    """Each column in the built relations has a description in the yml (and nothing documented is missing)."""
    manifest = json.loads((build_root / "target" / "manifest.json").read_text(encoding="utf-8"))
    ours = [node for node in manifest["nodes"].values()
            if node["resource_type"] in ("model", "seed")
            and (node["original_file_path"].startswith(("models/staging/", "models/intermediate/udi/",
                                                       "models/marts/udi/", "seeds/codebook/")))]
    assert len(ours) == 14
    for node in ours:
        assert node["description"].strip(), f"{node['name']} has no description"
        built_columns = {name for (name,) in built.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [node["schema"], node["alias"]]).fetchall()}
        documented = {name for name, column in node["columns"].items() if column["description"].strip()}
        assert built_columns == documented, f"{node['name']}: {built_columns ^ documented}"
