"""Hand-made raw files for the ingest tests (no generator): small, valid by default, with overrides.

Imported by the test_ingest_* and test_schemas_* modules; holds no tests itself.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat

HMAC_KEY = b"test-key-for-ingest"
W1_COLUMNS = ["svar_id", "innsendt", "sprak", "fullfort", "kjonn", "fodselsar", "oblast", "ankomst", "kommune",
              "barn_norge", "barn_ukraina", "partner", "nettverk", "krigens_varighet", "retur", "arbeid", "epost",
              "samtykke"]
W2_COLUMNS = (["RespondentID", "EndDate", "Finished", "Token", "Language", "Gender", "BirthYear", "Region",
               "ArrivalMonth", "CurrentCountry", "Municipality", "LeftMonth", "FuturePlans"]
              + [f"Reason_{i}" for i in range(1, 15)]
              + ["ChildrenInNorway", "PartnerLocation", "Working", "Email", "FollowUpConsent"])
W3_REASONS = ["r_home", "r_longing", "r_family", "r_competence", "r_safer", "r_education", "r_nowork", "r_support",
              "r_expectations", "r_temporary", "r_other", "r_language", "r_opportunities", "r_neverplanned"]
W3_COLUMNS = (["id", "enddate", "finished", "token", "lang", "sex", "byear", "oblast", "arrival", "country_now",
               "kommunenr", "left", "plans"] + W3_REASONS + ["kids_no", "partner_loc", "employed", "email", "consent"])
ADDRESSES = ["Anna.Kovalenko@Example.com ", "petro.shevchenko@gmail.com.", "olena 88@ukr.net"]


def w1_row(n: int, **overrides) -> dict:
    row = {"svar_id": str(n), "innsendt": f"2022-06-{10 + n % 10:02d} 12:30:00", "sprak": "uk", "fullfort": "1",
           "kjonn": "1", "fodselsar": "1985", "oblast": "Kharkiv oblast", "ankomst": "2022-04", "kommune": "Bærum",
           "barn_norge": "2", "barn_ukraina": "0", "partner": "2", "nettverk": "1", "krigens_varighet": "2",
           "retur": "1", "arbeid": "0", "epost": ADDRESSES[n % len(ADDRESSES)], "samtykke": "1"}
    row.update(overrides)
    return row


def write_w1_csv(path: Path, rows: list[dict], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else W1_COLUMNS, delimiter=delimiter,
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def w2_row(n: int, **overrides) -> dict:
    row = {c: None for c in W2_COLUMNS}
    row.update({"RespondentID": f"R_{n:015d}", "EndDate": datetime(2023, 5, 10, 9, 15, n % 60), "Finished": True,
                "Token": f"TOKEN{n:07d}", "Language": "Ukrainian", "Gender": "Female", "BirthYear": 1980.0,
                "Region": "Lviv oblast", "ArrivalMonth": "03/2022", "CurrentCountry": 1, "Municipality": "Oslo",
                "FuturePlans": 3, "ChildrenInNorway": 1, "PartnerLocation": 4, "Working": 1,
                "Email": ADDRESSES[n % len(ADDRESSES)], "FollowUpConsent": 1})
    row.update(overrides)
    return row


def write_w2_xlsx(path: Path, rows: list[dict], sheet: str = "Data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active["A1"] = "exported by the survey tool"
    data = workbook.create_sheet(sheet)
    columns = list(rows[0]) if rows else W2_COLUMNS
    data.append(columns)
    for row in rows:
        data.append([row[c] for c in columns])
    workbook.save(path)
    return path


def w3_row(n: int, **overrides) -> dict:
    row = {c: None for c in W3_COLUMNS}
    row.update({"id": float(1000 + n), "enddate": datetime(2024, 9, 20, 18, 0, n % 60), "finished": 1.0,
                "token": "", "lang": 1.0, "sex": 2.0, "byear": 1975.0, "oblast": 63.0, "arrival": date(2022, 3, 1),
                "country_now": 2.0, "kommunenr": "", "left": date(2023, 8, 1), "plans": None,
                "kids_no": None, "partner_loc": 2.0, "employed": 0.0, "email": ADDRESSES[n % len(ADDRESSES)],
                "consent": 1.0})
    for reason in W3_REASONS:
        row[reason] = 0.0
    row["r_home"] = 1.0
    row.update(overrides)
    return row


def write_w3_sav(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=W3_COLUMNS)
    for column in ("token", "kommunenr", "email"):
        frame[column] = frame[column].fillna("").astype(str)
    labels = {"sex": {1.0: "male", 2.0: "female", 3.0: "other"}, "oblast": {63.0: "Kharkiv oblast", 99.0: "prefer not to say"},
              "lang": {1.0: "Ukrainian", 2.0: "Russian", 3.0: "English", 4.0: "Norwegian"}}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels,
                         variable_format={"enddate": "DATETIME20", "arrival": "ADATE10", "left": "ADATE10"})
    return path


def write_invitations(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["token", "email", "invited_at", "source_wave"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def invitation(n: int, **overrides) -> dict:
    row = {"token": f"TOKEN{n:07d}", "email": ADDRESSES[n % len(ADDRESSES)], "invited_at": "2023-05-01 08:00:00",
           "source_wave": "w1_2022"}
    row.update(overrides)
    return row


def write_udi(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [";".join(header)] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


APPLICATIONS_HEADER = ["Statsborgerskap", "Jan", "Feb", "Mar", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov",
                       "Des", "Total"]
DECISIONS_HEADER = ["Statsborgerskap", "Måned", "Innvilget", "Avslag", "Henlagt"]
PERMITS_HEADER = ["Fylke", "Kjønn", "Aldersgruppe", "Antall"]


def write_udi_snapshot(raw: Path, snapshot: str = "2024-02-05", year: str = "2024",
                       permits: list[list[str]] | None = None, applications: list[list[str]] | None = None) -> Path:
    folder = raw / "udi" / snapshot
    empty = [""] * 11
    write_udi(folder / f"soknader_{year}.csv", APPLICATIONS_HEADER, applications or [
        ["Ukraina", "1 639", "1\u00a0361"] + empty[:10] + ["3 000"],
        ["Russland", "12", "-"] + empty[:10] + ["12"],
        ["Totalt", "1 651", "1 361"] + empty[:10] + ["3 012"],
    ])
    write_udi(folder / f"vedtak_{year}.csv", DECISIONS_HEADER, [
        ["Ukraina", "Jan", "1 500", "3", "-"], ["Ukraina", "Feb", "1 400", "", "2"]])
    write_udi(folder / f"gyldige_{snapshot}.csv", PERMITS_HEADER, permits or [
        ["Oslo", "Kvinner", "18-34", "2 345"], ["Akershus", "Menn", "0-5", "-"], ["Finnmark", "Kvinner", "67+", "17"]])
    return folder
