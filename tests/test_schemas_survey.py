"""Survey schemas: agree with the codebook seeds, reject each kind of bad row with a clear reason."""
from __future__ import annotations

import csv
import shutil
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
    LAYOUT_MODELS, RawTextModel, W1ResponsesCsv, invitations_schema, schema_for_layout, schema_for_wave,
)

SEED_VARIABLES = list(csv.DictReader((CODEBOOK_DIR / "codebook_variables.csv").open(encoding="utf-8")))
SEED_VALUES = list(csv.DictReader((CODEBOOK_DIR / "codebook_values.csv").open(encoding="utf-8")))


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


@pytest.mark.parametrize("layout", sorted(LAYOUT_MODELS))
def test_every_layout_class_agrees_with_the_codebook_seeds(layout):
    model = LAYOUT_MODELS[layout]
    assert issubclass(model, RawTextModel)
    schema = model.to_schema()
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
            assert checks["integer_text_between"] == {"min_value": int(variable["min_value"]),
                                                      "max_value": int(variable["max_value"])}, name
        if variable["value_type"] == "timestamp":
            assert "timestamp_text" in checks, name
        if variable["value_type"] in ("integer_id", "text_id"):
            assert column.unique, name
    assert set(schema.columns) == expected_columns


@pytest.mark.parametrize("layout", sorted(LAYOUT_MODELS))
def test_class_is_at_least_as_strict_as_the_schema_built_from_the_codebook(layout):
    from_class = LAYOUT_MODELS[layout].to_schema()
    from_codebook = schema_for_layout(layout)
    assert set(from_class.columns) == set(from_codebook.columns)
    for name, column in from_codebook.columns.items():
        class_checks = checks_by_name(from_class.columns[name])
        for check_name, statistics in checks_by_name(column).items():
            assert check_name in class_checks, name
            if check_name != "str_matches":  # a class may narrow a format (w2's `R_` + 15 characters)
                assert class_checks[check_name] == statistics, name
        assert from_class.columns[name].nullable == column.nullable
        assert from_class.columns[name].unique == column.unique


def test_valid_w1_rows_pass_including_odd_oblast_spelling_and_blanks():
    rows = [w1_row(1), w1_row(2, oblast="  KHARKIV  oblast ", fodselsar="", retur=""),
            w1_row(3, oblast="Харківська область", epost="")]
    assert failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", "2022-06-01")) == []


@pytest.mark.parametrize("override, column, expected", [
    ({"svar_id": "12a"}, "svar_id", "^[0-9]+$"),
    ({"svar_id": ""}, "svar_id", "required"),
    ({"innsendt": "2022-05-28 10:00:00"}, "innsendt", "not before the field start 2022-06-01"),
    ({"innsendt": "2022-06-31 10:00:00"}, "innsendt", "YYYY-MM-DD HH:MM:SS"),
    ({"innsendt": ""}, "innsendt", "required"),
    ({"fodselsar": "1899"}, "fodselsar", "an integer from 1920 to 2006"),
    ({"fodselsar": "19.5"}, "fodselsar", "an integer from 1920 to 2006"),
    ({"barn_norge": "99"}, "barn_norge", "an integer from 0 to 9"),
    ({"kjonn": "4"}, "kjonn", "one of ['1', '2', '3']"),
    ({"oblast": "Atlantis"}, "oblast", "case and spacing ignored"),
    ({"ankomst": "2022-13"}, "ankomst", "text matching"),
    ({"kommune": "Gotham"}, "kommune", "Bærum"),
    ({"fullfort": ""}, "fullfort", "required"),
])
def test_w1_bad_row_is_rejected_with_the_expected_values_in_the_reason(override, column, expected):
    rows = [w1_row(1), w1_row(2, **override), w1_row(3)]
    failures = failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", "2022-06-01"))
    assert [(n, c) for n, c, _ in failures] == [(2, column)]
    assert expected in failures[0][2]


def test_duplicate_id_quarantines_only_the_repeat():
    rows = [w1_row(1), w1_row(2), w1_row(1, innsendt="2022-06-20 08:00:00")]
    failures = failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", "2022-06-01"))
    assert [(n, c) for n, c, _ in failures] == [(3, "svar_id")]
    assert "not repeating an earlier row" in failures[0][2]


