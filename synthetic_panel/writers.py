"""Write the survey exports exactly as the providers deliver them (docs/contracts/inputs.md), plus `_truth/`.

Every writer is deterministic: rows are ordered by submission time, ids come from a seeded stream, and the
creation timestamps that XLSX and SAV files embed are fixed.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import string
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from openpyxl import Workbook

from synthetic_panel import config
from synthetic_panel.mess import Invitation, oblast_label_variant
from synthetic_panel.panel import PREFER_NOT_TO_SAY, Response
from synthetic_panel.people import Person, month_of
from synthetic_panel.reference import municipality_by_code, oblast_by_iso, oblasts

GENDER_W1 = {"female": 1, "male": 2, "other": 3}
GENDER_W2 = {"female": "Female", "male": "Male", "other": "Other / prefer not to say"}
GENDER_W3 = {"male": 1, "female": 2, "other": 3}
LANGUAGE_W2 = {"uk": "Ukrainian", "ru": "Russian", "en": "English", "nb": "Norwegian"}
LANGUAGE_W3 = {"uk": 1, "ru": 2, "en": 3, "nb": 4}
ASPIRATION_W1 = {"return_asap": 1, "uncertain": 2, "stay_norway": 3}
ASPIRATION_LATER = {"return_asap": 1, "return_later": 2, "stay_norway": 3, "move_onward": 4, "uncertain": 5}
COUNTRY = {"norway": 1, "ukraine": 2, "other": 3}
W1_COLUMNS = ["svar_id", "innsendt", "sprak", "fullfort", "kjonn", "fodselsar", "oblast", "ankomst", "kommune",
              "barn_norge", "barn_ukraina", "partner", "nettverk", "krigens_varighet", "retur", "arbeid", "epost",
              "samtykke"]
W2_COLUMNS = ["RespondentID", "EndDate", "Finished", "Token", "Language", "Gender", "BirthYear", "Region",
              "ArrivalMonth", "CurrentCountry", "Municipality", "LeftMonth", "FuturePlans",
              *[f"Reason_{i}" for i in range(1, 15)], "ChildrenInNorway", "PartnerLocation", "Working", "Email",
              "FollowUpConsent"]
W3_REASON_NAMES = ["r_home", "r_longing", "r_family", "r_competence", "r_safer", "r_education", "r_nowork",
                   "r_support", "r_expectations", "r_temporary", "r_other", "r_language", "r_opportunities",
                   "r_neverplanned"]
W3_COLUMNS = ["id", "enddate", "finished", "token", "lang", "sex", "byear", "oblast", "arrival", "country_now",
              "kommunenr", "left", "plans", *W3_REASON_NAMES, "kids_no", "partner_loc", "employed", "email", "consent"]
FIXED_ZIP_TIME = (2023, 6, 21, 0, 0, 0)
ID_ALPHABET = string.ascii_letters + string.digits


def flag(value) -> int | None:
    return None if value is None else int(bool(value))


def value_of(response: Response, concept: str, rendered):
    """The raw override for a concept if mess put one there, else the rendered canonical value."""
    return response.raw[concept] if concept in response.raw else rendered


def kommune_name(response: Response):
    """The municipality as the respondent typed it (SSB's name where nothing else was drawn)."""
    code = response.answers["kommune"]
    return value_of(response, "kommune", municipality_by_code(code).name if code else None)


# Source column of each concept a defect can hit, per layout (for `_truth/defects.csv`).
DEFECT_COLUMNS = {
    "w1_2022": {"language": "sprak", "gender": "kjonn", "birth_year": "fodselsar", "arrival": "ankomst",
                "kommune": "kommune", "children_norway": "barn_norge", "partner": "partner",
                "war_duration": "krigens_varighet", "aspiration": "retur"},
    "w2_2023": {"language": "Language", "gender": "Gender", "birth_year": "BirthYear", "arrival": "ArrivalMonth",
                "country": "CurrentCountry", "kommune": "Municipality", "left": "LeftMonth",
                "aspiration": "FuturePlans", "children_norway": "ChildrenInNorway", "partner": "PartnerLocation"},
    "w3_2024": {"language": "lang", "gender": "sex", "birth_year": "byear", "arrival": "arrival",
                "country": "country_now", "kommune": "kommunenr", "left": "left", "aspiration": "plans",
                "children_norway": "kids_no", "partner": "partner_loc"},
}


def ordered_rows(responses: list[Response]) -> list[Response]:
    """Export order: by submission time; rows repeated by an export glitch come last."""
    normal = sorted((r for r in responses if r.kind != "dup_id"), key=lambda r: (r.submitted, r.person_id, r.kind))
    return normal + [r for r in responses if r.kind == "dup_id"]


def assign_ids(rows: list[Response], make_id) -> None:
    for index, row in enumerate(r for r in rows if r.kind != "dup_id"):
        row.response_id = make_id(index)
    for row in rows:
        if row.kind == "dup_id":
            row.response_id = row.copy_of.response_id


# ---- w1: CSV ---------------------------------------------------------------------------------------------------
def w1_record(r: Response, english_labels: bool) -> list:
    a = r.answers
    oblast = None
    if a["oblast"]:
        o = oblast_by_iso(a["oblast"])
        oblast = o.name_en if english_labels else o.label(a["language"])
        if "oblast_label_variant" in r.raw:
            oblast = oblast_label_variant(oblast, r.raw["oblast_label_variant"])
    arrival = value_of(r, "arrival", None if a["arrival"] is None else "{:04d}-{:02d}".format(*month_of(a["arrival"])))
    values = [
        r.response_id, r.submitted.strftime("%Y-%m-%d %H:%M:%S"), value_of(r, "language", a["language"]),
        int(r.complete), value_of(r, "gender", GENDER_W1.get(a["gender"])), value_of(r, "birth_year", a["birth_year"]),
        oblast, arrival, kommune_name(r), value_of(r, "children_norway", a["children_norway"]),
        flag(a["children_ukraine"]),
        value_of(r, "partner", a["partner"]), flag(a["network"]), value_of(r, "war_duration", a["war_duration"]),
        value_of(r, "aspiration", ASPIRATION_W1.get(a["aspiration"])), flag(a["working"]), a["email"],
        flag(a["consent"]),
    ]
    return ["" if v is None else str(v) for v in values]


def write_w1(path: Path, responses: list[Response], encoding: str, delimiter: str) -> list[Response]:
    rows = ordered_rows(responses)
    assign_ids(rows, lambda i: str(1001 + i))
    english = encoding == "cp1252"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(W1_COLUMNS)
    writer.writerows(w1_record(r, english) for r in rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return rows


# ---- w2: XLSX --------------------------------------------------------------------------------------------------
def mm_yyyy(index) -> str | None:
    return None if index is None else "{1:02d}/{0:04d}".format(*month_of(index))


def w2_record(r: Response) -> list:
    a = r.answers
    reasons = a["reasons"] or {}
    return [
        r.response_id, r.submitted, bool(r.complete), r.token,
        value_of(r, "language", LANGUAGE_W2.get(a["language"])),
        value_of(r, "gender", GENDER_W2.get(a["gender"])), value_of(r, "birth_year", a["birth_year"]),
        oblast_by_iso(a["oblast"]).name_en if a["oblast"] else None, value_of(r, "arrival", mm_yyyy(a["arrival"])),
        value_of(r, "country", COUNTRY.get(a["country"])), kommune_name(r), value_of(r, "left", mm_yyyy(a["left"])),
        value_of(r, "aspiration", ASPIRATION_LATER.get(a["aspiration"])),
        *[1 if reasons.get(code) else None for code in range(1, 15)],
        value_of(r, "children_norway", a["children_norway"]), value_of(r, "partner", a["partner"]),
        flag(a["working"]), a["email"], flag(a["consent"]),
    ]


def write_w2(path: Path, responses: list[Response], rng: np.random.Generator) -> list[Response]:
    rows = ordered_rows(responses)
    used: set[str] = set()

    def respondent_id(_: int) -> str:
        while True:
            candidate = "R_" + "".join(rng.choice(list(ID_ALPHABET), size=15))
            if candidate not in used:
                used.add(candidate)
                return candidate

    assign_ids(rows, respondent_id)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(W2_COLUMNS)
    for r in rows:
        sheet.append(w2_record(r))
    for (cell,) in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    fixed = dt.datetime(2023, 6, 21, 8, 0, 0)
    workbook.properties.creator = "Survey export"
    workbook.properties.created = fixed
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(with_fixed_zip_times(buffer.getvalue(), fixed))
    return rows


def with_fixed_zip_times(data: bytes, fixed: dt.datetime) -> bytes:
    """Rewrite an XLSX package with fixed member times and document dates, so equal content gives equal bytes."""
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{stamp}\g<3>",
                              content.decode("utf-8"))
                content = text.encode("utf-8")
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            target.writestr(member, content)
    return out.getvalue()


# ---- w3: SAV ---------------------------------------------------------------------------------------------------
def first_of(index) -> dt.date | None:
    if index is None:
        return None
    year, month = month_of(index)
    return dt.date(year, month, 1)


def w3_record(r: Response) -> dict:
    a = r.answers
    oblast = None
    if a["oblast"] == PREFER_NOT_TO_SAY:
        oblast = 99
    elif a["oblast"]:
        oblast = oblast_by_iso(a["oblast"]).number
    reasons = a["reasons"]
    record = {
        "id": float(r.response_id), "enddate": r.submitted, "finished": int(r.complete), "token": r.token or "",
        "lang": value_of(r, "language", LANGUAGE_W3.get(a["language"])),
        "sex": value_of(r, "gender", GENDER_W3.get(a["gender"])),
        "byear": value_of(r, "birth_year", a["birth_year"]), "oblast": oblast,
        "arrival": first_of(value_of(r, "arrival", a["arrival"])),
        "country_now": value_of(r, "country", COUNTRY.get(a["country"])),
        "kommunenr": value_of(r, "kommune", a["kommune"] or ""),
        "left": first_of(value_of(r, "left", a["left"])),
        "plans": value_of(r, "aspiration", ASPIRATION_LATER.get(a["aspiration"])),
        "kids_no": value_of(r, "children_norway", a["children_norway"]),
        "partner_loc": value_of(r, "partner", a["partner"]),
        "employed": flag(a["working"]), "email": a["email"] or "", "consent": flag(a["consent"]),
    }
    for code, name in enumerate(W3_REASON_NAMES, start=1):
        record[name] = None if not reasons or code not in reasons else int(reasons[code])
    return {column: record[column] for column in W3_COLUMNS}


W3_VALUE_LABELS = {
    "finished": {0: "partial", 1: "complete"},
    "lang": {1: "Ukrainian", 2: "Russian", 3: "English", 4: "Norwegian"},
    "sex": {1: "male", 2: "female", 3: "other / prefer not to say"},
    "country_now": {1: "Norway", 2: "Ukraine", 3: "another country"},
    "plans": {1: "return as soon as the war ends", 2: "return, but not right after the war",
              3: "stay in Norway even if the war ends", 4: "move on to another country", 5: "undecided"},
    "partner_loc": {1: "Norway", 2: "Ukraine", 3: "another country", 4: "no partner"},
    "employed": {0: "no", 1: "yes"},
    "consent": {0: "no", 1: "yes"},
    **{name: {0: "not selected", 1: "selected"} for name in W3_REASON_NAMES},
}
W3_COLUMN_LABELS = {
    "id": "Response ID", "enddate": "End date", "finished": "Finished", "token": "Invitation token",
    "lang": "Questionnaire language", "sex": "Sex", "byear": "Year of birth", "oblast": "Region of origin",
    "arrival": "Month of arrival in Norway", "country_now": "Country of residence now",
    "kommunenr": "Municipality number", "left": "Month of leaving Norway", "plans": "Plans for the future",
    "kids_no": "Own children under 18 in Norway", "partner_loc": "Where your spouse/partner lives",
    "employed": "In paid work", "email": "E-mail for later surveys", "consent": "Consent to later surveys",
    **{name: f"Reason for leaving: {name[2:]}" for name in W3_REASON_NAMES},
}


def write_w3(path: Path, responses: list[Response], wave_id: str = "w3_2024") -> list[Response]:
    """The SPSS layout of w3, also used by every later wave (`wave_id` sets the file label and date)."""
    rows = ordered_rows(responses)
    assign_ids(rows, lambda i: str(1 + i))
    frame = pd.DataFrame([w3_record(r) for r in rows], columns=W3_COLUMNS)
    numeric = [c for c in W3_COLUMNS if c not in ("enddate", "token", "arrival", "kommunenr", "left", "email")]
    frame[numeric] = frame[numeric].astype(float)
    frame["enddate"] = pd.to_datetime(frame["enddate"])
    for column in ("arrival", "left"):  # typed explicitly: a column of nearly all blanks is not taken for text
        frame[column] = pd.to_datetime(frame[column])
    labels = dict(W3_VALUE_LABELS)
    labels["oblast"] = {o.number: o.name_en for o in oblasts()} | {99: "prefer not to say"}
    formats = {c: "F8.0" for c in numeric} | {"byear": "F4.0", "enddate": "DATETIME20", "arrival": "DATE11",
                                                "left": "DATE11"}
    pyreadstat.write_sav(frame, str(path), column_labels=W3_COLUMN_LABELS, variable_value_labels=labels,
                         variable_format=formats,
                         file_label=f"Ukrainian refugees in Norway, autumn {config.wave_year(wave_id)}")
    fix_sav_timestamp(path, config.field_period(wave_id)[1])
    return rows


def fix_sav_timestamp(path: Path, field_end: dt.date) -> None:
    """SAV headers carry the creation date and time (bytes 92-108); pin them to the end of the field period."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"$FL2", "not an SPSS system file"
    data[92:101] = field_end.strftime("%d %b %y").encode("ascii")
    data[101:109] = b"23:59:00"
    path.write_bytes(bytes(data))


# ---- invitations and truth -------------------------------------------------------------------------------------
def write_invitations(path: Path, invitations: list[Invitation]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["token", "email", "invited_at", "source_wave"])
        for inv in invitations:
            writer.writerow([inv.token, inv.email, inv.invited_at.strftime("%Y-%m-%d %H:%M:%S"), inv.source_wave])


def write_truth(truth_dir: Path, written: dict[str, list[Response]], persons: dict[str, Person],
                invitations: dict[str, list[Invitation]]) -> None:
    """The answer key: who wrote which row, the persons' true attributes, the mess and the cell defects."""
    write_csv(truth_dir / "responses.csv", ["wave_id", "response_id", "person_id"],
              ([wave_id, r.response_id, r.person_id] for wave_id, rows in written.items() for r in rows))
    write_csv(truth_dir / "mess.csv", ["wave_id", "row_number", "response_id", "kind"],
              ([wave_id, number, r.response_id, kind] for wave_id, rows in written.items()
               for number, r in enumerate(rows, start=1) for kind in r.mess))
    write_csv(truth_dir / "defects.csv", ["wave_id", "row_number", "response_id", "column", "kind", "row_kind"],
              ([wave_id, number, r.response_id, DEFECT_COLUMNS[config.layout_of(wave_id)][concept], kind, r.kind]
               for wave_id, rows in written.items() for number, r in enumerate(rows, start=1)
               for concept, kind in r.defects))
    write_csv(truth_dir / "invitations.csv", ["wave_id", "token", "person_id", "source_wave"],
              ([wave_id, inv.token, inv.person_id, inv.source_wave] for wave_id, rows in invitations.items()
               for inv in rows))
    write_truth_persons(truth_dir / "persons.csv", written, persons)


def write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def month_text(index: int | None) -> str:
    return "" if index is None else "{:04d}-{:02d}".format(*month_of(index))


def write_truth_persons(path: Path, written: dict[str, list[Response]], persons: dict[str, Person]) -> None:
    """One row per person; `kommune_code_2024_first` is the true municipality (2024 code) of the first wave
    answered, `waves_responded` one character per wave."""
    waves = list(written)
    first_email: dict[str, str] = {}
    pattern: dict[str, list[str]] = {pid: ["0"] * len(waves) for pid in persons}
    for i, wave_id in enumerate(waves):
        for r in written[wave_id]:
            if not r.person_id:
                continue
            pattern[r.person_id][i] = "1"
            if r.answers.get("email") and r.person_id not in first_email:
                first_email[r.person_id] = r.answers["email"]
    columns = ["person_id", "household_id", "relative_of", "entry_wave", "waves_responded", "gender", "birth_year",
               "oblast_iso", "language", "arrival_month", "kommune_first", "kommune_code_2024_first",
               "children_in_norway", "children_in_ukraine", "partner_location", "network_norway", "war_duration",
               "email", "email_first_given", *[f"aspiration_{w}" for w in waves], "left_month", "destination",
               "returned_month"]
    rows = []
    for pid in sorted(persons):
        p = persons[pid]
        first = municipality_by_code(next(iter(p.kommune.values())))
        rows.append([
            pid, p.household_id, p.relative_of or "", p.entry_wave, "".join(pattern[pid]), p.gender, p.birth_year,
            p.oblast_iso, p.language, month_text(p.arrival), first.name, first.code_2024, p.children_norway,
            int(p.children_ukraine), p.partner, int(p.network), p.war_duration, p.email, first_email.get(pid, ""),
            *[p.aspiration.get(w, "") for w in waves], month_text(p.left_month), p.destination or "",
            month_text(p.returned_month),
        ])
    write_csv(path, columns, rows)
