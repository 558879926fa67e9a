"""pandera schemas of the survey layouts, built from the codebook seeds.

One `DataFrameModel` per known layout (`W1ResponsesCsv`, `W2ResponsesXlsx`, `W3ResponsesSav`) plus
`SurveyInvitations`. Each field's checks come from the codebook (`codebook_field`): code lists from
codebook_values.csv, ranges from min_value/max_value, formats from value_type. A layout that exists
only in the codebook (a future wave) gets the same checks from `schema_for_layout(layout)`.
The e-mail column is validated as `email_hash`/`email_bloom`: validation never sees a clear address.
"""
from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from panel_ingest.codebook import Codebook, default_codebook
from panel_ingest.pseudonymise import BLOOM_COLUMN, HASH_COLUMN
from validation.schemas.base import RawTextModel
from validation.schemas.codebook_fields import (
    codebook_field, column_from_codebook, email_bloom_field, email_columns, email_hash_field,
)

W2_RESPONSE_ID = r"^R_[A-Za-z0-9]{15}$"
INVITED_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
WAVE_ID = r"^w[0-9]+_[0-9]{4}$"
RESPONSE_ID_CONCEPT = "response_id"
SUBMITTED_AT_CONCEPT = "submitted_at"
EMAIL_CONCEPT = "email"


class W1ResponsesCsv(RawTextModel):
    """w1_2022 `responses.csv` (Norwegian variable names)."""

    svar_id: Series[str] = codebook_field("w1_csv", "svar_id")
    innsendt: Series[str] = codebook_field("w1_csv", "innsendt")
    sprak: Series[str] = codebook_field("w1_csv", "sprak")
    fullfort: Series[str] = codebook_field("w1_csv", "fullfort")
    kjonn: Series[str] = codebook_field("w1_csv", "kjonn")
    fodselsar: Series[str] = codebook_field("w1_csv", "fodselsar")
    oblast: Series[str] = codebook_field("w1_csv", "oblast")
    ankomst: Series[str] = codebook_field("w1_csv", "ankomst")
    kommune: Series[str] = codebook_field("w1_csv", "kommune")
    barn_norge: Series[str] = codebook_field("w1_csv", "barn_norge")
    barn_ukraina: Series[str] = codebook_field("w1_csv", "barn_ukraina")
    partner: Series[str] = codebook_field("w1_csv", "partner")
    nettverk: Series[str] = codebook_field("w1_csv", "nettverk")
    krigens_varighet: Series[str] = codebook_field("w1_csv", "krigens_varighet")
    retur: Series[str] = codebook_field("w1_csv", "retur")
    arbeid: Series[str] = codebook_field("w1_csv", "arbeid")
    email_hash: Series[str] = email_hash_field()
    email_bloom: Series[str] = email_bloom_field()
    samtykke: Series[str] = codebook_field("w1_csv", "samtykke")


