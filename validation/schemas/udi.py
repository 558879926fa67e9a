"""pandera schemas of the three UDI tables (raw column names, numbers as delivered text)."""
from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from panel_ingest.codebook import Codebook, default_codebook
from validation.schemas.base import RawTextModel, Text

# A count as UDI prints it: digits with a space or no-break space as thousands separator, or `-` (suppressed).
UDI_NUMBER = r"^([0-9]{1,3}([ \u00a0][0-9]{3})+|[0-9]+|-)$"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Des"]
SEXES = ["Kvinner", "Menn"]
AGE_GROUPS = ["0-5", "6-10", "11-17", "18-34", "35-49", "50-66", "67+"]
TEXT = r"^\S.*$"


def _all_county_names() -> list[str]:
    return sorted(set(default_codebook().counties["fylke_name"]))


def number_field() -> pa.Field:
    return pa.Field(nullable=True, str_matches=UDI_NUMBER)


class UdiApplications(RawTextModel):
    """`soknader_<YYYY>.csv`: applications by citizenship and month (months not yet published blank)."""

    statsborgerskap: Series[Text] = pa.Field(str_matches=TEXT, unique=True)
    jan: Series[Text] = number_field()
    feb: Series[Text] = number_field()
    mar: Series[Text] = number_field()
    apr: Series[Text] = number_field()
    mai: Series[Text] = number_field()
    jun: Series[Text] = number_field()
    jul: Series[Text] = number_field()
    aug: Series[Text] = number_field()
    sep: Series[Text] = number_field()
    okt: Series[Text] = number_field()
    nov: Series[Text] = number_field()
    des: Series[Text] = number_field()
    total: Series[Text] = number_field()


class UdiDecisions(RawTextModel):
    """`vedtak_<YYYY>.csv`: decisions by citizenship and month."""

    statsborgerskap: Series[Text] = pa.Field(str_matches=TEXT)
    maaned: Series[Text] = pa.Field(isin=MONTHS)
    innvilget: Series[Text] = number_field()
    avslag: Series[Text] = number_field()
    henlagt: Series[Text] = number_field()

    class Config:
        unique = ["statsborgerskap", "maaned"]


class UdiValidPermits(RawTextModel):
    """`gyldige_<YYYY-MM-DD>.csv`: valid permits by county, sex and age group on the snapshot date.

    The class accepts any county name in ref_counties; `permits_schema(snapshot_date)` narrows it to the
    counties valid on that date (11 until 2023, 15 from 2024)."""

    fylke: Series[Text] = pa.Field(isin=_all_county_names())
    kjonn: Series[Text] = pa.Field(isin=SEXES)
    aldersgruppe: Series[Text] = pa.Field(isin=AGE_GROUPS)
    antall: Series[Text] = number_field()

    class Config:
        unique = ["fylke", "kjonn", "aldersgruppe"]


def _exclude_first_duplicates(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    schema.report_duplicates = "exclude_first"
    return schema


def applications_schema() -> pa.DataFrameSchema:
    return UdiApplications.to_schema().update_column("statsborgerskap", report_duplicates="exclude_first")


def decisions_schema() -> pa.DataFrameSchema:
    return _exclude_first_duplicates(UdiDecisions.to_schema())


def permits_schema(snapshot_date: str, codebook: Codebook | None = None) -> pa.DataFrameSchema:
    """Valid-permit schema for one snapshot: `fylke` must be a county valid on `snapshot_date`."""
    counties = (codebook or default_codebook()).counties_valid_on(str(snapshot_date))
    schema = UdiValidPermits.to_schema().update_column("fylke", checks=[pa.Check.isin(counties)])
    return _exclude_first_duplicates(schema)