def test_unknown_wave_has_no_field_period_filter():
    rows = [w1_row(1, innsendt="2021-01-01 00:00:00")]
    assert failures_of(text_frame(rows, "epost"), schema_for_wave("w1_csv", None)) == []


def test_w2_text_labels_and_id_format():
    rows = [w2_row(1), w2_row(2, Gender="female"), w2_row(3, RespondentID="R_123"), w2_row(4, Reason_3=2),
            w2_row(5, Finished="yes")]
    failures = failures_of(text_frame(rows, "Email"), schema_for_wave("w2_xlsx", "2023-05-02"))
    assert [(n, c) for n, c, _ in failures] == [(2, "Gender"), (3, "RespondentID"), (4, "Reason_3"), (5, "Finished")]


def test_w3_codes_oblast_numbers_and_kommune_codes():
    rows = [w3_row(1), w3_row(2, oblast=99.0), w3_row(3, oblast=98.0), w3_row(4, kommunenr="9999"),
            w3_row(5, kommunenr="0301", country_now=1.0), w3_row(6, sex=4.0), w3_row(7, kids_no=99.0)]
    failures = failures_of(text_frame(rows, "email"), schema_for_wave("w3_sav", "2024-09-16"))
    assert [(n, c) for n, c, _ in failures] == [(3, "oblast"), (4, "kommunenr"), (6, "sex"), (7, "kids_no")]


def test_invitations_schema_rejects_bad_token_missing_address_and_repeated_token():
    frame = pd.DataFrame([
        {"token": "ABCDEFGHIJKL", "email": "a@b.no", "invited_at": "2023-05-01 08:00:00", "source_wave": "w1_2022"},
        {"token": "SHORT", "email": "c@d.no", "invited_at": "2023-05-01 08:00:00", "source_wave": "w1_2022"},
        {"token": "ABCDEFGHIJK2", "email": None, "invited_at": "2023-05-01", "source_wave": "w1_2022"},
        {"token": "ABCDEFGHIJKL", "email": "e@f.no", "invited_at": "yesterday", "source_wave": "wave one"},
    ], dtype=object)
    frame.index = pd.RangeIndex(1, 5, name="row_number")
    result = validate_rows(replace_email_column(frame, "email", HMAC_KEY), invitations_schema(), "x.csv",
                           {"email_hash": "email", "email_bloom": "email"})
    cells = sorted(set(zip(result.failures["row_number"], result.failures["column_name"])))
    assert cells == [(2, "token"), (3, "email"), (4, "invited_at"), (4, "source_wave"), (4, "token")]


def test_missing_column_is_a_file_level_error():
    frame = text_frame([w1_row(1)], "epost").drop(columns=["retur"])
    with pytest.raises(UnreadableFileError, match="retur"):
        validate_rows(frame, schema_for_wave("w1_csv", "2022-06-01"), "survey/w1_2022/responses.csv")


def future_codebook(tmp_path: Path):
    """The project's seeds plus a layout `w4_csv` that exists only in the codebook."""
    folder = tmp_path / "codebook"
    shutil.copytree(CODEBOOK_DIR, folder)
    with (folder / "codebook_variables.csv").open("a", encoding="utf-8") as handle:
        handle.write("w4_csv,rid,response_id,integer_id,,,true,id\n"
                     "w4_csv,sent,submitted_at,timestamp,,,true,submitted\n"
                     "w4_csv,kids,children_in_norway,integer,0,9,false,children\n"
                     "w4_csv,mood,aspiration,code,,,false,plans\n"
                     "w4_csv,mail,email,email,,,false,e-mail\n")
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
@given(W1ResponsesCsv.to_schema().select_columns(W1_SUBSET).strategy(size=4))
def test_rows_generated_from_the_w1_schema_pass_and_a_bad_birth_year_is_caught(frame):
    frame = frame.astype(object).where(frame.notna(), None)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")
    schema = schema_for_wave("w1_csv", None).select_columns(W1_SUBSET)
    assert failures_of(frame, schema) == []
    frame.loc[2, "fodselsar"] = "1899"
    assert [(n, c) for n, c, _ in failures_of(frame, schema)] == [(2, "fodselsar")]
