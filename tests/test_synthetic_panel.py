"""The synthetic generator writes exactly what the providers deliver and reproduces the published figures.

Files are read back the way a provider's consumer would (csv/pandas, openpyxl, pyreadstat); `_truth/` only
tells which person wrote which row, so the responses of record can be found as the warehouse will find them.
Rows are kept out only for structural faults (repeated id, submitted before the field period); an invalid
optional cell costs only that cell, and every such cell is listed in `_truth/defects.csv`.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from synthetic_panel import generate

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "dbt_project" / "seeds" / "reference"
FIELD_START = {"w1_2022": dt.datetime(2022, 6, 1), "w2_2023": dt.datetime(2023, 5, 2), "w3_2024": dt.datetime(2024, 9, 16)}
TABLE1 = {1: 8, 2: 7, 3: 7, 4: 6, 5: 5, 6: 5, 7: 5, 8: 3, 9: 3, 10: 3, 11: 3, 12: 2, 13: 1, 14: 1}
RETURNED_ONLY, ONWARD_ONLY = {1, 2, 5, 10}, {12, 13, 14}
W1_HEADER = ["svar_id", "innsendt", "sprak", "fullfort", "kjonn", "fodselsar", "oblast", "ankomst", "kommune",
             "barn_norge", "barn_ukraina", "partner", "nettverk", "krigens_varighet", "retur", "arbeid", "epost",
             "samtykke"]
W2_HEADER = ["RespondentID", "EndDate", "Finished", "Token", "Language", "Gender", "BirthYear", "Region",
             "ArrivalMonth", "CurrentCountry", "Municipality", "LeftMonth", "FuturePlans",
             *[f"Reason_{i}" for i in range(1, 15)], "ChildrenInNorway", "PartnerLocation", "Working", "Email",
             "FollowUpConsent"]
W3_REASONS = ["r_home", "r_longing", "r_family", "r_competence", "r_safer", "r_education", "r_nowork", "r_support",
              "r_expectations", "r_temporary", "r_other", "r_language", "r_opportunities", "r_neverplanned"]
W3_HEADER = ["id", "enddate", "finished", "token", "lang", "sex", "byear", "oblast", "arrival", "country_now",
             "kommunenr", "left", "plans", *W3_REASONS, "kids_no", "partner_loc", "employed", "email", "consent"]

# Allowed values per layout (what the ingest's codebook accepts); anything else is quarantined.
CODES = {
    "w1_2022": {"sprak": {"uk", "ru", "en", "nb"}, "fullfort": {"0", "1"}, "kjonn": {"1", "2", "3"},
                "barn_ukraina": {"0", "1"}, "partner": {"1", "2", "3", "4"}, "nettverk": {"0", "1"},
                "krigens_varighet": {"1", "2", "3", "4", "9"}, "retur": {"1", "2", "3"}, "arbeid": {"0", "1"},
                "samtykke": {"0", "1"}},
    "w2_2023": {"Finished": {"TRUE", "FALSE"}, "Language": {"Ukrainian", "Russian", "English", "Norwegian"},
                "Gender": {"Female", "Male", "Other / prefer not to say"}, "CurrentCountry": {"1", "2", "3"},
                "FuturePlans": {"1", "2", "3", "4", "5"}, "PartnerLocation": {"1", "2", "3", "4"},
                "Working": {"0", "1"}, "FollowUpConsent": {"0", "1"}, **{f"Reason_{i}": {"1"} for i in range(1, 15)}},
    "w3_2024": {"finished": {"0", "1"}, "lang": {"1", "2", "3", "4"}, "sex": {"1", "2", "3"},
                "country_now": {"1", "2", "3"}, "plans": {"1", "2", "3", "4", "5"}, "partner_loc": {"1", "2", "3", "4"},
                "employed": {"0", "1"}, "consent": {"0", "1"}, **{name: {"0", "1"} for name in W3_REASONS}},
}
RANGES = {
    "w1_2022": {"fodselsar": (1920, 2006), "barn_norge": (0, 9)},
    "w2_2023": {"BirthYear": (1920, 2007), "ChildrenInNorway": (0, 9)},
    "w3_2024": {"byear": (1920, 2008), "kids_no": (0, 9)},
}
# Canonical names of the columns the calibration needs, per layout.
CANONICAL = {
    "w1_2022": {"id": "svar_id", "submitted": "innsendt", "complete": "fullfort", "aspiration": "retur", "gender": "kjonn"},
    "w2_2023": {"id": "RespondentID", "submitted": "EndDate", "complete": "Finished", "aspiration": "FuturePlans",
                "gender": "Gender", "country": "CurrentCountry"},
    "w3_2024": {"id": "id", "submitted": "enddate", "complete": "finished", "aspiration": "plans", "gender": "sex",
                "country": "country_now"},
}
COMPLETE = {"w1_2022": "1", "w2_2023": "TRUE", "w3_2024": "1"}


# ---- reading the delivery like a consumer ---------------------------------------------------------------------
def as_text(value) -> str:
    """Cell values as the warehouse stores them: integers without .0, booleans TRUE/FALSE, blank as ''."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def read_w1(raw: Path, encoding: str = "utf-8-sig", delimiter: str = ";") -> pd.DataFrame:
    text = (raw / "survey/w1_2022/responses.csv").read_bytes().decode(encoding)
    return pd.DataFrame(list(csv.DictReader(io.StringIO(text), delimiter=delimiter)), dtype=str)


def read_w2(raw: Path) -> pd.DataFrame:
    sheet = openpyxl.load_workbook(raw / "survey/w2_2023/responses.xlsx")["Data"]
    rows = list(sheet.iter_rows(values_only=True))
    return pd.DataFrame([[as_text(v) for v in row] for row in rows[1:]], columns=list(rows[0]), dtype=str)


def read_w3(raw: Path, wave_id: str = "w3_2024") -> pd.DataFrame:
    frame, _ = pyreadstat.read_sav(str(raw / f"survey/{wave_id}/responses.sav"))
    return frame.apply(lambda column: column.map(as_text)).astype(str)


READERS = {"w1_2022": read_w1, "w2_2023": read_w2, "w3_2024": read_w3}


def read_truth(raw: Path) -> pd.DataFrame:
    return pd.read_csv(raw / "_truth/responses.csv", dtype=str, keep_default_na=False)


def validity(wave_id: str, frame: pd.DataFrame) -> pd.Series:
    """The ingest's row rules (structure only): id present and unique (first wins), submitted in the field period."""
    names = CANONICAL[wave_id]
    ok = ~frame[names["id"]].duplicated(keep="first") & (frame[names["id"]] != "")
    submitted = pd.to_datetime(frame[names["submitted"]], errors="coerce")
    return ok & submitted.notna() & (submitted >= FIELD_START[wave_id])


