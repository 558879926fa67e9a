"""Bad input at ingest: empty and missing files, broken rows, bad cells, and no raw value in any message."""
from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import duckdb
import pytest
from test_ingest_fixtures import (
    HMAC_KEY, invitation, w1_row, w2_row, w3_row, write_invitations, write_udi_snapshot, write_w1_csv, write_w2_xlsx,
    write_w3_sav,
)

from panel_ingest.checks import check_survey_partition, check_udi_partition
from panel_ingest.errors import UnreadableFileError
from panel_ingest.pseudonymise import email_hash
from panel_ingest.survey import ingest_survey_wave
from panel_ingest.udi import ingest_udi_snapshot

SECRET = "olena.secret@example.org"
SECRET_FORMS = [SECRET, "olena.secret", "example.org"]


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return tmp_path / "raw"


def w2_wave(raw: Path, rows: list[dict] | None = None) -> Path:
    write_w2_xlsx(raw / "survey/w2_2023/responses.xlsx", rows or [w2_row(n) for n in range(1, 6)])
    return raw / "survey/w2_2023"


def cells(con, wave: str, row: int) -> dict:
    return dict(con.execute("SELECT variable, value FROM raw.survey_cells WHERE wave_id = ? AND row_number = ?",
                            [wave, row]).fetchall())


def audit(con, source: str) -> list[tuple]:
    return con.execute("SELECT row_number, column_name, split_part(reason, ':', 1), action FROM audit.quarantine "
                       "WHERE source_file = ? ORDER BY row_number, column_name", [source]).fetchall()


def test_empty_invitations_file_loads_zero_rows_with_a_warning(con, raw, caplog):
    folder = w2_wave(raw)
    (folder / "invitations.csv").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        responses, invitations = ingest_survey_wave(con, raw, "w2_2023", HMAC_KEY)
    assert (invitations.rows_in, invitations.rows_loaded) == (0, 0) and responses.rows_loaded == 5
    assert invitations.warnings == ["survey/w2_2023/invitations.csv: empty optional file, loaded zero rows"]
    assert "empty optional file" in caplog.text
    assert check_survey_partition(con, "w2_2023").passed


def test_headerless_invitations_fail_naming_the_file_and_the_header_never_the_address(con, raw):
    folder = w2_wave(raw)
    (folder / "invitations.csv").write_text(f"TOKEN0000001,{SECRET},2023-05-01 08:00:00,w1_2022\n"
                                            "TOKEN0000002,b@c.no,2023-05-01 08:00:00,w1_2022\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError) as error:
        ingest_survey_wave(con, raw, "w2_2023", HMAC_KEY)
    message = str(error.value)
    assert message.startswith("survey/w2_2023/invitations.csv: ")
    assert "token,email,invited_at,source_wave" in message
    assert not any(form in message for form in SECRET_FORMS + ["TOKEN0000001"])


@pytest.mark.parametrize("content, expected", [
    (None, r"^survey/w1_2022: the required response file is missing"),
    (b"", r"^survey/w1_2022/responses\.csv: empty file"),
    (b"svar_id,innsendt\r\n", r"^survey/w1_2022/responses\.csv: no data rows"),
])
def test_missing_or_empty_response_file_fails_naming_it(con, raw, content, expected):
    folder = raw / "survey/w1_2022"
    folder.mkdir(parents=True)
    if content is not None:
        (folder / "responses.csv").write_bytes(content)
    with pytest.raises(UnreadableFileError, match=expected):
        ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)


def test_empty_udi_folder_loads_zero_rows_with_a_warning(con, raw, caplog):
    (raw / "udi/2025-11-05").mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        assert ingest_udi_snapshot(con, raw, "2025-11-05") == []
    assert "udi/2025-11-05: empty UDI snapshot folder" in caplog.text
    assert con.execute("SELECT count(*) FROM raw.udi_valid_permits").fetchall() == [(0,)]


