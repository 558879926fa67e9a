"""Readers: every format to text rows without loss; unreadable files name the file and the problem."""
from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from test_ingest_fixtures import (
    APPLICATIONS_HEADER, DECISIONS_HEADER, PERMITS_HEADER, w1_row, w2_row, w3_row, write_udi, write_udi_snapshot,
    write_w1_csv, write_w2_xlsx, write_w3_sav,
)

from panel_ingest.errors import UnreadableFileError
from panel_ingest.readers import cell_text, read_table_file
from panel_ingest.udi import FILE_KINDS, raw_column_name, read_udi_file


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return tmp_path / "raw"


def test_windows_1252_semicolon_csv_keeps_norwegian_letters(raw):
    path = write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(1), w1_row(2, fodselsar="")],
                        encoding="cp1252", delimiter=";")
    assert b"B\xe6rum" in path.read_bytes()
    result = read_table_file(path, raw)
    assert result.source_file == "survey/w1_2022/responses.csv"
    assert list(result.frame.index) == [1, 2]
    assert result.frame.loc[1, "kommune"] == "Bærum"
    assert result.frame.loc[2, "fodselsar"] is None
    assert result.frame.loc[1, "epost"] == "petro.shevchenko@gmail.com."


def test_utf8_bom_comma_csv_has_clean_first_column_name(raw):
    path = write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(1, oblast="Харківська область")],
                        encoding="utf-8-sig", delimiter=",")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = read_table_file(path, raw)
    assert result.columns[0] == "svar_id"
    assert result.frame.loc[1, "oblast"] == "Харківська область"
    assert result.frame.loc[1, "innsendt"] == "2022-06-11 12:30:00"


def test_xlsx_reads_data_sheet_with_datetime_booleans_and_integral_floats(raw):
    path = write_w2_xlsx(raw / "survey/w2_2023/responses.xlsx",
                         [w2_row(1), w2_row(2, Finished=False, EndDate=datetime(2023, 6, 1, 23, 59, 59))])
    result = read_table_file(path, raw)
    frame = result.frame
    assert frame.loc[1, "EndDate"] == "2023-05-10 09:15:01"
    assert frame.loc[2, "EndDate"] == "2023-06-01 23:59:59"
    assert list(frame["Finished"]) == ["TRUE", "FALSE"]
    assert frame.loc[1, "BirthYear"] == "1980"
    assert frame.loc[1, "Reason_1"] is None
    assert frame.loc[1, "RespondentID"] == "R_000000000000001"


def test_sav_gives_numeric_codes_not_value_labels_and_dates_as_text(raw):
    path = write_w3_sav(raw / "survey/w3_2024/responses.sav", [w3_row(1), w3_row(2, sex=1.0, oblast=99.0)])
    frame = read_table_file(path, raw).frame
    assert frame.loc[1, "sex"] == "2" and frame.loc[2, "sex"] == "1"
    assert frame.loc[2, "oblast"] == "99"
    assert frame.loc[1, "id"] == "1001"
    assert frame.loc[1, "enddate"] == "2024-09-20 18:00:01"
    assert frame.loc[1, "arrival"] == "2022-03-01"
    assert frame.loc[1, "token"] is None and frame.loc[1, "plans"] is None


def test_udi_headers_map_to_raw_columns_and_numbers_stay_as_delivered(raw):
    folder = write_udi_snapshot(raw)
    kinds = {k.layout: k for k in FILE_KINDS}
    permits = read_udi_file(folder / "gyldige_2024-02-05.csv", raw, kinds["udi_valid_permits"]).frame
    assert list(permits.columns) == ["fylke", "kjonn", "aldersgruppe", "antall"]
    assert list(permits["antall"]) == ["2 345", "-", "17"]
    applications = read_udi_file(folder / "soknader_2024.csv", raw, kinds["udi_applications"]).frame
    assert applications.loc[1, "feb"] == "1\u00a0361" and applications.loc[1, "mar"] is None
    decisions = read_udi_file(folder / "vedtak_2024.csv", raw, kinds["udi_decisions"]).frame
    assert list(decisions.columns) == ["statsborgerskap", "maaned", "innvilget", "avslag", "henlagt"]
    assert raw_column_name("Måned") == "maaned" and raw_column_name("Kjønn") == "kjonn"


@pytest.mark.parametrize("value, text", [
    (3.0, "3"), (2.5, "2.5"), (True, "TRUE"), (None, None), ("  ", None), (float("nan"), None), (" Oslo ", " Oslo "),
    (datetime(2023, 5, 10, 9, 14, 59, 999_000), "2023-05-10 09:15:00"),
    (datetime(2023, 5, 10, 9, 14, 59, 200_000), "2023-05-10 09:14:59"),
])
def test_cell_text_rules(value, text):
    assert cell_text(value) == text