class W2ResponsesXlsx(RawTextModel):
    """w2_2023 `responses.xlsx` (English variable names, some answers as text labels)."""

    RespondentID: Series[str] = codebook_field("w2_xlsx", "RespondentID", str_matches=W2_RESPONSE_ID)
    EndDate: Series[str] = codebook_field("w2_xlsx", "EndDate")
    Finished: Series[str] = codebook_field("w2_xlsx", "Finished")
    Token: Series[str] = codebook_field("w2_xlsx", "Token")
    Language: Series[str] = codebook_field("w2_xlsx", "Language")
    Gender: Series[str] = codebook_field("w2_xlsx", "Gender")
    BirthYear: Series[str] = codebook_field("w2_xlsx", "BirthYear")
    Region: Series[str] = codebook_field("w2_xlsx", "Region")
    ArrivalMonth: Series[str] = codebook_field("w2_xlsx", "ArrivalMonth")
    CurrentCountry: Series[str] = codebook_field("w2_xlsx", "CurrentCountry")
    Municipality: Series[str] = codebook_field("w2_xlsx", "Municipality")
    LeftMonth: Series[str] = codebook_field("w2_xlsx", "LeftMonth")
    FuturePlans: Series[str] = codebook_field("w2_xlsx", "FuturePlans")
    Reason_1: Series[str] = codebook_field("w2_xlsx", "Reason_1")
    Reason_2: Series[str] = codebook_field("w2_xlsx", "Reason_2")
    Reason_3: Series[str] = codebook_field("w2_xlsx", "Reason_3")
    Reason_4: Series[str] = codebook_field("w2_xlsx", "Reason_4")
    Reason_5: Series[str] = codebook_field("w2_xlsx", "Reason_5")
    Reason_6: Series[str] = codebook_field("w2_xlsx", "Reason_6")
    Reason_7: Series[str] = codebook_field("w2_xlsx", "Reason_7")
    Reason_8: Series[str] = codebook_field("w2_xlsx", "Reason_8")
    Reason_9: Series[str] = codebook_field("w2_xlsx", "Reason_9")
    Reason_10: Series[str] = codebook_field("w2_xlsx", "Reason_10")
    Reason_11: Series[str] = codebook_field("w2_xlsx", "Reason_11")
    Reason_12: Series[str] = codebook_field("w2_xlsx", "Reason_12")
    Reason_13: Series[str] = codebook_field("w2_xlsx", "Reason_13")
    Reason_14: Series[str] = codebook_field("w2_xlsx", "Reason_14")
    ChildrenInNorway: Series[str] = codebook_field("w2_xlsx", "ChildrenInNorway")
    PartnerLocation: Series[str] = codebook_field("w2_xlsx", "PartnerLocation")
    Working: Series[str] = codebook_field("w2_xlsx", "Working")
    email_hash: Series[str] = email_hash_field()
    email_bloom: Series[str] = email_bloom_field()
    FollowUpConsent: Series[str] = codebook_field("w2_xlsx", "FollowUpConsent")


class W3ResponsesSav(RawTextModel):
    """w3_2024 `responses.sav` (SPSS numeric codes; dates as text)."""

    id: Series[str] = codebook_field("w3_sav", "id")
    enddate: Series[str] = codebook_field("w3_sav", "enddate")
    finished: Series[str] = codebook_field("w3_sav", "finished")
    token: Series[str] = codebook_field("w3_sav", "token")
    lang: Series[str] = codebook_field("w3_sav", "lang")
    sex: Series[str] = codebook_field("w3_sav", "sex")
    byear: Series[str] = codebook_field("w3_sav", "byear")
    oblast: Series[str] = codebook_field("w3_sav", "oblast")
    arrival: Series[str] = codebook_field("w3_sav", "arrival")
    country_now: Series[str] = codebook_field("w3_sav", "country_now")
    kommunenr: Series[str] = codebook_field("w3_sav", "kommunenr")
    left: Series[str] = codebook_field("w3_sav", "left")
    plans: Series[str] = codebook_field("w3_sav", "plans")
    r_home: Series[str] = codebook_field("w3_sav", "r_home")
    r_longing: Series[str] = codebook_field("w3_sav", "r_longing")
    r_family: Series[str] = codebook_field("w3_sav", "r_family")
    r_competence: Series[str] = codebook_field("w3_sav", "r_competence")
    r_safer: Series[str] = codebook_field("w3_sav", "r_safer")
    r_education: Series[str] = codebook_field("w3_sav", "r_education")
    r_nowork: Series[str] = codebook_field("w3_sav", "r_nowork")
    r_support: Series[str] = codebook_field("w3_sav", "r_support")
    r_expectations: Series[str] = codebook_field("w3_sav", "r_expectations")
    r_temporary: Series[str] = codebook_field("w3_sav", "r_temporary")
    r_other: Series[str] = codebook_field("w3_sav", "r_other")
    r_language: Series[str] = codebook_field("w3_sav", "r_language")
    r_opportunities: Series[str] = codebook_field("w3_sav", "r_opportunities")
    r_neverplanned: Series[str] = codebook_field("w3_sav", "r_neverplanned")
    kids_no: Series[str] = codebook_field("w3_sav", "kids_no")
    partner_loc: Series[str] = codebook_field("w3_sav", "partner_loc")
    employed: Series[str] = codebook_field("w3_sav", "employed")
    email_hash: Series[str] = email_hash_field()
    email_bloom: Series[str] = email_bloom_field()
    consent: Series[str] = codebook_field("w3_sav", "consent")