def test_office_lock_file_is_ignored_with_a_warning(con, raw):
    folder = w2_wave(raw)
    (folder / "~$responses.xlsx").write_bytes(b"\x00lock")
    (result,) = ingest_survey_wave(con, raw, "w2_2023", HMAC_KEY)
    assert result.rows_loaded == 5
    assert any(w.startswith("survey/w2_2023/~$responses.xlsx: office lock file ignored") for w in result.warnings)


def test_ragged_row_costs_that_row_with_its_reason(con, raw):
    path = write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(n) for n in range(1, 21)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] += f",{SECRET}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (result,) = ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (20, 19, 1)
    assert audit(con, "survey/w1_2022/responses.csv") == [(3, None, "wrong number of fields", "row_quarantined")]
    record = con.execute("SELECT raw_record FROM audit.quarantine").fetchall()[0][0]
    assert not any(form in record for form in SECRET_FORMS)


def test_invalid_optional_answers_cost_the_cell_not_the_respondent(con, raw):
    rows = [w1_row(n) for n in range(1, 21)]
    rows[1].update(kommune="Våler")                      # ambiguous short name
    rows[2].update(kommune="Gotham City")                # unknown name
    rows[3].update(kommune="trondheim - TRÅANTE ")      # typed as people type it: fine
    rows[4].update(ankomst="2021-11")                    # before the full-scale invasion
    rows[5].update(ankomst="2022-09")                    # after the submission month (June 2022)
    rows[6].update(fodselsar="2008", kjonn="7")          # aged 14; unknown code
    write_w1_csv(raw / "survey/w1_2022/responses.csv", rows)
    (result,) = ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    assert (result.rows_loaded, result.rows_quarantined, result.cells_set_missing) == (20, 0, 6)
    assert audit(con, "survey/w1_2022/responses.csv") == [
        (2, "kommune", "ambiguous municipality name", "cell_set_missing"),
        (3, "kommune", "unknown municipality name", "cell_set_missing"),
        (5, "ankomst", "impossible date", "cell_set_missing"),
        (6, "ankomst", "impossible date", "cell_set_missing"),
        (7, "fodselsar", "out of range", "cell_set_missing"),
        (7, "kjonn", "unknown code", "cell_set_missing")]
    assert cells(con, "w1_2022", 2)["kommune"] is None and cells(con, "w1_2022", 4)["kommune"] == "trondheim - TRÅANTE "
    assert cells(con, "w1_2022", 7)["retur"] == "1"  # the rest of the answers stay
    outcome = check_survey_partition(con, "w1_2022")
    assert outcome.passed and outcome.metadata["cells_set_missing"] == 6


def test_leaving_before_arrival_costs_the_leaving_cell(con, raw):
    rows = [w3_row(n) for n in range(1, 11)]
    rows[0].update(arrival=date(2023, 5, 1), left=date(2023, 3, 1))
    rows[1].update(left=date(2024, 12, 1))  # after the submission (September 2024)
    write_w3_sav(raw / "survey/w3_2024/responses.sav", rows)
    (result,) = ingest_survey_wave(con, raw, "w3_2024", HMAC_KEY)
    assert (result.rows_loaded, result.cells_set_missing) == (10, 2)
    assert audit(con, "survey/w3_2024/responses.sav") == [(1, "left", "impossible date", "cell_set_missing"),
                                                          (2, "left", "impossible date", "cell_set_missing")]
    assert cells(con, "w3_2024", 1)["arrival"] == "2023-05-01" and cells(con, "w3_2024", 1)["left"] is None
    assert check_survey_partition(con, "w3_2024").passed


def test_field_start_is_inferred_from_the_invitations_when_the_wave_is_not_registered(con, raw):
    rows = [w3_row(n, enddate=f"2025-09-{10 + n % 5} 10:00:00", byear=2009.0) for n in range(1, 11)]
    rows.append(w3_row(11, enddate="2025-09-01 10:00:00"))  # the team's test, before the invitations went out
    write_w3_sav(raw / "survey/w4_2025/responses.sav", rows)
    write_invitations(raw / "survey/w4_2025/invitations.csv",
                      [invitation(n, invited_at="2025-09-08 10:00:00", source_wave="w3_2024") for n in range(1, 4)])
    responses, _ = ingest_survey_wave(con, raw, "w4_2025", HMAC_KEY)
    assert (responses.rows_loaded, responses.rows_quarantined, responses.cells_set_missing) == (10, 1, 0)
    assert responses.wave.field_start == "2025-09-08" and "invited_at" in responses.wave.field_start_source
    assert con.execute("SELECT field_start, field_start_source FROM audit.row_accounting WHERE layout = 'w3_sav'"
                       ).fetchall() == [(date(2025, 9, 8), responses.wave.field_start_source)]