def invalid_cells(wave_id: str, frame: pd.DataFrame) -> set[tuple[int, str]]:
    """(row position, column) of every optional cell outside its code list or range."""
    bad = set()
    for column, allowed in CODES[wave_id].items():
        bad |= {(i, column) for i in np.flatnonzero(~frame[column].isin(allowed | {""}))}
    for column, (low, high) in RANGES[wave_id].items():
        numbers = pd.to_numeric(frame[column].replace("", np.nan))
        bad |= {(i, column) for i in np.flatnonzero(~(numbers.isna() | numbers.between(low, high)))}
    return bad


def read_defects(raw: Path) -> pd.DataFrame:
    return pd.read_csv(raw / "_truth/defects.csv", dtype=str, keep_default_na=False)


def without_defects(raw: Path, wave_id: str, frame: pd.DataFrame, column: str) -> pd.Series:
    """The column's non-blank cells, less those listed in `_truth/defects.csv`."""
    defects = read_defects(raw)
    rows = defects.row_number[(defects.wave_id == wave_id) & (defects.column == column)].astype(int) - 1
    values = frame[column].drop(index=frame.index[rows.tolist()])
    return values[values != ""]


NAMES = pd.read_csv(REFERENCE / "ref_municipality_names.csv", dtype=str, keep_default_na=False).set_index("name_key")


def municipality_code(typed: str) -> str | None:
    """The 2024 code a typed name resolves to (lower case, spaces removed), None if unknown or ambiguous."""
    key = re.sub(r"\s+", "", typed).lower()
    return NAMES.kommune_code_2024.get(key) or None