class SurveyInvitations(RawTextModel):
    """`invitations.csv` of a wave (`token,email,invited_at,source_wave`), e-mail already pseudonymised."""

    token: Series[str] = pa.Field(str_matches=r"^\s*\S{12}\s*$", unique=True)
    email_hash: Series[str] = email_hash_field(nullable=False)
    email_bloom: Series[str] = email_bloom_field(nullable=False)
    invited_at: Series[str] = pa.Field(str_matches=INVITED_AT)
    source_wave: Series[str] = pa.Field(str_matches=WAVE_ID)


LAYOUT_MODELS: dict[str, type[RawTextModel]] = {
    "w1_csv": W1ResponsesCsv,
    "w2_xlsx": W2ResponsesXlsx,
    "w3_sav": W3ResponsesSav,
}
INVITATION_COLUMNS = ["token", "email", "invited_at", "source_wave"]


def validated_columns(layout: str, codebook: Codebook | None = None) -> list[str]:
    """The layout's columns as validated: the codebook's source variables, e-mail as hash + Bloom."""
    codebook = codebook or default_codebook()
    columns = []
    for row in codebook.layout_variables(layout).to_dict("records"):
        columns += [HASH_COLUMN, BLOOM_COLUMN] if row["concept"] == EMAIL_CONCEPT else [row["source_variable"]]
    return columns


def schema_for_layout(layout: str, codebook: Codebook | None = None) -> pa.DataFrameSchema:
    """A schema built from the codebook alone, for any layout (including one added only in the seeds)."""
    codebook = codebook or default_codebook()
    columns: dict[str, pa.Column] = {}
    for row in codebook.layout_variables(layout).to_dict("records"):
        if row["concept"] == EMAIL_CONCEPT:
            columns.update(email_columns())
        else:
            columns[row["source_variable"]] = column_from_codebook(codebook, layout, row)
    return pa.DataFrameSchema(columns, strict=True, coerce=True, name=f"{layout} (from codebook)")


def layout_schema(layout: str, codebook: Codebook | None = None) -> pa.DataFrameSchema:
    """The layout's DataFrameModel schema when there is one (and the project codebook is used), else the codebook's."""
    if layout in LAYOUT_MODELS and (codebook is None or codebook is default_codebook()):
        return LAYOUT_MODELS[layout].to_schema()
    return schema_for_layout(layout, codebook)


def schema_for_wave(layout: str, field_start: str | None, codebook: Codebook | None = None) -> pa.DataFrameSchema:
    """The layout's schema for one wave: submissions before `field_start` (test submissions) fail, and a
    repeated response id fails on every occurrence after the first. `field_start=None` (a wave not yet
    in survey_waves.csv) applies no field-period filter."""
    codebook = codebook or default_codebook()
    schema = layout_schema(layout, codebook)
    id_column = codebook.variable_of_concept(layout, RESPONSE_ID_CONCEPT)
    time_column = codebook.variable_of_concept(layout, SUBMITTED_AT_CONCEPT)
    if id_column:
        schema = schema.update_column(id_column, report_duplicates="exclude_first")
    if time_column and field_start:
        checks = [c for c in schema.columns[time_column].checks if c.name != "timestamp_text"]
        checks.append(pa.Check.timestamp_text(not_before=str(field_start)))
        schema = schema.update_column(time_column, checks=checks)
    return schema


def invitations_schema() -> pa.DataFrameSchema:
    """Invitations schema; a repeated token fails on every occurrence after the first."""
    return SurveyInvitations.to_schema().update_column("token", report_duplicates="exclude_first")