def test_address_like_text_is_hashed_in_every_column_and_in_the_raw_record(con, raw):
    rows = [w1_row(n) for n in range(1, 21)]
    rows[0].update(kommune=f"write to {SECRET}", oblast=SECRET)   # cells set missing: the row is loaded
    rows[1].update(svar_id=SECRET)                                # the id itself: the row is kept out
    rows[2].update(retur=f" {SECRET} ")
    write_w1_csv(raw / "survey/w1_2022/responses.csv", rows)
    (result,) = ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (19, 1)
    stored = json.dumps(con.execute("SELECT * FROM audit.quarantine").df().astype(str).values.tolist())
    stored += json.dumps(con.execute("SELECT * FROM raw.survey_cells").df().astype(str).values.tolist())
    stored += json.dumps(con.execute("SELECT * FROM raw.survey_responses").df().astype(str).values.tolist())
    assert not any(form in stored for form in SECRET_FORMS)
    record = json.loads(con.execute("SELECT raw_record FROM audit.quarantine WHERE row_number = 2").fetchall()[0][0])
    assert record["svar_id"] == f"email_hash:{email_hash(SECRET, HMAC_KEY)}"


def _error_paths(raw: Path) -> list[tuple[str, callable]]:
    """(name, action) pairs that each fail with a message; each file has the secret address in a header or cell."""
    def headerless_invitations():
        folder = w2_wave(raw)
        (folder / "invitations.csv").write_text(f"TOKEN0000001,{SECRET},2023-05-01,w1_2022\n", encoding="utf-8")
        return "w2_2023"

    def header_with_address():
        row = w1_row(1)
        row[SECRET] = "x"
        write_w1_csv(raw / "survey/w1_2022/responses.csv", [row])
        return "w1_2022"

    def duplicate_header():
        path = raw / "survey/w1_2022/responses.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{SECRET},{SECRET}\n1,2\n", encoding="utf-8")
        return "w1_2022"

    def unknown_layout():
        path = raw / "survey/w5_2026/responses.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{SECRET};b\n1;2\n", encoding="utf-8")
        return "w5_2026"

    def udi_bad_header():
        folder = write_udi_snapshot(raw, snapshot="2024-03-05")
        (folder / "gyldige_2024-03-05.csv").write_text(f"Fylke;{SECRET};Aldersgruppe;Antall\nOslo;Menn;0-5;3\n",
                                                       encoding="utf-8")
        return "udi:2024-03-05"

    return [("headerless invitations", headerless_invitations), ("header with an address", header_with_address),
            ("repeated header", duplicate_header), ("unknown layout", unknown_layout),
            ("UDI header", udi_bad_header)]


@pytest.mark.parametrize("case", range(5))
def test_no_error_message_or_log_holds_an_address(con, tmp_path, case, caplog):
    raw = tmp_path / f"raw{case}"
    name, make = _error_paths(raw)[case]
    key = make()
    with caplog.at_level(logging.DEBUG), pytest.raises(UnreadableFileError) as error:
        if key.startswith("udi:"):
            ingest_udi_snapshot(con, raw, key[4:])
        else:
            ingest_survey_wave(con, raw, key, HMAC_KEY)
    text = str(error.value) + caplog.text
    assert not any(form in text for form in SECRET_FORMS), name


