"""The bad-input corpus: small wave and snapshot folders that follow the input contract
(`docs/contracts/inputs.md`) except for ONE defect each, run through the ingest entry points on a DuckDB
file in tmp, with the expected outcome asserted precisely.

An outcome is one of:
- `Fails`: `UnreadableFileError` whose message starts with the file (or folder) it names and says what was
  expected; it never holds the offending content (the planted text of the case, and no e-mail address);
- `Loads`: the rows loaded and quarantined, and exactly the `audit.quarantine` rows (row, column, reason,
  action `row_quarantined` / `cell_set_missing`) for the defect, plus any warning naming the file;
- `Skipped`: discovery leaves the folder out with a warning naming it.
After every ingest, `audit.row_accounting` adds up for every file (`rows_in = rows_loaded + rows_quarantined`,
the quarantined rows being those with a `row_quarantined` audit row) and no address is stored in clear.
The binary files (XLSX, SAV) are built by the fixtures' writers from each case's rows.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import duckdb
import pytest
from test_ingest_fixtures import (
    ADDRESSES, DECISIONS_HEADER, HMAC_KEY, W3_COLUMNS, invitation, w1_row, w2_row, w3_row, write_invitations, write_udi,
    write_udi_snapshot, write_w1_csv, write_w2_xlsx, write_w3_sav,
)

from panel_ingest.discover import find_survey_waves, find_udi_snapshots
from panel_ingest.errors import UnreadableFileError
from panel_ingest.survey import ingest_survey_wave
from panel_ingest.udi import ingest_udi_snapshot

SECRET = "olena.secret@example.org"
W1, W2, W3 = "survey/w1_2022/responses.csv", "survey/w2_2023/responses.xlsx", "survey/w3_2024/responses.sav"
W2_INVITATIONS = "survey/w2_2023/invitations.csv"
TODAY = date(2026, 1, 15)


@dataclass(frozen=True)
class Fails:
    """The ingest refuses the partition: the message matches `message` (a regex, anchored at the start)."""

    message: str
    hidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Loads:
    """The ingest loads the partition; `audit` is every quarantine row of `file` as (row, column, reason, action)."""

    file: str
    rows: tuple[int, int, int]  # rows_in, rows_loaded, rows_quarantined
    audit: tuple[tuple[int, str | None, str, str], ...] = ()
    warning: str | None = None  # a regex one of the file's warnings must match
    check: Callable[[duckdb.DuckDBPyConnection], None] | None = None


@dataclass(frozen=True)
class Skipped:
    """Discovery leaves the folder out with a warning; `found` are the partitions it does return."""

    warning: str
    found: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], str]  # writes the case under raw/, returns the partition ("w1_2022", "udi:<date>")
    outcome: Fails | Loads | Skipped


# ---- builders: one valid delivery each, the case's defect applied on top ----------------------------------

def w1(rows: list[dict] | None = None, *, encoding: str = "utf-8", delimiter: str = ",") -> Callable[[Path], str]:
    def build(raw: Path) -> str:
        write_w1_csv(raw / W1, rows if rows is not None else [w1_row(n) for n in range(1, 21)], encoding, delimiter)
        return "w1_2022"
    return build


def w1_rows(**changes: dict) -> list[dict]:
    """Twenty valid w1 rows; `changes` maps `r<row number>` to the cells to override in that row."""
    rows = [w1_row(n) for n in range(1, 21)]
    for key, overrides in changes.items():
        rows[int(key[1:]) - 1].update(overrides)
    return rows


def w1_bytes(transform: Callable[[bytes], bytes]) -> Callable[[Path], str]:
    def build(raw: Path) -> str:
        path = write_w1_csv(raw / W1, [w1_row(n) for n in range(1, 21)])
        path.write_bytes(transform(path.read_bytes()))
        return "w1_2022"
    return build


def w2(rows: list[dict] | None = None, invitations: list[dict] | None = None, **xlsx) -> Callable[[Path], str]:
    def build(raw: Path) -> str:
        write_w2_xlsx(raw / W2, rows if rows is not None else [w2_row(n) for n in range(1, 11)], **xlsx)
        write_invitations(raw / W2_INVITATIONS, invitations if invitations is not None
                          else [invitation(n) for n in range(1, 13)])
        return "w2_2023"
    return build


def w2_rows(**changes: dict) -> list[dict]:
    rows = [w2_row(n) for n in range(1, 11)]
    for key, overrides in changes.items():
        rows[int(key[1:]) - 1].update(overrides)
    return rows


def w3(rows: list[dict] | None = None) -> Callable[[Path], str]:
    def build(raw: Path) -> str:
        write_w3_sav(raw / W3, rows if rows is not None else [w3_row(n) for n in range(1, 11)])
        return "w3_2024"
    return build


def w3_rows(**changes: dict) -> list[dict]:
    rows = [w3_row(n) for n in range(1, 11)]
    for key, overrides in changes.items():
        rows[int(key[1:]) - 1].update(overrides)
    return rows


def then(build: Callable[[Path], str], change: Callable[[Path], None]) -> Callable[[Path], str]:
    def composed(raw: Path) -> str:
        partition = build(raw)
        change(raw)
        return partition
    return composed


def write(relative: str, content: bytes) -> Callable[[Path], None]:
    def change(raw: Path) -> None:
        (raw / relative).parent.mkdir(parents=True, exist_ok=True)
        (raw / relative).write_bytes(content)
    return change


def udi(snapshot: str = "2024-02-05", change: Callable[[Path], None] | None = None) -> Callable[[Path], str]:
    def build(raw: Path) -> str:
        folder = write_udi_snapshot(raw, snapshot=snapshot)
        if change:
            change(folder)
        return f"udi:{snapshot}"
    return build


def udi_decisions(rows: list[list[str]], header: list[str] = DECISIONS_HEADER) -> Callable[[Path], None]:
    return lambda folder: write_udi(folder / "vedtak_2024.csv", header, rows)


def folder_only(*names: str) -> Callable[[Path], str]:
    """Valid w1 and snapshot partitions plus the given extra folders (for the discovery cases)."""
    def build(raw: Path) -> str:
        write_w1_csv(raw / W1, [w1_row(1)])
        write_udi_snapshot(raw, snapshot="2024-02-05")
        for name in names:
            (raw / name).mkdir(parents=True, exist_ok=True)
        return "discover"
    return build


def w2_cover_sheet_first(raw: Path) -> str:
    """The data on a sheet not named `Data` after a cover sheet: the contract reads the first sheet."""
    write_w2_xlsx(raw / W2, [w2_row(n) for n in range(1, 6)], sheet="Responses")
    return "w2_2023"


def invitations_only(raw: Path) -> str:
    write_invitations(raw / W2_INVITATIONS, [invitation(1)])
    return "w2_2023"


def truncated_xlsx(raw: Path) -> str:
    path = write_w2_xlsx(raw / W2, [w2_row(n, Email=SECRET) for n in range(1, 6)])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return "w2_2023"


def xlsx_without_rows(raw: Path) -> str:
    write_w2_xlsx(raw / W2, [])
    return "w2_2023"


def w3_missing_variable(raw: Path) -> str:
    import pandas as pd
    import pyreadstat
    frame = pd.DataFrame([w3_row(n) for n in range(1, 6)], columns=W3_COLUMNS).drop(columns=["finished"])
    for column in ("token", "kommunenr", "email"):
        frame[column] = frame[column].fillna("").astype(str)
    (raw / W3).parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(frame, str(raw / W3), variable_format={"enddate": "DATETIME20", "arrival": "ADATE10",
                                                                  "left": "ADATE10"})
    return "w3_2024"


def _assert_row_count(con, table: str, where: str, expected: int) -> None:
    assert con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0] == expected


def cell(con, wave: str, row: int, variable: str):
    found = con.execute("SELECT value FROM raw.survey_cells WHERE wave_id = ? AND row_number = ? AND variable = ?",
                        [wave, row, variable]).fetchall()
    return found[0][0] if found else "<no such cell>"


def cell_is(wave: str, row: int, variable: str, expected) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def check(con) -> None:
        assert cell(con, wave, row, variable) == expected
    return check


def email_hash_is_null(wave: str, row: int) -> Callable[[duckdb.DuckDBPyConnection], None]:
    def check(con) -> None:
        assert con.execute("SELECT email_hash FROM raw.survey_responses WHERE wave_id = ? AND row_number = ?",
                           [wave, row]).fetchall() == [(None,)]
    return check


CASES: list[Case] = [
    # ---- file level: the file or folder is refused, naming it -------------------------------------------
    Case("w1 empty file", w1_bytes(lambda data: b""), Fails(r"survey/w1_2022/responses\.csv: empty file")),
    Case("w1 header only", w1([]), Fails(r"survey/w1_2022/responses\.csv: no data rows")),
    Case("w1 whitespace only", w1_bytes(lambda data: b"\r\n \r\n"),
         Fails(r"survey/w1_2022/responses\.csv: empty file")),
    Case("w1 tab delimiter", w1(delimiter="\t"),
         Fails(r"survey/w1_2022/responses\.csv: no comma or semicolon delimiter in the header line")),
    Case("w1 pipe delimiter", w1(delimiter="|"),
         Fails(r"survey/w1_2022/responses\.csv: no comma or semicolon delimiter in the header line")),
    Case("w1 UTF-16", w1(encoding="utf-16"),
         Fails(r"survey/w1_2022/responses\.csv: UTF-16 text \(byte-order mark\); expected UTF-8 or Windows-1252")),
    Case("w1 UTF-16 without byte-order mark", w1(encoding="utf-16-le"),
         Fails(r"survey/w1_2022/responses\.csv: binary data \(NUL bytes\), not a text CSV file")),
    Case("w1 duplicate column", w1([dict(w1_row(n), **{"kjonn ": "1"}) for n in range(1, 4)]),
         Fails(r"survey/w1_2022/responses\.csv: repeated column name in the header at positions \[5, 19\]")),
    Case("w1 unclosed quote", w1_bytes(lambda data: data.replace(b"Kharkiv oblast", b'"Kharkiv oblast', 1)),
         Fails(r"survey/w1_2022/responses\.csv: malformed CSV: the quote opened in data row 1 \(line 2\) is never "
               r"closed", hidden=("Kharkiv",))),
    Case("w1 missing column", w1([{k: v for k, v in w1_row(n).items() if k != "fullfort"} for n in range(1, 4)]),
         Fails(r"survey/w1_2022/responses\.csv: unknown layout: .*; closest: layout w1_csv, missing required variables \['fullfort'\]")),
    Case("w2 truncated XLSX", truncated_xlsx,
         Fails(r"survey/w2_2023/responses\.xlsx: not a readable XLSX workbook \(BadZipFile\)", hidden=(SECRET,))),
    Case("w2 XLSX with a cover sheet first", w2_cover_sheet_first,
         Fails(r"survey/w2_2023/responses\.xlsx: no data rows: .*; read sheet 1 of 2 \(no sheet named Data\)$")),
    Case("w2 XLSX without data rows", xlsx_without_rows, Fails(r"survey/w2_2023/responses\.xlsx: no data rows")),
    Case("w3 SAV missing a variable", w3_missing_variable,
         Fails(r"survey/w3_2024/responses\.sav: unknown layout: .*; closest: layout w3_sav, missing required variables \['finished'\]")),
    Case("w3 SAV without rows", w3([]), Fails(r"survey/w3_2024/responses\.sav: no data rows")),
    Case("wave folder without a response file", invitations_only,
         Fails(r"survey/w2_2023: the required response file is missing")),
    Case("two response files in a wave", then(w1(), write("survey/w1_2022/responses.xlsx", b"PK")),
         Fails(r"survey/w1_2022: expected exactly one responses\.csv\|xlsx\|sav, found 2")),
    Case("unexpected file in a wave folder", then(w1(), write("survey/w1_2022/notes.docx", SECRET.encode())),
         Fails(r"survey/w1_2022/notes\.docx: ", hidden=(SECRET,))),
    Case("UDI unknown month label", udi(change=udi_decisions([["Ukraina", "Jan", "1 500", "3", "-"],
                                                             ["Ukraina", "Maj", "1 400", "", "2"]])),
         Loads("udi/2024-02-05/vedtak_2024.csv", (2, 1, 1), ((2, "maaned", "unknown code", "row_quarantined"),))),
    Case("UDI extra column", udi(change=udi_decisions([["Ukraina", "Jan", "1", "2", "3", "4"]],
                                                      DECISIONS_HEADER + ["Kommentar"])),
         Fails(r"udi/2024-02-05/vedtak_2024\.csv: header does not match udi_decisions: missing columns \[\], "
               r"unexpected columns at positions \[6\]", hidden=("Kommentar",))),
    Case("UDI missing column", udi(change=udi_decisions([["Ukraina", "Jan", "1", "2"]], DECISIONS_HEADER[:4])),
         Fails(r"udi/2024-02-05/vedtak_2024\.csv: header does not match udi_decisions: missing columns \['henlagt'\]")),
    Case("UDI 0-byte table", udi(change=lambda folder: (folder / "vedtak_2024.csv").write_bytes(b"")),
         Fails(r"udi/2024-02-05/vedtak_2024\.csv: empty file")),
    Case("UDI unexpected file", udi(change=lambda folder: (folder / "oversikt.xlsx").write_bytes(b"PK")),
         Fails(r"udi/2024-02-05/oversikt\.xlsx: unexpected file in a UDI folder")),
    Case("snapshot dated in the future", folder_only("udi/2026-02-05"),
         Skipped(r"udi/2026-02-05: snapshot dated after today \(2026-01-15\); not ingested", ("w1_2022", "2024-02-05"))),
    Case("snapshot folder not a date", folder_only("udi/2024-02-30"),
         Skipped(r"udi/2024-02-30: not a snapshot folder name", ("w1_2022", "2024-02-05"))),
    Case("folder wave4", folder_only("survey/wave4"),
         Skipped(r"survey/wave4: not a wave folder name \(expected w<N>_<YYYY>", ("w1_2022", "2024-02-05"))),
    Case("wave folder with a bad name", folder_only("survey/w4-2025"),
         Skipped(r"survey/w4-2025: not a wave folder name", ("w1_2022", "2024-02-05"))),
    # ---- file level: the file loads, with a warning or nothing lost -------------------------------------
    Case("0-byte optional invitations file", then(w2(), write(W2_INVITATIONS, b"")),
         Loads(W2_INVITATIONS, (0, 0, 0), warning=r"survey/w2_2023/invitations\.csv: empty optional file")),
    Case("header-only optional invitations file", then(w2(), write(W2_INVITATIONS, b"token,email,invited_at,source_wave\n")),
         Loads(W2_INVITATIONS, (0, 0, 0))),
    Case("Excel lock file ~$responses.xlsx", then(w2(), write("survey/w2_2023/~$responses.xlsx", b"\x00lock")),
         Loads(W2, (10, 10, 0), warning=r"survey/w2_2023/~\$responses\.xlsx: office lock file ignored")),
    Case("CRLF line ends", w1(), Loads(W1, (20, 20, 0), check=cell_is("w1_2022", 20, "samtykke", "1"))),
    Case("LF line ends", w1_bytes(lambda data: data.replace(b"\r\n", b"\n")),
         Loads(W1, (20, 20, 0), check=cell_is("w1_2022", 20, "samtykke", "1"))),
    Case("stray Windows-1252 byte in a UTF-8 file",
         w1_bytes(lambda data: data.replace("Bærum".encode(), "B\u00e6rum".encode("cp1252"), 1)
),
         Loads(W1, (20, 20, 0), warning=r"survey/w1_2022/responses\.csv: 1 byte\(s\) not valid UTF-8, read as "
                                        r"Windows-1252 \(line 2 byte \d+\)",
               check=cell_is("w1_2022", 1, "kommune", "Bærum"))),
    Case("Windows-1252 file", w1(encoding="cp1252", delimiter=";"),
         Loads(W1, (20, 20, 0), check=cell_is("w1_2022", 1, "kommune", "Bærum"))),
    Case("ragged row: too many fields", w1_bytes(lambda data: data.replace(b"\r\n3,", f",{SECRET}\r\n3,".encode(), 1)),
         Loads(W1, (20, 19, 1), ((2, None, "wrong number of fields", "row_quarantined"),))),
    Case("ragged row: too few fields", w1_bytes(lambda data: data.replace(b",1\r\n3,", b"\r\n3,", 1)),
         Loads(W1, (20, 19, 1), ((2, None, "wrong number of fields", "row_quarantined"),))),
    Case("interior blank line", w1_bytes(lambda data: data.replace(b"\r\n3,", b"\r\n\r\n3,", 1)),
         Loads(W1, (21, 20, 1), tuple((3, column, "missing required value", "row_quarantined")
                                     for column in ("fullfort", "innsendt", "svar_id")))),
    # ---- row level ---------------------------------------------------------------------------------------
    Case("birth year out of range", w1(w1_rows(r4={"fodselsar": "1899"})),
         Loads(W1, (20, 20, 0), ((4, "fodselsar", "out of range", "cell_set_missing"),))),
    Case("99 children", w1(w1_rows(r5={"barn_norge": "99"})),
         Loads(W1, (20, 20, 0), ((5, "barn_norge", "out of range", "cell_set_missing"),))),
    Case("unknown code", w1(w1_rows(r6={"kjonn": "7"})),
         Loads(W1, (20, 20, 0), ((6, "kjonn", "unknown code", "cell_set_missing"),))),
    Case("unknown text label", w2(w2_rows(r3={"Gender": "Femme"})),
         Loads(W2, (10, 10, 0), ((3, "Gender", "unknown code", "cell_set_missing"),))),
    Case("unknown SPSS code", w3(w3_rows(r2={"sex": 5.0})),
         Loads(W3, (10, 10, 0), ((2, "sex", "unknown code", "cell_set_missing"),))),
    Case("unknown completion flag keeps the row out", w1(w1_rows(r7={"fullfort": "2"})),
         Loads(W1, (20, 19, 1), ((7, "fullfort", "unknown code", "row_quarantined"),))),
    Case("unparseable submission time", w1(w1_rows(r8={"innsendt": "32.06.2022 12:00"})),
         Loads(W1, (20, 19, 1), ((8, "innsendt", "unreadable date-time", "row_quarantined"),))),
    Case("unparseable arrival month", w1(w1_rows(r9={"ankomst": "april"})),
         Loads(W1, (20, 20, 0), ((9, "ankomst", "wrong format", "cell_set_missing"),))),
    Case("unparseable MM/YYYY month", w2(w2_rows(r4={"ArrivalMonth": "13/2022"})),
         Loads(W2, (10, 10, 0), ((4, "ArrivalMonth", "wrong format", "cell_set_missing"),))),
    Case("submission before the field period", w1(w1_rows(r10={"innsendt": "2022-05-20 09:00:00"})),
         Loads(W1, (20, 19, 1), ((10, "innsendt", "test submission before the field start", "row_quarantined"),))),
    Case("duplicate response id", w1(w1_rows(r12={"svar_id": "11"})),
         Loads(W1, (20, 19, 1), ((12, "svar_id", "repeated value", "row_quarantined"),))),
    Case("test submission sharing an id with a real response",
         w2([w2_row(3, EndDate=datetime(2023, 4, 20, 9, 0))] + [w2_row(n) for n in range(1, 11)]),
         Loads(W2, (11, 10, 1), ((1, "EndDate", "test submission before the field start", "row_quarantined"),),
               check=lambda con: _assert_row_count(con, "raw.survey_responses",
                                                   f"response_id = 'R_{3:015d}' AND row_number = 4", 1))),
    Case("leaver with aspiration answers", w2(w2_rows(r5={"CurrentCountry": 2, "Municipality": None,
                                                          "LeftMonth": "09/2022", "Reason_3": 1, "FuturePlans": 3})),
         Loads(W2, (10, 10, 0), ((5, "FuturePlans", "not asked", "cell_set_missing"),))),
    Case("SPSS leaver with aspiration answers", w3(w3_rows(r3={"plans": 1.0})),
         Loads(W3, (10, 10, 0), ((3, "plans", "not asked", "cell_set_missing"),))),
    Case("token not in the invitation file", w2(w2_rows(r6={"Token": "TOKENZZZZZZZ"}, r8={"Token": "TOKEN0000099"})),
         Loads(W2, (10, 10, 0), warning=r"survey/w2_2023/responses\.xlsx: 2 response\(s\) carry a token that matches "
                                        r"no row of invitations\.csv \(rows 6, 8\)")),
    Case("bad invitation token", w2(invitations=[invitation(n) for n in range(1, 12)] + [invitation(12, token="short")]),
         Loads(W2_INVITATIONS, (12, 11, 1), ((12, "token", "", "row_quarantined"),))),
    Case("e-mail field holding junk", w1(w1_rows(r3={"epost": "ingen"})),
         Loads(W1, (20, 20, 0), ((3, "epost", "not one e-mail address", "cell_set_missing"),),
               check=email_hash_is_null("w1_2022", 3))),
    Case("e-mail field holding two addresses", w1(w1_rows(r4={"epost": f"{SECRET}; {ADDRESSES[1]}"})),
         Loads(W1, (20, 20, 0), ((4, "epost", "not one e-mail address", "cell_set_missing"),),
               check=email_hash_is_null("w1_2022", 4))),
    Case("address-like text in free text", w1(w1_rows(r2={"kommune": f"skriv til {SECRET}"})),
         Loads(W1, (20, 20, 0), ((2, "kommune", "unknown municipality name", "cell_set_missing"),))),
    Case("leaving month before the arrival month", w2(w2_rows(r7={"CurrentCountry": 3, "Municipality": None,
                                                                 "FuturePlans": None, "ArrivalMonth": "06/2022",
                                                                 "LeftMonth": "04/2022", "Reason_12": 1})),
         Loads(W2, (10, 10, 0), ((7, "LeftMonth", "impossible date", "cell_set_missing"),))),
    Case("ambiguous municipality name", w1(w1_rows(r11={"kommune": "Herøy"})),
         Loads(W1, (20, 20, 0), ((11, "kommune", "ambiguous municipality name", "cell_set_missing"),))),
    Case("unknown municipality name", w1(w1_rows(r13={"kommune": "Gotham"})),
         Loads(W1, (20, 20, 0), ((13, "kommune", "unknown municipality name", "cell_set_missing"),))),
    Case("unknown municipality code", w3(w3_rows(r4={"country_now": 1.0, "left": None, "r_home": 0.0,
                                                     "kommunenr": "9999", "plans": 3.0})),
         Loads(W3, (10, 10, 0), ((4, "kommunenr", "unknown code", "cell_set_missing"),))),
    Case("UDI malformed number", udi(change=udi_decisions([["Ukraina", "Jan", "1,5", "3", "-"]])),
         Loads("udi/2024-02-05/vedtak_2024.csv", (1, 0, 1), ((1, "innvilget", "", "row_quarantined"),))),
]


def run_case(case: Case, raw: Path, con) -> tuple[list, list[str]]:
    """Build the case and ingest it: (results, discovery warnings)."""
    partition = case.build(raw)
    if partition == "discover":
        warnings: list[str] = []
        found = find_survey_waves(raw, warnings) + find_udi_snapshots(raw, warnings, today=TODAY)
        return found, warnings
    if partition.startswith("udi:"):
        return ingest_udi_snapshot(con, raw, partition[4:]), []
    return ingest_survey_wave(con, raw, partition, HMAC_KEY), []


def assert_row_accounting_adds_up(con) -> None:
    """Every file: rows_in = rows_loaded + rows_quarantined, and the quarantined rows are the audited ones."""
    accounting = con.execute("SELECT source_file, rows_in, rows_loaded, rows_quarantined FROM audit.row_accounting"
                             ).fetchall()
    assert accounting, "no file accounted for"
    for source_file, rows_in, loaded, quarantined in accounting:
        assert rows_in == loaded + quarantined, source_file
        (audited,) = con.execute("SELECT count(DISTINCT row_number) FROM audit.quarantine WHERE source_file = ? "
                                 "AND action = 'row_quarantined'", [source_file]).fetchone()
        assert audited == quarantined, source_file


def stored_text(con) -> str:
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    return json.dumps([con.execute(f'SELECT * FROM "{s}"."{t}"').df().astype(str).values.tolist() for s, t in tables])


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def test_the_corpus_has_at_least_forty_cases_with_distinct_names():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_case(case: Case, tmp_path: Path, con):
    raw = tmp_path / "raw"
    outcome = case.outcome
    if isinstance(outcome, Fails):
        with pytest.raises(UnreadableFileError) as error:
            run_case(case, raw, con)
        message = str(error.value)
        assert re.match(outcome.message, message), message
        assert not any(text in message for text in outcome.hidden + (SECRET, *ADDRESSES)), message
        return
    results, warnings = run_case(case, raw, con)
    if isinstance(outcome, Skipped):
        assert tuple(results) == outcome.found
        assert any(re.match(outcome.warning, w) for w in warnings), warnings
        return
    (result,) = [r for r in results if r.source_file == outcome.file]
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == outcome.rows
    audit = con.execute("SELECT row_number, column_name, reason, action FROM audit.quarantine WHERE source_file = ? "
                        "ORDER BY row_number, column_name", [outcome.file]).fetchall()
    assert [(row, column, action) for row, column, _, action in audit] == [(r, c, a) for r, c, _, a in outcome.audit]
    for (_, _, reason, _), (_, _, expected, _) in zip(audit, outcome.audit):
        assert reason.startswith(expected), reason
    if outcome.warning:
        assert any(re.match(outcome.warning, w) for w in result.warnings), result.warnings
    if outcome.check:
        outcome.check(con)
    assert_row_accounting_adds_up(con)
    stored = stored_text(con)
    assert not any(address in stored for address in (SECRET, *[a.strip() for a in ADDRESSES]))
