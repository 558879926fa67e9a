"""pandera schemas of the survey layouts, built from the codebook seeds at run time.

Every layout's schema comes from the codebook alone (`schema_for_layout`), so a new layout is new seed
rows and no code: code lists from codebook_values.csv, ranges from min_value/max_value (offsets from the
wave's year where `bounds_relative_to` says so), formats from value_type, the earliest plausible month
from `earliest_month`. `cross_cell_failures` adds the checks between cells of one row (leaving month not
before arrival, no month after the submission; no answer to a question asked only in Norway from a
leaver). `SurveyInvitations` is the fixed invitations file.
The e-mail column is validated as `email_hash`/`email_bloom`: validation never sees a clear address.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from panel_ingest.codebook import Codebook, default_codebook
from panel_ingest.pseudonymise import BLOOM_COLUMN, HASH_COLUMN
from validation.schemas.base import RawTextModel, Text
from validation.schemas.checks import month_numbers
from validation.schemas.codebook_fields import column_from_codebook, email_bloom_field, email_columns, email_hash_field

INVITED_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$"
WAVE_ID = r"^w[0-9]+_[0-9]{4}$"
RESPONSE_ID_CONCEPT = "response_id"
SUBMITTED_AT_CONCEPT = "submitted_at"
EMAIL_CONCEPT = "email"


class SurveyInvitations(RawTextModel):
    """`invitations.csv` of a wave (`token,email,invited_at,source_wave`), e-mail already pseudonymised."""

    token: Series[Text] = pa.Field(str_matches=r"^\s*\S{12}\s*$", unique=True)
    email_hash: Series[Text] = email_hash_field(nullable=False)
    email_bloom: Series[Text] = email_bloom_field(nullable=False)
    invited_at: Series[Text] = pa.Field(str_matches=INVITED_AT)
    source_wave: Series[Text] = pa.Field(str_matches=WAVE_ID)


INVITATION_COLUMNS = ["token", "email", "invited_at", "source_wave"]


def validated_columns(layout: str, codebook: Codebook | None = None) -> list[str]:
    """The layout's columns as validated: the codebook's source variables, e-mail as hash + Bloom."""
    codebook = codebook or default_codebook()
    columns = []
    for row in codebook.layout_variables(layout).to_dict("records"):
        columns += [HASH_COLUMN, BLOOM_COLUMN] if row["concept"] == EMAIL_CONCEPT else [row["source_variable"]]
    return columns


def schema_for_layout(layout: str, codebook: Codebook | None = None, wave_year: int | None = None
                      ) -> pa.DataFrameSchema:
    """A schema built from the codebook alone, for any layout; bounds relative to the wave year need `wave_year`."""
    codebook = codebook or default_codebook()
    columns: dict[str, pa.Column] = {}
    for row in codebook.layout_variables(layout).to_dict("records"):
        if row["concept"] == EMAIL_CONCEPT:
            columns.update(email_columns())
        else:
            columns[row["source_variable"]] = column_from_codebook(codebook, layout, row, wave_year)
    return pa.DataFrameSchema(columns, strict=True, coerce=True, name=f"layout {layout} (from codebook)")


def schema_for_wave(layout: str, wave_year: int, field_start: str | None, codebook: Codebook | None = None
                    ) -> pa.DataFrameSchema:
    """The layout's schema for one wave: bounds follow the wave's year, submissions before `field_start`
    (test submissions) fail, and a repeated response id fails on every occurrence after the first.
    `field_start=None` applies no field-period filter."""
    codebook = codebook or default_codebook()
    schema = schema_for_layout(layout, codebook, wave_year)
    id_column = codebook.variable_of_concept(layout, RESPONSE_ID_CONCEPT)
    time_column = codebook.variable_of_concept(layout, SUBMITTED_AT_CONCEPT)
    if id_column:
        schema = schema.update_column(id_column, report_duplicates="exclude_first")
    if time_column and field_start:
        checks = list(schema.columns[time_column].checks) + [pa.Check.submitted_from(day=str(field_start))]
        schema = schema.update_column(time_column, checks=checks)
    return schema


def structural_columns(layout: str, codebook: Codebook | None = None) -> set[str]:
    """Columns whose failure keeps the whole row out: the layout's required variables (id, submission
    time, completion status). Any other invalid cell is only set missing."""
    return set((codebook or default_codebook()).required_variables(layout))


def month_order_failures(frame: pd.DataFrame, layout: str, codebook: Codebook | None = None) -> pd.DataFrame:
    """Cells whose month is after the month of `not_after_concept` or before that of `not_before_concept`
    (same row), from the codebook: e.g. an arrival after the submission, a leaving month before the
    arrival month. Returns `row_number, column_name, check`, one row per failing cell: only the cell
    being checked is blamed. `not_after` is judged first, so a month already failing it (an arrival
    after the submission) is not then used to judge another cell."""
    codebook = codebook or default_codebook()
    variables = codebook.layout_variables(layout).to_dict("records")
    by_concept = {r["concept"]: r for r in variables}
    working = frame.copy()
    failures = []
    for bound in ("not_after", "not_before"):
        for row in variables:
            column, concept = row["source_variable"], row.get(f"{bound}_concept")
            other = by_concept.get(concept) if concept else None
            if column not in working.columns or other is None or other["source_variable"] not in working.columns:
                continue
            months = month_numbers(working[column], row["value_type"])
            limit = month_numbers(working[other["source_variable"]], other["value_type"])
            bad = ((months < limit) if bound == "not_before" else (months > limit)).fillna(False).to_numpy(dtype=bool)
            for number in working.index[bad]:
                failures.append({"row_number": int(number), "column_name": column, "check": f"{bound}:{concept}"})
            working.loc[working.index[bad], column] = None
    return pd.DataFrame(failures, columns=["row_number", "column_name", "check"])


# Asked only of those living in Norway (the questionnaire routes leavers past them; staging also ignores them).
ASKED_IN_NORWAY_ONLY = ("aspiration",)
COUNTRY_CONCEPT, IN_NORWAY = "country_now", "norway"


def routing_failures(frame: pd.DataFrame, layout: str, codebook: Codebook | None = None) -> pd.DataFrame:
    """Answers to a question asked only in Norway from a row whose current country is known and not Norway
    (a leaver with aspiration answers): one row per such cell, `check` `asked_in_norway_only:country_now`."""
    codebook = codebook or default_codebook()
    country = codebook.variable_of_concept(layout, COUNTRY_CONCEPT)
    failures = []
    if country is not None and country in frame.columns:
        values = codebook.values[(codebook.values["layout"] == layout) & (codebook.values["concept"] == COUNTRY_CONCEPT)]
        norway = set(values.loc[values["concept_value"] == IN_NORWAY, "source_value"])
        abroad = frame[country].notna() & ~frame[country].isin(norway)
        for concept in ASKED_IN_NORWAY_ONLY:
            column = codebook.variable_of_concept(layout, concept)
            if column is None or column not in frame.columns:
                continue
            for number in frame.index[abroad & frame[column].notna()]:
                failures.append({"row_number": int(number), "column_name": column,
                                 "check": f"asked_in_norway_only:{COUNTRY_CONCEPT}"})
    return pd.DataFrame(failures, columns=["row_number", "column_name", "check"])


def cross_cell_failures(frame: pd.DataFrame, layout: str, codebook: Codebook | None = None) -> pd.DataFrame:
    """Every cell judged against another cell of its row: month order, then routing."""
    return pd.concat([month_order_failures(frame, layout, codebook), routing_failures(frame, layout, codebook)],
                     ignore_index=True)


def invitations_schema() -> pa.DataFrameSchema:
    """Invitations schema; a repeated token fails on every occurrence after the first."""
    return SurveyInvitations.to_schema().update_column("token", report_duplicates="exclude_first")