def test_quarantine_reasons_and_check_messages_hold_no_cell_value(con, raw, monkeypatch):
    rows = [w1_row(n) for n in range(1, 11)]
    rows[0].update(innsendt=f"{SECRET} 2022", kommune=f"{SECRET}x")
    rows[1].update(fullfort="maybe", fodselsar="nineteen-eighty", ankomst="spring 2022")
    write_w1_csv(raw / "survey/w1_2022/responses.csv", rows)
    ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    reasons = [r for (r,) in con.execute("SELECT reason FROM audit.quarantine").fetchall()]
    assert len(reasons) >= 4
    for reason in reasons:
        assert not any(form in reason for form in SECRET_FORMS + ["maybe", "nineteen", "spring"]), reason
    monkeypatch.setenv("PANEL_MAX_QUARANTINE_SHARE", "0.01")
    outcome = check_survey_partition(con, "w1_2022")
    assert not outcome.passed
    assert not any(form in outcome.description for form in SECRET_FORMS + ["maybe", "nineteen"])
    assert "fullfort: unknown code (1 rows)" in outcome.description


def test_test_submission_sharing_an_id_with_a_real_response_costs_only_the_test(con, raw):
    rows = [w1_row(5, innsendt="2022-05-20 09:00:00")] + [w1_row(n) for n in range(1, 21)] + [w1_row(7)]
    write_w1_csv(raw / "survey/w1_2022/responses.csv", rows)
    (result,) = ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (22, 20, 2)
    assert audit(con, "survey/w1_2022/responses.csv") == [
        (1, "innsendt", "test submission before the field start", "row_quarantined"),
        (22, "svar_id", "repeated value", "row_quarantined")]
    assert con.execute("SELECT row_number FROM raw.survey_responses WHERE response_id = '5'").fetchall() == [(6,)]


def test_header_only_invitations_load_zero_rows(con, raw):
    folder = w2_wave(raw)
    (folder / "invitations.csv").write_text("token,email,invited_at,source_wave\n", encoding="utf-8")
    responses, invitations = ingest_survey_wave(con, raw, "w2_2023", HMAC_KEY)
    assert (invitations.rows_in, invitations.rows_loaded, responses.rows_loaded) == (0, 0, 5)
    assert check_survey_partition(con, "w2_2023").passed


def test_all_of_norway_loads_as_people_type_it(con, raw):
    import csv as csv_module

    from panel_ingest.paths import PROJECT_ROOT, REFERENCE_DIR
    sample_path = PROJECT_ROOT / "synthetic_panel/data/synthetic_sample_municipalities.csv"
    sample = {row["kommune_code_2024"] for row in csv_module.DictReader(sample_path.open(encoding="utf-8"))}
    everyone = list(csv_module.DictReader((REFERENCE_DIR / "ref_municipalities.csv").open(encoding="utf-8")))
    ambiguous = {"våler", "herøy"}
    outside = [m for m in everyone if m["kommune_code_2024"] not in sample
               and m["name_short"].replace(" ", "").lower() not in ambiguous]
    assert len(outside) >= 300
    typings = [lambda m: m["kommune_name"], lambda m: m["name_short"].upper(),
               lambda m: f"  {m['kommune_name_2024'].lower()} ", lambda m: m["kommune_name"].replace(" ", "\u00a0"),
               lambda m: m["kommune_name"].split(" - ")[-1]]
    rows = [w1_row(n, kommune=typings[n % len(typings)](m)) for n, m in enumerate(outside[:60], start=1)]
    write_w1_csv(raw / "survey/w1_2022/responses.csv", rows)
    (w1,) = ingest_survey_wave(con, raw, "w1_2022", HMAC_KEY)
    assert (w1.rows_loaded, w1.cells_set_missing) == (60, 0), w1.cells_set_missing_reasons
    codes = sorted({m["kommune_code_2024"] for m in everyone})
    assert len(codes) == 357
    w3 = [w3_row(n, country_now=1.0, left=None, kommunenr=code.lstrip("0") if n % 2 else code)
          for n, code in enumerate(codes, start=1)]
    write_w3_sav(raw / "survey/w3_2024/responses.sav", w3)
    (result,) = ingest_survey_wave(con, raw, "w3_2024", HMAC_KEY)
    assert (result.rows_loaded, result.cells_set_missing) == (357, 0), result.cells_set_missing_reasons