def test_corrupt_xlsx_names_the_file(raw):
    path = raw / "survey/w2_2023/responses.xlsx"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("nothing.txt", "not a workbook")
    with pytest.raises(UnreadableFileError, match=r"^survey/w2_2023/responses\.xlsx: not a readable XLSX"):
        read_table_file(path, raw)


def test_corrupt_sav_names_the_file(raw):
    path = raw / "survey/w3_2024/responses.sav"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"$FL2" + bytes(range(256)) * 4)
    with pytest.raises(UnreadableFileError, match=r"^survey/w3_2024/responses\.sav: not a readable SPSS"):
        read_table_file(path, raw)


def test_binary_garbage_csv_names_the_file(raw):
    path = raw / "survey/w1_2022/responses.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UnreadableFileError, match=r"^survey/w1_2022/responses\.csv: binary data"):
        read_table_file(path, raw)


def test_ragged_row_costs_that_row_not_the_file(raw):
    path = write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(1), w1_row(2), w1_row(3)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",extra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_table_file(path, raw)
    assert result.row_faults == {2: "wrong number of fields: expected 18 fields as in the header, found 19"}
    assert result.frame.loc[2].isna().all() and result.frame.loc[3, "svar_id"] == "3"


def test_stray_windows_1252_byte_in_a_utf8_file_is_decoded_with_its_position(raw):
    path = write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(1, kommune="Tromsø"), w1_row(2)])
    data = path.read_bytes()
    assert "Tromsø".encode("utf-8") in data
    data = data.replace(b"B\xc3\xa6rum", b"B\xe6rum", 1)  # row 2 typed in Excel
    path.write_bytes(data)
    result = read_table_file(path, raw)
    assert result.frame.loc[1, "kommune"] == "Tromsø" and result.frame.loc[2, "kommune"] == "Bærum"
    offset = data.index(b"\xe6")
    assert result.warnings == [f"survey/w1_2022/responses.csv: 1 byte(s) not valid UTF-8, read as Windows-1252 "
                               f"(line 3 byte {offset}); check those cells"]


def test_udi_file_with_wrong_header_is_unreadable(raw):
    kinds = {k.layout: k for k in FILE_KINDS}
    path = write_udi(raw / "udi/2024-02-05/gyldige_2024-02-05.csv", ["Fylke", "Kjønn", "Alder", "Antall"],
                     [["Oslo", "Menn", "0-5", "3"]])
    with pytest.raises(UnreadableFileError, match=r"udi/2024-02-05/gyldige_2024-02-05\.csv: header .*aldersgruppe"):
        read_udi_file(path, raw, kinds["udi_valid_permits"])


def test_trailing_blank_lines_are_not_records_but_interior_ones_are_kept(raw):
    path = write_w1_csv(raw / "survey/w1_2022/responses.csv", [w1_row(1), w1_row(2)])
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:2] + [""] + lines[2:] + ["", ""]), encoding="utf-8")
    frame = read_table_file(path, raw).frame
    assert len(frame) == 3
    assert frame.loc[2].isna().all() and frame.loc[3, "svar_id"] == "2"


def test_headers_of_all_udi_files_are_known():
    for header in (APPLICATIONS_HEADER, DECISIONS_HEADER, PERMITS_HEADER):
        names = [raw_column_name(h) for h in header]
        assert any(set(names) == set(kind.columns) for kind in FILE_KINDS)


def test_xlsx_without_a_data_sheet_reads_the_first_sheet(raw):
    import openpyxl

    path = raw / "survey/w2_2023/responses.xlsx"
    path.parent.mkdir(parents=True)
    workbook = openpyxl.Workbook()
    workbook.active.title = "Export"
    workbook.active.append(["RespondentID", "Finished"])
    workbook.active.append(["R_000000000000001", False])
    workbook.create_sheet("Other").append(["ignored"])
    workbook.save(path)
    frame = read_table_file(path, raw).frame
    assert list(frame.columns) == ["RespondentID", "Finished"] and frame.loc[1, "Finished"] == "FALSE"


def test_xlsx_row_with_values_beyond_the_header_is_a_row_fault(raw):
    import openpyxl

    path = raw / "survey/w2_2023/responses.xlsx"
    path.parent.mkdir(parents=True)
    workbook = openpyxl.Workbook()
    workbook.active.append(["RespondentID", "Finished"])
    workbook.active.append(["R_000000000000001", True])
    workbook.active.append(["R_000000000000002", True, "stray"])
    workbook.save(path)
    result = read_table_file(path, raw)
    assert result.row_faults == {2: "wrong number of fields: expected 2 fields as in the header, found 3"}
    assert result.frame.loc[1, "RespondentID"] == "R_000000000000001"


def test_unsupported_extension_is_unreadable(raw):
    path = raw / "survey/w1_2022/responses.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    with pytest.raises(UnreadableFileError, match=r"survey/w1_2022/responses\.json: unsupported file type"):
        read_table_file(path, raw)
