"""Survey schemas: agree with the codebook seeds, reject each kind of bad row with a clear reason."""
from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from test_ingest_fixtures import HMAC_KEY, w1_row, w2_row, w3_row

from panel_ingest.codebook import read_codebook
from panel_ingest.errors import UnreadableFileError
from panel_ingest.paths import CODEBOOK_DIR
from panel_ingest.pseudonymise import replace_email_column
from panel_ingest.quarantine import validate_rows
from panel_ingest.readers import cell_text
from validation.schemas import (
    invitations_schema, month_order_failures, schema_for_layout, schema_for_wave, structural_columns,
)

SEED_VARIABLES = list(csv.DictReader((CODEBOOK_DIR / "codebook_variables.csv").open(encoding="utf-8")))
SEED_VALUES = list(csv.DictReader((CODEBOOK_DIR / "codebook_values.csv").open(encoding="utf-8")))
SEED_LAYOUTS = sorted({v["layout"] for v in SEED_VARIABLES})
W1_YEAR, W2_YEAR, W3_YEAR = 2022, 2023, 2024


def text_frame(rows: list[dict], email_column: str) -> pd.DataFrame:
    """Rows as the readers deliver them (text cells, 1-based index), e-mail pseudonymised."""
    frame = pd.DataFrame([{k: cell_text(v) for k, v in r.items()} for r in rows], dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")
    return replace_email_column(frame, email_column, HMAC_KEY)


def failures_of(frame: pd.DataFrame, schema) -> list[tuple[int, str, str]]:
    result = validate_rows(frame, schema, "survey/test/responses.csv")
    return [tuple(r) for r in result.failures[["row_number", "column_name", "reason"]].itertuples(index=False)]


def checks_by_name(column) -> dict[str, dict]:
    return {check.name: dict(check.statistics or {}) for check in column.checks}


@pytest.mark.parametrize("layout", SEED_LAYOUTS)
def test_every_layout_schema_agrees_with_the_codebook_seeds(layout):
    schema = schema_for_layout(layout, wave_year=2030)
    assert schema.strict is True and schema.coerce is True
    variables = [v for v in SEED_VARIABLES if v["layout"] == layout]
    expected_columns = set()
    for variable in variables:
        if variable["value_type"] == "email":
            expected_columns |= {"email_hash", "email_bloom"}
            continue
        name = variable["source_variable"]
        expected_columns.add(name)
        column = schema.columns[name]
        assert column.nullable == (variable["required"] != "true"), name
        checks = checks_by_name(column)
        if variable["value_type"] == "code":
            codes = {v["source_value"] for v in SEED_VALUES if v["layout"] == layout and v["concept"] == variable["concept"]}
            assert codes and set(checks["isin"]["allowed_values"]) == codes, name
        if variable["value_type"] == "integer":
            offset = 2030 if variable["bounds_relative_to"] == "wave_year" else 0
            assert checks["integer_text_between"] == {"min_value": int(variable["min_value"]) + offset,
                                                      "max_value": int(variable["max_value"]) + offset}, name
        if variable["value_type"] == "timestamp":
            assert "timestamp_text" in checks, name
        if variable["earliest_month"]:
            assert checks["month_from"]["earliest"] == variable["earliest_month"], name
        if variable["value_type"] in ("integer_id", "text_id"):
            assert column.unique, name
    assert set(schema.columns) == expected_columns
    assert structural_columns(layout) == {v["source_variable"] for v in variables if v["required"] == "true"}


def test_no_layout_is_hard_coded_in_the_schemas():
    source = "".join(p.read_text(encoding="utf-8") for p in (CODEBOOK_DIR.parents[2] / "validation/schemas").glob("*.py"))
    assert [layout for layout in SEED_LAYOUTS if layout in source] == []


def test_birth_year_bounds_follow_the_wave_year_not_the_layout():
    rows = [w3_row(1, byear=2010.0), w3_row(2, byear=1920.0), w3_row(3, byear=2011.0)]  # aged 15, 105, 14 in 2025
    frame = text_frame(rows, "email")
    assert [(n, c) for n, c, _ in failures_of(frame, schema_for_wave("w3_sav", 2025, "2024-09-16"))] == [(3, "byear")]
    assert [(n, c) for n, c, _ in failures_of(frame, schema_for_wave("w3_sav", W3_YEAR, "2024-09-16"))] == [
        (1, "byear"), (3, "byear")]


def test_valid_w1_rows_pass_including_odd_oblast_spelling_and_blanks():
    rows = [w1_row(1), w1_row(2, oblast="  KHARKIV  oblast ", fodselsar="", retur=""),
            w1_row(3, oblast="Харківська область", epost="")]
    assert failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", W1_YEAR, "2022-06-01")) == []


@pytest.mark.parametrize("override, column, expected", [
    ({"svar_id": "12a"}, "svar_id", "^[0-9]+$"),
    ({"svar_id": ""}, "svar_id", "required"),
    ({"innsendt": "2022-05-28 10:00:00"}, "innsendt", "on or after the field start 2022-06-01"),
    ({"innsendt": "2022-06-31 10:00:00"}, "innsendt", "YYYY-MM-DD HH:MM:SS"),
    ({"innsendt": ""}, "innsendt", "required"),
    ({"fodselsar": "1899"}, "fodselsar", "an integer from 1917 to 2007"),
    ({"fodselsar": "19.5"}, "fodselsar", "an integer from 1917 to 2007"),
    ({"barn_norge": "99"}, "barn_norge", "an integer from 0 to 9"),
    ({"kjonn": "4"}, "kjonn", "one of ['1', '2', '3']"),
    ({"oblast": "Atlantis"}, "oblast", "case and spacing ignored"),
    ({"ankomst": "2022-13"}, "ankomst", "text matching"),
    ({"kommune": "Gotham"}, "kommune", "unknown municipality name"),
    ({"kommune": "Våler"}, "kommune", "ambiguous municipality name"),
    ({"ankomst": "2021-12"}, "ankomst", "a month not before 2022-02"),
    ({"fullfort": ""}, "fullfort", "required"),
])
def test_w1_bad_row_is_rejected_with_the_expected_values_in_the_reason(override, column, expected):
    rows = [w1_row(1), w1_row(2, **override), w1_row(3)]
    failures = failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", W1_YEAR, "2022-06-01"))
    assert [(n, c) for n, c, _ in failures] == [(2, column)]
    assert expected in failures[0][2]


def test_duplicate_id_quarantines_only_the_repeat():
    rows = [w1_row(1), w1_row(2), w1_row(1, innsendt="2022-06-20 08:00:00")]
    failures = failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", W1_YEAR, "2022-06-01"))
    assert [(n, c) for n, c, _ in failures] == [(3, "svar_id")]
    assert "not repeating an earlier row" in failures[0][2]


def test_unknown_wave_has_no_field_period_filter():
    rows = [w1_row(1, innsendt="2021-01-01 00:00:00")]
    assert failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", W1_YEAR, None)) == []


def test_w2_text_labels_and_id_format():
    rows = [w2_row(1), w2_row(2, Gender="female"), w2_row(3, RespondentID="R 123"), w2_row(4, Reason_3=2),
            w2_row(5, Finished="yes")]
    failures = failures_of(text_frame(rows, "Email"), schema_for_wave("w2_xlsx", W2_YEAR, "2023-05-02"))
    assert [(n, c) for n, c, _ in failures] == [(2, "Gender"), (3, "RespondentID"), (4, "Reason_3"), (5, "Finished")]


def test_w3_codes_oblast_numbers_and_kommune_codes():
    rows = [w3_row(1), w3_row(2, oblast=99.0), w3_row(3, oblast=98.0), w3_row(4, kommunenr="9999"),
            w3_row(5, kommunenr="0301", country_now=1.0), w3_row(6, sex=4.0), w3_row(7, kids_no=99.0),
            w3_row(8, kommunenr="301", country_now=1.0), w3_row(9, kommunenr="5636", country_now=1.0)]
    failures = failures_of(text_frame(rows, "email"), schema_for_wave("w3_sav", W3_YEAR, "2024-09-16"))
    assert [(n, c) for n, c, _ in failures] == [(3, "oblast"), (4, "kommunenr"), (6, "sex"), (7, "kids_no")]


def test_month_order_costs_the_later_cell_only():
    rows = [w3_row(1), w3_row(2, left=date(2022, 1, 1)), w3_row(3, arrival=date(2023, 5, 1), left=date(2023, 4, 1)),
            w3_row(4, left=date(2024, 10, 1)), w3_row(5, arrival=date(2024, 11, 1)), w3_row(6, arrival=None)]
    frame = text_frame(rows, "email")
    failures = month_order_failures(frame, "w3_sav")
    assert sorted(zip(failures["row_number"], failures["column_name"], failures["check"])) == [
        (2, "left", "not_before:arrival_month"), (3, "left", "not_before:arrival_month"),
        (4, "left", "not_after:submitted_at"), (5, "arrival", "not_after:submitted_at")]
    schema_cells = failures_of(frame, schema_for_wave("w3_sav", W3_YEAR, "2024-09-16"))
    assert [(n, c) for n, c, _ in schema_cells] == [(2, "left")]  # before 2022-02: impossible on its own


def test_invitations_schema_rejects_bad_token_missing_address_and_repeated_token():
    frame = pd.DataFrame([
        {"token": "ABCDEFGHIJKL", "email": "a@b.no", "invited_at": "2023-05-01 08:00:00", "source_wave": "w1_2022"},
        {"token": "SHORT", "email": "c@d.no", "invited_at": "2023-05-01 08:00:00", "source_wave": "w1_2022"},
        {"token": "ABCDEFGHIJK2", "email": None, "invited_at": "2023-05-01", "source_wave": "w1_2022"},
        {"token": "ABCDEFGHIJK3", "email": "e@f.no", "invited_at": "yesterday", "source_wave": "wave one"},
        {"token": "ABCDEFGHIJKL", "email": "g@h.no", "invited_at": "2023-05-01", "source_wave": "w1_2022"},
        {"token": "ABCDEFGHIJK3", "email": "i@j.no", "invited_at": "2023-05-01", "source_wave": "w1_2022"},
    ], dtype=object)
    frame.index = pd.RangeIndex(1, 7, name="row_number")
    result = validate_rows(replace_email_column(frame, "email", HMAC_KEY), invitations_schema(), "x.csv",
                           {"email_hash": "email", "email_bloom": "email"})
    cells = sorted(set(zip(result.failures["row_number"], result.failures["column_name"])))
    # Row 5 repeats loaded row 1's token; row 6 repeats only row 4's, which is kept out itself: not a repeat.
    assert cells == [(2, "token"), (3, "email"), (4, "invited_at"), (4, "source_wave"), (5, "token")]
    assert set(result.failures["action"]) == {"row_quarantined"}


def test_missing_column_is_a_file_level_error():
    frame = text_frame([w1_row(1)], "epost").drop(columns=["retur"])
    with pytest.raises(UnreadableFileError, match="retur"):
        validate_rows(frame, schema_for_wave("w1_csv", W1_YEAR, "2022-06-01"), "survey/w1_2022/responses.csv")


def future_codebook(tmp_path: Path):
    """The project's seeds plus a layout `w4_csv` that exists only in the codebook."""
    folder = tmp_path / "codebook"
    shutil.copytree(CODEBOOK_DIR, folder)
    with (folder / "codebook_variables.csv").open("a", encoding="utf-8") as handle:
        handle.write("w4_csv,rid,response_id,integer_id,,,true,id,,,,\n"
                     "w4_csv,sent,submitted_at,timestamp,,,true,submitted,,,,\n"
                     "w4_csv,kids,children_in_norway,integer,0,9,false,children,,,,\n"
                     "w4_csv,mood,aspiration,code,,,false,plans,,,,\n"
                     "w4_csv,mail,email,email,,,false,e-mail,,,,\n")
    with (folder / "codebook_values.csv").open("a", encoding="utf-8") as handle:
        handle.write("w4_csv,aspiration,A,return_asap,return\nw4_csv,aspiration,B,stay_norway,stay\n")
    return read_codebook(folder)


def test_schema_for_a_layout_added_only_in_the_codebook(tmp_path):
    codebook = future_codebook(tmp_path)
    schema = schema_for_layout("w4_csv", codebook)
    assert set(schema.columns) == {"rid", "sent", "kids", "mood", "email_hash", "email_bloom"}
    rows = [{"rid": "1", "sent": "2025-05-01 10:00:00", "kids": "2", "mood": "A", "mail": "x@y.no"},
            {"rid": "2", "sent": "2025-05-01 10:00:00", "kids": "12", "mood": "C", "mail": ""}]
    failures = failures_of(text_frame(rows, "mail"), schema)
    assert [(n, c) for n, c, _ in failures] == [(2, "kids"), (2, "mood")]
    assert "one of ['A', 'B']" in failures[1][2]


W1_SUBSET = ["svar_id", "innsendt", "sprak", "kjonn", "fodselsar", "oblast", "barn_norge", "kommune"]


# pandera also re-applies custom checks as a DataFrame-level filter (values already pass): not a problem.
@pytest.mark.filterwarnings("ignore:Column check doesn't have a defined strategy")
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(schema_for_layout("w1_csv", wave_year=W1_YEAR).select_columns(W1_SUBSET).strategy(size=4))
def test_rows_generated_from_the_w1_schema_pass_and_a_bad_birth_year_is_caught(frame):
    frame = frame.astype(object).where(frame.notna(), None)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")
    schema = schema_for_wave("w1_csv", W1_YEAR, None).select_columns(W1_SUBSET)
    assert failures_of(frame, schema) == []
    frame.loc[2, "fodselsar"] = "1899"
    assert [(n, c) for n, c, _ in failures_of(frame, schema)] == [(2, "fodselsar")]