def records_of(raw: Path, wave_id: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each person's latest complete valid submission in the wave, with the person from `_truth`."""
    frame = READERS[wave_id](raw) if frame is None else frame
    truth = read_truth(raw)
    truth = truth[truth.wave_id == wave_id].reset_index(drop=True)
    names = CANONICAL[wave_id]
    assert list(truth.response_id) == list(frame[names["id"]]), "truth rows follow the file rows"
    frame = frame.assign(person_id=truth.person_id.values, _submitted=pd.to_datetime(frame[names["submitted"]]))
    valid = frame[validity(wave_id, frame) & (frame[names["complete"]] == COMPLETE[wave_id]) & (frame.person_id != "")]
    return valid.sort_values("_submitted").groupby("person_id").tail(1)


def in_norway_base(wave_id: str, records: pd.DataFrame) -> pd.DataFrame:
    names = CANONICAL[wave_id]
    if "country" in names:
        records = records[records[names["country"]] == "1"]
    return records[records[names["aspiration"]] != ""]


# ---- fixtures ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def default_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_default") / "raw"
    summary = generate(out, scale=1.0, seed=20220601, mess=1.0)
    return out, summary


@pytest.fixture(scope="session")
def raw(default_set) -> Path:
    return default_set[0]


@pytest.fixture(scope="session")
def clean_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_clean") / "raw"
    generate(out, scale=1.0, seed=20220601, mess=0.0)
    return out


@pytest.fixture(scope="session")
def messy_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_messy") / "raw"
    generate(out, scale=1.0, seed=20220601, mess=2.0)
    return out


# ---- formats ---------------------------------------------------------------------------------------------------
def test_w1_csv_is_utf8_with_bom_semicolons_and_the_contract_columns(raw):
    data = (raw / "survey/w1_2022/responses.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].split(";") == W1_HEADER
    frame = read_w1(raw)
    assert frame.svar_id.str.fullmatch(r"\d+").all()
    assert frame.innsendt.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert without_defects(raw, "w1_2022", frame, "ankomst").str.fullmatch(r"2022-0[2-7]").all()
    oblasts = pd.read_csv(REFERENCE / "ref_oblasts.csv", dtype=str)
    labels = {" ".join(v.split()).lower(): lang for lang in ("en", "uk", "ru") for v in oblasts[f"name_{lang}"]}
    given = frame[frame.oblast != ""]
    languages = given.oblast.map(lambda v: labels.get(" ".join(v.split()).lower()))
    assert languages.notna().all(), "every oblast label is a reference label up to case and spacing"
    assert (languages[given.sprak == "uk"] == "uk").all() and (languages[given.sprak == "ru"] == "ru").all()
    typed = without_defects(raw, "w1_2022", frame, "kommune")
    assert typed.map(municipality_code).notna().all(), "every name typed without a defect names one municipality"
    assert typed.map(lambda v: v != v.strip() or v.islower() or v.isupper()).any(), "case and spacing vary"
    short = set(pd.read_csv(REFERENCE / "ref_municipalities.csv", dtype=str).name_short)
    assert typed.isin(short).any() and (~typed.isin(short)).any(), "short names and SSB's names"


def test_every_reference_oblast_and_municipality_can_be_drawn():
    from synthetic_panel.people import KOMMUNE_WEIGHTS, OBLAST_WEIGHTS, kommune_weights

    assert set(OBLAST_WEIGHTS) == set(pd.read_csv(REFERENCE / "ref_oblasts.csv").iso_code)
    sample = pd.read_csv(ROOT / "synthetic_panel/data/synthetic_sample_municipalities.csv", dtype=str)
    assert set(KOMMUNE_WEIGHTS) == set(sample.kommune_name)
    everywhere = pd.read_csv(REFERENCE / "ref_municipalities.csv", dtype=str, keep_default_na=False)
    assert set(kommune_weights("all")) == set(everywhere.kommune_code_2024[everywhere.kommune_code_2020 != ""])
    assert set(kommune_weights("sample")) == set(sample.kommune_code_2024)


def test_w1_can_be_saved_as_windows_1252_with_commas(tmp_path):
    out = tmp_path / "raw"
    generate(out, scale=0.3, seed=7, mess=1.0, w1_encoding="cp1252", w1_delimiter=",")
    data = (out / "survey/w1_2022/responses.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"B\xe6rum" in data, "Bærum arrives as the byte 0xE6"
    frame = read_w1(out, encoding="cp1252", delimiter=",")
    assert list(frame.columns) == W1_HEADER
    english = {v.lower() for v in pd.read_csv(REFERENCE / "ref_oblasts.csv").name_en}
    assert frame.oblast[frame.oblast != ""].map(lambda v: " ".join(v.split()).lower() in english).all()


def test_w2_xlsx_has_a_data_sheet_with_typed_cells(raw):
    workbook = openpyxl.load_workbook(raw / "survey/w2_2023/responses.xlsx")
    assert workbook.sheetnames == ["Data"]
    rows = list(workbook["Data"].iter_rows(values_only=True))
    assert list(rows[0]) == W2_HEADER
    body = [dict(zip(W2_HEADER, row)) for row in rows[1:]]
    assert all(isinstance(r["EndDate"], dt.datetime) for r in body)
    assert workbook["Data"]["B2"].is_date
    assert {type(r["Finished"]) for r in body} == {bool} and {r["Finished"] for r in body} == {True, False}
    assert all(re.fullmatch(r"R_[A-Za-z0-9]{15}", r["RespondentID"]) for r in body)
    tokens = [r["Token"] for r in body if r["Token"] is not None]
    assert tokens and all(re.fullmatch(r"[A-Za-z0-9]{12}", t) for t in tokens)
    assert any(r["Token"] is None for r in body), "open-link respondents have no token"
    for column in ("ArrivalMonth", "LeftMonth"):
        values = [r[column] for r in body if r[column] is not None]
        assert values and all(isinstance(v, str) and re.fullmatch(r"\d\d/20\d\d", v) for v in values)
    regions = set(pd.read_csv(REFERENCE / "ref_oblasts.csv").name_en)
    assert {r["Region"] for r in body if r["Region"]} <= regions
    assert not any(r["Email"] for r in body if r["Token"]), "token respondents are not asked for an address"


def test_w3_sav_has_value_labels_spss_dates_and_2024_municipality_codes(raw):
    frame, meta = pyreadstat.read_sav(str(raw / "survey/w3_2024/responses.sav"))
    assert list(frame.columns) == W3_HEADER
    labels = meta.variable_value_labels
    assert labels["sex"] == {1: "male", 2: "female", 3: "other / prefer not to say"}
    assert labels["lang"] == {1: "Ukrainian", 2: "Russian", 3: "English", 4: "Norwegian"}
    assert labels["oblast"][99] == "prefer not to say" and labels["oblast"][63] == "Kharkiv oblast"
    assert set(labels["plans"]) == {1, 2, 3, 4, 5} and set(labels["country_now"]) == {1, 2, 3}
    assert meta.original_variable_types["enddate"].startswith("DATETIME")
    assert meta.original_variable_types["arrival"].startswith("DATE")
    assert meta.original_variable_types["kommunenr"].startswith("A")
    assert meta.original_variable_types["token"].startswith("A")
    assert pd.api.types.is_datetime64_any_dtype(frame.enddate)
    arrivals = frame.arrival.dropna()
    assert len(arrivals) and all(isinstance(d, dt.date) and d.day == 1 for d in arrivals)
    assert all(d.day == 1 for d in frame.left.dropna()) and frame.left.notna().any()
    codes_2024 = set(pd.read_csv(REFERENCE / "ref_municipalities.csv", dtype=str).kommune_code_2024)
    given = without_defects(raw, "w3_2024", frame, "kommunenr")
    assert given.str.fullmatch(r"\d{4}").all() and set(given) <= codes_2024
    assert set(frame.kommunenr) - codes_2024 == {"", "9999"}, "an unknown code, listed as a defect"
    assert (frame.oblast == 99).any(), "some prefer not to say where they come from"
    assert frame.token[frame.token != ""].str.len().eq(12).all()


def test_invitations_list_every_consenting_address_as_typed(raw):
    w1 = read_w1(raw)
    w1_records = records_of(raw, "w1_2022", w1)
    w2_invitations = pd.read_csv(raw / "survey/w2_2023/invitations.csv", dtype=str, keep_default_na=False)
    assert list(w2_invitations.columns) == ["token", "email", "invited_at", "source_wave"]
    consenting = w1_records[(w1_records.epost != "") & (w1_records.samtykke == "1")]
    assert Counter(w2_invitations.email) == Counter(consenting.epost)
    assert set(w2_invitations.source_wave) == {"w1_2022"}
    assert (pd.to_datetime(w2_invitations.invited_at) >= FIELD_START["w2_2023"]).all()
    w2 = read_w2(raw)
    used = set(w2.Token) - {""}
    assert used <= set(w2_invitations.token)
    assert len(used) < 0.7 * len(w2_invitations), "many tokens are never used"
    sent = dict(zip(w2_invitations.token, pd.to_datetime(w2_invitations.invited_at)))
    answered = w2[w2.Token != ""]
    assert (pd.to_datetime(answered.EndDate) > answered.Token.map(sent)).all(), "nobody answers before the invitation"
    w3_invitations = pd.read_csv(raw / "survey/w3_2024/invitations.csv", dtype=str, keep_default_na=False)
    assert set(w3_invitations.source_wave) == {"w1_2022", "w2_2023"}
    assert w3_invitations.token.is_unique and w3_invitations.token.str.fullmatch(r"[A-Za-z0-9]{12}").all()
    w2_typed = set(w2.Email) - {""}
    from_w2 = w3_invitations[w3_invitations.source_wave == "w2_2023"]
    assert set(from_w2.email) <= w2_typed
    assert set(w3_invitations[w3_invitations.source_wave == "w1_2022"].email) <= set(w1.epost)


def test_a_panel_member_can_skip_w2_and_come_back_in_w3_by_token(raw):
    truth = read_truth(raw)
    persons = {w: set(truth.person_id[truth.wave_id == w]) - {""} for w in ("w1_2022", "w2_2023", "w3_2024")}
    w3 = read_w3(raw).assign(person_id=truth.person_id[truth.wave_id == "w3_2024"].values)
    by_token = set(w3.person_id[w3.token != ""])
    assert len((persons["w1_2022"] - persons["w2_2023"]) & by_token) >= 5


def test_udi_folders_files_and_headers(raw):
    folders = sorted(p.name for p in (raw / "udi").iterdir())
    assert folders[0] == "2022-04-05" and folders[-1] == "2025-10-05" and len(folders) == 43
    assert all(name.endswith("-05") for name in folders)
    for name in folders:
        year = int(name[:4])
        expected = {f"soknader_{year}.csv", f"vedtak_{year}.csv", f"gyldige_{name}.csv"}
        if name[5:7] == "01":
            expected |= {f"soknader_{year - 1}.csv", f"vedtak_{year - 1}.csv"}
        assert {p.name for p in (raw / "udi" / name).iterdir()} == expected, name
    first = (raw / "udi/2022-04-05/soknader_2022.csv").read_text(encoding="utf-8").splitlines()
    assert first[0] == "Statsborgerskap;Jan;Feb;Mar;Apr;Mai;Jun;Jul;Aug;Sep;Okt;Nov;Des;Total"
    rows = {line.split(";")[0]: line.split(";") for line in first[1:]}
    assert {"Ukraina", "Russland", "Statsløs", "Totalt"} <= set(rows)
    assert rows["Ukraina"][4:13] == [""] * 9, "months not yet published are empty"
    vedtak = (raw / "udi/2023-07-05/vedtak_2023.csv").read_text(encoding="utf-8").splitlines()
    assert vedtak[0] == "Statsborgerskap;Måned;Innvilget;Avslag;Henlagt"
    assert {line.split(";")[1] for line in vedtak[1:]} == {"Jan", "Feb", "Mar", "Apr", "Mai", "Jun"}
    assert (raw / "udi/2023-01-05/vedtak_2023.csv").read_text(encoding="utf-8").splitlines() == [vedtak[0]]


def test_udi_numbers_use_space_or_no_break_space_and_dashes(raw):
    old = (raw / "udi/2023-06-05/soknader_2023.csv").read_text(encoding="utf-8")
    new = (raw / "udi/2024-06-05/soknader_2024.csv").read_text(encoding="utf-8")
    assert re.search(r";\d{1,3} \d{3}[;\n]", old)
    assert re.search(r";\d{1,3}\u00a0\d{3}[;\n]", new)
    assert ";-;" in old or ";-\n" in old
    stock = (raw / "udi/2022-04-05/gyldige_2022-04-05.csv").read_text(encoding="utf-8")
    assert re.search(r";-$", stock, re.M), "small county/sex/age cells are suppressed"


def test_udi_counties_follow_the_geography_of_the_snapshot_date(raw):
    counties = pd.read_csv(REFERENCE / "ref_counties.csv", dtype=str, keep_default_na=False)
    before = set(counties.fylke_name[counties.valid_to != ""]) | set(counties.fylke_name[(counties.valid_from < "2024")])
    for name, n_counties in (("2023-12-05", 11), ("2024-01-05", 15), ("2025-08-05", 15)):
        stock = pd.read_csv(raw / f"udi/{name}/gyldige_{name}.csv", sep=";", dtype=str)
        assert list(stock.columns) == ["Fylke", "Kjønn", "Aldersgruppe", "Antall"]
        assert stock.Fylke.nunique() == n_counties
        valid = counties[(counties.valid_from <= name) & ((counties.valid_to == "") | (counties.valid_to >= name))]
        assert set(stock.Fylke) == set(valid.fylke_name)
        assert set(stock["Kjønn"]) == {"Kvinner", "Menn"}
        assert list(dict.fromkeys(stock.Aldersgruppe)) == ["0-5", "6-10", "11-17", "18-34", "35-49", "50-66", "67+"]
    assert "Viken" in before


def udi_number(text: str) -> float:
    text = text.replace("\u00a0", "").replace(" ", "")
    return np.nan if text in ("", "-") else float(text)


def latest_granted(raw: Path) -> dict[tuple[int, str], float]:
    """Innvilget for Ukrainians per month from the latest snapshot that shows the month."""
    latest = {}
    for folder in sorted((raw / "udi").iterdir()):
        for path in sorted(folder.glob("vedtak_*.csv")):
            year = int(path.stem[-4:])
            frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
            for row in frame[frame.Statsborgerskap == "Ukraina"].itertuples():
                latest[(year, row.Måned)] = udi_number(row.Innvilget)
    return latest


MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Des"]


def test_udi_figures_match_the_published_totals(raw):
    final_2024 = pd.read_csv(raw / "udi/2025-01-05/soknader_2024.csv", sep=";", dtype=str).set_index("Statsborgerskap")
    assert [udi_number(final_2024.loc["Ukraina", m]) for m in MONTHS[:9]] == [
        1639, 1361, 1383, 1255, 1248, 1538, 1443, 1908, 2099]
    for folder, year, total in (("2023-01-05", 2022, 35_920), ("2024-01-05", 2023, 36_461)):
        final = pd.read_csv(raw / f"udi/{folder}/soknader_{year}.csv", sep=";", dtype=str).set_index("Statsborgerskap")
        assert udi_number(final.loc["Ukraina", "Total"]) == pytest.approx(total, rel=0.01)
    granted = latest_granted(raw)
    cumulative = lambda last: np.nansum([v for (y, m), v in granted.items() if (y, MONTHS.index(m)) <= last])  # noqa: E731
    assert cumulative((2023, 11)) == pytest.approx(66_900, rel=0.01)
    assert cumulative((2024, 11)) == pytest.approx(88_000, rel=0.01)
    assert cumulative((2025, 7)) == pytest.approx(94_000, rel=0.01)
    for name, target in (("2025-01-05", 79_000), ("2025-08-05", 82_000)):
        stock = pd.read_csv(raw / f"udi/{name}/gyldige_{name}.csv", sep=";", dtype=str)
        assert np.nansum(stock.Antall.map(udi_number)) == pytest.approx(target, rel=0.01)


def test_udi_stock_rises_then_declines_and_stays_below_grants(raw):
    totals = {}
    for folder in sorted((raw / "udi").iterdir()):
        stock = pd.read_csv(folder / f"gyldige_{folder.name}.csv", sep=";", dtype=str)
        totals[folder.name] = np.nansum(stock.Antall.map(udi_number))
    assert totals["2022-04-05"] < totals["2023-01-05"] < totals["2024-01-05"] < totals["2025-01-05"] < totals["2025-08-05"]
    assert totals["2025-10-05"] < totals["2025-08-05"], "then it declines as people leave"
    granted = latest_granted(raw)
    by_end_2024 = np.nansum([v for (y, _), v in granted.items() if y <= 2024])
    assert 8_000 < by_end_2024 - totals["2025-01-05"] < 10_000, "just over 9 000 likely left by the start of 2025"


def test_udi_vintages_revise_earlier_months_of_the_year(raw):
    earlier = pd.read_csv(raw / "udi/2024-04-05/soknader_2024.csv", sep=";", dtype=str).set_index("Statsborgerskap")
    later = pd.read_csv(raw / "udi/2024-08-05/soknader_2024.csv", sep=";", dtype=str).set_index("Statsborgerskap")
    first, revised = udi_number(earlier.loc["Ukraina", "Mar"]), udi_number(later.loc["Ukraina", "Mar"])
    assert first != revised and first < revised <= 1383
    assert udi_number(later.loc["Ukraina", "Jan"]) == 1639


# ---- calibration -------------------------------------------------------------------------------------------------
def test_w1_has_676_responses_of_record_with_25_55_20(raw):
    base = in_norway_base("w1_2022", records_of(raw, "w1_2022"))
    assert len(base) == 676
    assert Counter(base.retur) == {"1": 169, "2": 372, "3": 135}
    assert len(read_w1(raw)) > 676, "plus partials, duplicates and test rows"


def share(frame: pd.DataFrame, mask, column: str, value: str) -> float:
    return float((frame[mask][column] == value).mean())


def test_w1_aspirations_follow_the_published_correlates(raw):
    base = in_norway_base("w1_2022", records_of(raw, "w1_2022"))
    age = 2022 - base.fodselsar.astype(int)
    assert share(base, base.kjonn == "2", "retur", "1") < share(base, base.kjonn == "1", "retur", "1")
    assert share(base, age >= 55, "retur", "1") > share(base, age < 35, "retur", "1")
    kids = base.barn_norge.astype(int) > 0
    assert share(base, kids, "retur", "3") > share(base, ~kids, "retur", "3")
    assert share(base, base.partner == "2", "retur", "1") > share(base, base.partner != "2", "retur", "1")
    assert share(base, base.barn_ukraina == "1", "retur", "1") > share(base, base.barn_ukraina == "0", "retur", "1")
    assert share(base, base.nettverk == "1", "retur", "1") > share(base, base.nettverk == "0", "retur", "1")
    short = base.krigens_varighet.isin(["1", "2"])
    assert share(base, short, "retur", "1") > share(base, ~short, "retur", "1")
    assert (base.nettverk == "1").mean() == pytest.approx(2 / 3, abs=0.06)
    assert short.mean() == pytest.approx(0.16, abs=0.04)
    assert (base.kjonn == "1").mean() == pytest.approx(0.71, abs=0.04)


def test_w2_has_exactly_21_leavers_with_table_1_reasons(raw):
    records = records_of(raw, "w2_2023")
    leavers = records[records.CurrentCountry.isin(["2", "3"])]
    assert len(leavers) == 21
    counts = {code: int((leavers[f"Reason_{code}"] == "1").sum()) for code in range(1, 15)}
    assert counts == TABLE1
    in_ukraine = leavers.CurrentCountry == "2"
    for code in RETURNED_ONLY:
        assert (leavers[f"Reason_{code}"][~in_ukraine] == "").all()
    for code in ONWARD_ONLY:
        assert (leavers[f"Reason_{code}"][in_ukraine] == "").all()
    assert (leavers.LeftMonth != "").all() and (leavers.Municipality == "").all() and (leavers.FuturePlans == "").all()
    reasons = leavers[[f"Reason_{c}" for c in range(1, 15)]]
    assert (reasons == "1").any(axis=1).all(), "every leaver gives at least one reason"


def test_w2_leavers_mostly_wanted_to_return_in_w1(raw):
    w1 = records_of(raw, "w1_2022")
    w2 = records_of(raw, "w2_2023")
    leavers = set(w2.person_id[w2.CurrentCountry.isin(["2", "3"])])
    before = w1[w1.person_id.isin(leavers)]
    assert len(before) == 21
    assert (before.retur == "3").mean() < 0.15 and (before.retur == "1").mean() > 0.4


def test_w2_in_norway_shares(raw):
    base = in_norway_base("w2_2023", records_of(raw, "w2_2023"))
    assert 800 <= len(base) <= 1200
    assert (base.FuturePlans == "3").mean() == pytest.approx(0.34, abs=0.02)
    assert base.FuturePlans.isin(["2", "4", "5"]).mean() == pytest.approx(0.54, abs=0.02)


def test_w3_ten_percent_return_and_leavers_answer_abroad(raw):
    records = records_of(raw, "w3_2024")
    base = in_norway_base("w3_2024", records)
    assert 800 <= len(base) <= 1200
    assert (base.plans == "1").mean() == pytest.approx(0.10, abs=0.01)
    assert (base.plans == "3").mean() == pytest.approx(0.47, abs=0.02)
    abroad = records[records.country_now.isin(["2", "3"])]
    assert len(abroad) >= 10
    assert (abroad.left != "").all() and (abroad.plans == "").all() and (abroad.kommunenr == "").all()
    for name, code in zip(W3_REASONS, range(1, 15)):
        if code in RETURNED_ONLY:
            shown = abroad.country_now == "2"
        elif code in ONWARD_ONLY:
            shown = abroad.country_now == "3"
        else:
            shown = pd.Series(True, index=abroad.index)
        assert abroad[name][shown].isin(["0", "1"]).all(), name
        assert (abroad[name][~shown] == "").all(), name


def test_men_had_mostly_decided_to_stay_by_w3(raw):
    base = in_norway_base("w3_2024", records_of(raw, "w3_2024"))
    assert share(base, base.sex == "1", "plans", "3") > share(base, base.sex == "2", "plans", "3")


def test_panel_members_report_stable_facts_across_waves(raw):
    w1 = records_of(raw, "w1_2022").set_index("person_id")
    w3 = records_of(raw, "w3_2024").set_index("person_id")
    both = w1.index.intersection(w3.index)
    assert len(both) >= 150
    plausible = w1.fodselsar.astype(int).between(1920, 2006) & w3.byear.reindex(w1.index).astype(float).between(1920, 2008)
    both = both.intersection(plausible[plausible].index)
    same_year = (w1.loc[both, "fodselsar"].astype(int) - w3.loc[both, "byear"].astype(int)).abs() <= 1
    assert same_year.all()
    gender = w1.loc[both, "kjonn"].map({"1": "2", "2": "1", "3": "3"}) == w3.loc[both, "sex"]
    assert gender.all()


# ---- truth and mess ------------------------------------------------------------------------------------------
def test_truth_has_one_row_per_written_row(raw):
    truth = read_truth(raw)
    assert list(truth.columns) == ["wave_id", "response_id", "person_id"]
    persons = pd.read_csv(raw / "_truth/persons.csv", dtype=str, keep_default_na=False)
    assert persons.person_id.is_unique
    for wave_id, reader in READERS.items():
        frame = reader(raw)
        rows = truth[truth.wave_id == wave_id]
        assert len(rows) == len(frame)
        assert list(rows.response_id) == list(frame[CANONICAL[wave_id]["id"]])
        assert set(rows.person_id) - {""} <= set(persons.person_id)
        tests = frame[(rows.person_id == "").values]
        assert len(tests) >= 1
        assert (pd.to_datetime(tests[CANONICAL[wave_id]["submitted"]]) < FIELD_START[wave_id]).all()


def mess_counts(raw: Path) -> Counter:
    """Mess observed in the delivered files (with `_truth` telling rows' persons)."""
    truth = read_truth(raw)
    found: Counter = Counter()
    for wave_id, reader in READERS.items():
        frame = reader(raw)
        names = CANONICAL[wave_id]
        people = truth.person_id[truth.wave_id == wave_id].values
        found["test_rows"] += int((people == "").sum())
        found["repeated_ids"] += int(frame[names["id"]].duplicated().sum())
        found["invalid_rows"] += int((~validity(wave_id, frame) & (people != "")).sum())
        found["invalid_cells"] += len(invalid_cells(wave_id, frame))
        found["partial_rows"] += int((frame[names["complete"]] != COMPLETE[wave_id]).sum())
        unique_ids = ~frame[names["id"]].duplicated()
        per_person = Counter(p for p, keep in zip(people, unique_ids) if p and keep)
        found["extra_submissions"] += sum(n - 1 for n in per_person.values())
        email = {"w1_2022": "epost", "w2_2023": "Email", "w3_2024": "email"}[wave_id]
        typed = frame[email][frame[email] != ""]
        found["messy_emails"] += int((typed != typed.str.strip().str.lower().str.replace(" ", "").str.rstrip(".")).sum())
    return found


def test_default_data_carries_every_kind_of_mess(raw):
    found = mess_counts(raw)
    for kind in ("test_rows", "repeated_ids", "invalid_cells", "partial_rows", "extra_submissions", "messy_emails"):
        assert found[kind] > 0, kind
    w1 = read_w1(raw)
    assert (w1.fodselsar == "1899").any() or (w1.barn_norge == "99").any()
    truth = read_truth(raw)
    w1_people = w1.assign(person_id=truth.person_id[truth.wave_id == "w1_2022"].values)
    by_address = w1_people[w1_people.epost != ""].groupby("epost").person_id.nunique()
    assert (by_address > 1).any(), "two family members share one address"
    typed = pd.concat([w1.epost, read_w2(raw).Email, read_w3(raw).email]).str.strip().str.lower()
    domains = typed[typed.str.contains("@")].str.split("@").str[1]
    assert domains.isin(["gmial.com", "gmal.com", "gmail.co", "gmai.com", "urk.net", "ukr.nte"]).any(), "typos"
    invited = pd.read_csv(raw / "_truth/invitations.csv", dtype=str)
    w2 = read_w2(raw).assign(person_id=truth.person_id[truth.wave_id == "w2_2023"].values)
    ignored = w2[(w2.Token == "") & w2.person_id.isin(invited.person_id[invited.wave_id == "w2_2023"])]
    assert len(ignored) >= 3, "panel members who ignore their token and use the open link"
    rows = sum(len(reader(raw)) for reader in READERS.values())
    quarantined = found["test_rows"] + found["repeated_ids"] + found["invalid_rows"]
    assert 0.005 < quarantined / rows < 0.05, "quarantine stays within the ingest's blocking threshold"
    assert found["invalid_rows"] == found["repeated_ids"], "only repeated ids keep a real person's row out"


def test_no_mess_at_mess_zero_and_the_base_is_unchanged(clean_set, raw):
    found = mess_counts(clean_set)
    assert all(n == 0 for n in found.values()), found
    for wave_id in READERS:
        frame = READERS[wave_id](clean_set)
        assert validity(wave_id, frame).all()
    clean = in_norway_base("w1_2022", records_of(clean_set, "w1_2022"))
    messy = in_norway_base("w1_2022", records_of(raw, "w1_2022"))
    assert Counter(clean.retur) == Counter(messy.retur) == {"1": 169, "2": 372, "3": 135}
    w3 = in_norway_base("w3_2024", records_of(clean_set, "w3_2024"))
    assert (w3.plans == "1").mean() == pytest.approx(0.10, abs=0.01)


def test_mess_two_has_about_twice_the_mess(messy_set, raw):
    single, double = mess_counts(raw), mess_counts(messy_set)
    for kind in ("test_rows", "invalid_cells", "partial_rows", "extra_submissions", "messy_emails"):
        assert 1.5 <= double[kind] / single[kind] <= 2.5, (kind, single[kind], double[kind])
    records = records_of(messy_set, "w2_2023")
    assert (records.CurrentCountry.isin(["2", "3"])).sum() == 21


# ---- determinism, scale, command line ----------------------------------------------------------------------------
def fingerprints(raw: Path) -> dict[str, str]:
    return {str(p.relative_to(raw)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(raw.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(first, scale=0.2, seed=11)
    generate(second, scale=0.2, seed=11)
    generate(other, scale=0.2, seed=12)
    assert fingerprints(first) == fingerprints(second)
    a, c = fingerprints(first), fingerprints(other)
    for name in ("survey/w1_2022/responses.csv", "survey/w2_2023/responses.xlsx", "survey/w3_2024/responses.sav",
                 "_truth/responses.csv"):
        assert a[name] != c[name], name
    assert read_w1(first).equals(read_w1(second))


def test_generate_replaces_previous_output(tmp_path):
    out = tmp_path / "raw"
    (out / "survey/w9_2030").mkdir(parents=True)
    (out / "keep.txt").write_text("not ours")
    generate(out, scale=0.1, seed=3)
    assert not (out / "survey/w9_2030").exists()
    assert (out / "keep.txt").exists()


def test_a_real_delivery_is_not_overwritten_without_force(tmp_path):
    from synthetic_panel.generate import RealDataGuardError

    out = tmp_path / "raw"
    real = out / "survey/w1_2022/responses.csv"
    real.parent.mkdir(parents=True)
    real.write_text("svar_id;innsendt\n1;2022-06-02 10:00:00\n", encoding="utf-8")
    with pytest.raises(RealDataGuardError, match="real delivery"):
        generate(out, scale=0.05, seed=1)
    assert real.read_text(encoding="utf-8").startswith("svar_id;innsendt")
    generate(out, scale=0.05, seed=1, force=True)
    assert (out / "_truth/responses.csv").exists()


def test_scale_multiplies_the_sample_and_keeps_the_shares(tmp_path):
    out = tmp_path / "raw"
    summary = generate(out, scale=0.5, seed=5, mess=1.0)
    base = in_norway_base("w1_2022", records_of(out, "w1_2022"))
    assert len(base) == 338
    assert Counter(base.retur) == {"1": 84, "2": 186, "3": 68}
    w2 = records_of(out, "w2_2023")
    assert w2.CurrentCountry.isin(["2", "3"]).sum() == round(21 * 0.5)
    assert summary["waves"]["w1_2022"]["responses_of_record"] == 338
    granted_2022 = pd.read_csv(out / "udi/2023-01-05/soknader_2022.csv", sep=";", dtype=str).set_index("Statsborgerskap")
    assert udi_number(granted_2022.loc["Ukraina", "Total"]) == 35_920, "UDI figures stay population-level"


def test_command_line(tmp_path):
    out = tmp_path / "raw"
    result = subprocess.run(
        [sys.executable, "-m", "synthetic_panel", "--out", str(out), "--scale", "0.1", "--seed", "9", "--mess", "0",
         "--w1-delimiter", ","],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"w1_2022"' in result.stdout
    assert (out / "survey/w1_2022/responses.csv").read_text(encoding="utf-8-sig").startswith("svar_id,innsendt,")
    bad = subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(out), "--mess", "-1"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "mess" in bad.stderr


def test_summary_reports_sizes_and_mess(default_set):
    _, summary = default_set
    w1 = summary["waves"]["w1_2022"]
    assert w1["responses_of_record"] == 676 and w1["mess"]["test_submission"] >= 1
    assert summary["waves"]["w2_2023"]["abroad_of_record"] == 21
    assert summary["udi"]["snapshots"] == 43


# ---- later waves, all of Norway, defects on records, deliveries that say something new ---------------------------
@pytest.fixture(scope="session")
def four_waves(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_four_waves") / "raw"
    summary = generate(out, scale=0.3, seed=31, waves=4)
    return out, summary


def wave_records(raw: Path, wave_id: str) -> pd.DataFrame:
    """Latest complete submission per person in an SPSS-layout wave (any number), structural rules only."""
    frame = read_w3(raw, wave_id)
    truth = read_truth(raw)
    frame = frame.assign(person_id=truth.person_id[truth.wave_id == wave_id].values)
    ok = ~frame.id.duplicated() & (frame.person_id != "") & (frame.finished == "1")
    return frame[ok].assign(_t=pd.to_datetime(frame.enddate)).sort_values("_t").groupby("person_id").tail(1)


def test_a_fourth_wave_comes_in_the_w3_layout_with_invitations_and_truth(four_waves, tmp_path):
    raw, summary = four_waves
    folder = raw / "survey/w4_2025"
    assert sorted(p.name for p in folder.iterdir()) == ["invitations.csv", "responses.sav"]
    frame, meta = pyreadstat.read_sav(str(folder / "responses.sav"))
    assert list(frame.columns) == W3_HEADER and meta.variable_value_labels["sex"][2] == "female"
    assert meta.file_label.endswith("autumn 2025")
    submitted = pd.to_datetime(frame.enddate)
    truth = read_truth(raw)
    w4_truth = truth[truth.wave_id == "w4_2025"]
    assert list(w4_truth.response_id) == [as_text(v) for v in frame.id]
    real = (w4_truth.person_id != "").values
    assert (submitted[real] >= dt.datetime(2025, 9, 15)).all() and (submitted <= dt.datetime(2025, 11, 10)).all()
    assert (submitted[~real] < dt.datetime(2025, 9, 15)).all(), "the survey team's test rows come before"
    invitations = pd.read_csv(folder / "invitations.csv", dtype=str, keep_default_na=False)
    assert list(invitations.columns) == ["token", "email", "invited_at", "source_wave"]
    assert set(invitations.source_wave) == {"w1_2022", "w2_2023", "w3_2024"}
    assert set(frame.token) - {""} <= set(invitations.token)
    earlier_tokens = set().union(*(pd.read_csv(raw / f"survey/{w}/invitations.csv", dtype=str).token
                                   for w in ("w2_2023", "w3_2024")))
    assert not earlier_tokens & set(invitations.token)
    persons = pd.read_csv(raw / "_truth/persons.csv", dtype=str, keep_default_na=False)
    assert persons.waves_responded.str.len().eq(4).all() and "aspiration_w4_2025" in persons.columns
    assert summary["waves"]["w4_2025"]["responses_of_record"] > 200
    # Aspirations drift: fewer return as soon as the war ends, more stay.
    w3, w4 = wave_records(raw, "w3_2024"), wave_records(raw, "w4_2025")
    plans3, plans4 = w3.plans[w3.country_now == "1"], w4.plans[w4.country_now == "1"]
    assert (plans4 == "1").mean() < (plans3 == "1").mean() and (plans4 == "3").mean() > (plans3 == "3").mean()
    # New leavers answer abroad, someone who answered abroad before answers from Norway, some skip and return.
    abroad_before = set(w3.person_id[w3.country_now.isin(["2", "3"])]) | set(
        records_of(raw, "w2_2023").query("CurrentCountry in ['2', '3']").person_id)
    back = w4[(w4.country_now == "1") & w4.person_id.isin(abroad_before)]
    assert len(back) >= 1 and (back.kommunenr != "").all()
    returned = persons.set_index("person_id").loc[back.person_id, "returned_month"]
    assert (returned != "").all() and (returned <= "2025-09").all()
    new_leavers = w4[w4.country_now.isin(["2", "3"]) & ~w4.person_id.isin(abroad_before)]
    assert len(new_leavers) >= 1 and (new_leavers.left >= "2024-10-01").any()
    assert persons.waves_responded.isin(["1101", "1011", "0101", "1001"]).sum() >= 5, "skip a wave and return"
    # Adding a wave leaves the earlier waves' files byte-identical.
    three = tmp_path / "three"
    generate(three, scale=0.3, seed=31, waves=3)
    for path in [*(three / "survey").rglob("*.*"), *(three / "udi").rglob("*.csv")]:
        assert path.read_bytes() == (raw / path.relative_to(three)).read_bytes(), path
    assert not (three / "survey/w4_2025").exists()


def test_municipalities_all_reaches_all_of_norway_named_as_people_type_them(tmp_path):
    raw = tmp_path / "raw"
    generate(raw, scale=0.3, seed=8, municipalities="all")
    sample = set(pd.read_csv(ROOT / "synthetic_panel/data/synthetic_sample_municipalities.csv", dtype=str)
                 .kommune_code_2024)
    persons = pd.read_csv(raw / "_truth/persons.csv", dtype=str, keep_default_na=False).set_index("person_id")
    truth = read_truth(raw)
    seen = {}
    for wave_id, column in (("w1_2022", "kommune"), ("w2_2023", "Municipality")):
        frame = READERS[wave_id](raw).assign(person_id=truth.person_id[truth.wave_id == wave_id].values)
        typed = without_defects(raw, wave_id, frame, column)
        codes = typed.map(municipality_code)
        assert codes.notna().all(), "no name outside the defects is unknown or ambiguous"
        firsts = frame.loc[codes.index].assign(code=codes)
        firsts = firsts[firsts.person_id != ""]
        entry = persons.loc[firsts.person_id, "entry_wave"].values == wave_id
        assert (firsts.code[entry].values == persons.loc[firsts.person_id[entry], "kommune_code_2024_first"].values).all()
        seen.update(dict(zip(firsts.person_id, firsts.code)))
    assert len(set(seen.values()) - sample) >= 50
    w3 = read_w3(raw)
    assert len(set(w3.kommunenr) - sample - {"", "9999"}) >= 50


def test_defects_sit_on_records_and_are_listed_once(raw):
    defects = read_defects(raw)
    assert list(defects.columns) == ["wave_id", "row_number", "response_id", "column", "kind", "row_kind"]
    on_records = defects[defects.row_kind == "record"]
    kinds = {"out_of_range_value", "unknown_code", "unparseable_date", "impossible_date", "unknown_municipality",
             "ambiguous_municipality", "address_in_free_text"}
    for wave_id in ("w1_2022", "w2_2023"):
        assert set(on_records.kind[on_records.wave_id == wave_id]) == kinds, wave_id
    assert set(on_records.kind[on_records.wave_id == "w3_2024"]) >= kinds - {
        "unparseable_date", "ambiguous_municipality", "address_in_free_text"}
    assert not on_records.column.isin(["retur", "FuturePlans", "plans", "CurrentCountry", "country_now",
                                       "Finished", "finished", "fullfort"]).any()
    assert not on_records.column.str.match(r"Reason_|r_").any()
    assert not on_records.duplicated(["wave_id", "row_number"]).any(), "one defect per record"
    truth = read_truth(raw)
    persons = pd.read_csv(raw / "_truth/persons.csv", dtype=str, keep_default_na=False).set_index("person_id")
    for wave_id, reader in READERS.items():
        frame = reader(raw)
        listed = defects[defects.wave_id == wave_id]
        cells = {(int(n) - 1, c) for n, c in zip(listed.row_number, listed.column)}
        structural = ~validity(wave_id, frame)
        loaded_bad = {(i, c) for i, c in invalid_cells(wave_id, frame) if not structural.iloc[i]}
        assert loaded_bad <= cells, "every invalid code or range on a loaded row is listed"
        people = truth.person_id[truth.wave_id == wave_id].values
        for row in listed[listed.row_kind == "record"].itertuples():
            i = int(row.row_number) - 1
            value = frame.at[i, row.column]
            assert people[i] != "" and frame.at[i, CANONICAL[wave_id]["id"]] == row.response_id
            if row.kind == "address_in_free_text":
                assert "@" in value and persons.at[people[i], "email"].split("@")[1] in value
            elif row.kind == "ambiguous_municipality":
                assert value in {"Herøy", "Våler"} and municipality_code(value) is None
                if persons.at[people[i], "entry_wave"] == wave_id:  # the person does live there
                    assert persons.at[people[i], "kommune_code_2024_first"] in {"1515", "1818", "3114", "3419"}
            elif row.kind == "unknown_municipality":
                assert municipality_code(value) is None and value != ""
            elif row.kind == "unparseable_date":
                assert "13" in value and pd.to_datetime(value, errors="coerce", format="mixed") is pd.NaT
    w3 = read_w3(raw)
    left_first = defects[(defects.wave_id == "w3_2024") & (defects.column == "left")]
    assert len(left_first) >= 1
    for number in left_first.row_number.astype(int):
        assert w3.at[number - 1, "left"] < w3.at[number - 1, "arrival"], "a leaving month before the arrival month"


def test_a_delivery_that_says_something_new(tmp_path, raw):
    out = tmp_path / "raw"
    summary = generate(out, scale=0.5, seed=20220601, udi_from="2024-11-05", w1_return_share=0.65)
    folders = sorted(p.name for p in (out / "udi").iterdir())
    assert folders[0] == "2024-11-05" and folders[-1] == "2025-10-05" and summary["udi"]["snapshots"] == 12
    for name in folders:
        for path in (out / "udi" / name).iterdir():
            assert path.read_bytes() == (raw / "udi" / name / path.name).read_bytes(), "same figures, later start"
    base = in_norway_base("w1_2022", records_of(out, "w1_2022"))
    assert (base.retur == "1").mean() == pytest.approx(0.65, abs=0.005)
    assert (base.retur == "3").mean() == pytest.approx(0.20, abs=0.005)
    with pytest.raises(ValueError, match="w1_return_share"):
        generate(tmp_path / "bad", scale=0.1, w1_return_share=1.5)


def test_command_line_options_for_new_deliveries(tmp_path, raw):
    out = tmp_path / "raw"
    result = subprocess.run(
        [sys.executable, "-m", "synthetic_panel", "--out", str(out), "--scale", "0.1", "--seed", "20220601",
         "--waves", "5", "--municipalities", "all", "--udi-from", "2025-01-05", "--w1-return-share", "0.4"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "survey").iterdir()) == [
        "w1_2022", "w2_2023", "w3_2024", "w4_2025", "w5_2026"]
    folders = sorted(p.name for p in (out / "udi").iterdir())
    assert folders[0] == "2025-01-05" and folders[-1] == "2026-12-05", "snapshots cover the last field period"
    for name in ("2025-01-05", "2025-10-05"):
        for path in (out / "udi" / name).iterdir():
            assert path.read_bytes() == (raw / "udi" / name / path.name).read_bytes()
    help_text = subprocess.run([sys.executable, "-m", "synthetic_panel", "--help"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    for flag in ("--waves", "--municipalities", "--udi-from", "--w1-return-share"):
        assert flag in help_text
    bad = subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(out), "--waves", "0"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "waves" in bad.stderr


def test_one_wave_is_the_first_wave_of_the_full_set(tmp_path, raw):
    out = tmp_path / "raw"
    summary = generate(out, scale=1.0, seed=20220601, waves=1)
    assert sorted(p.name for p in (out / "survey").iterdir()) == ["w1_2022"]
    assert (out / "survey/w1_2022/responses.csv").read_bytes() == (raw / "survey/w1_2022/responses.csv").read_bytes()
    persons = pd.read_csv(out / "_truth/persons.csv", dtype=str, keep_default_na=False)
    assert set(persons.waves_responded) == {"1"} and len(persons) == summary["persons"]
    assert set(read_truth(out).wave_id) == {"w1_2022"}
    assert (out / "udi/2025-10-05").is_dir()
