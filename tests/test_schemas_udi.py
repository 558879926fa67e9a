"""UDI schemas: number formats, sexes, age groups, months and counties valid on the snapshot date."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from panel_ingest.quarantine import validate_rows
from validation.schemas import UdiApplications, applications_schema, decisions_schema, permits_schema


def frame_of(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")
    return frame.where(frame.notna(), None)


def failing_cells(frame, schema) -> list[tuple[int, str]]:
    result = validate_rows(frame, schema, "udi/x.csv")
    return sorted(set(zip(result.failures["row_number"], result.failures["column_name"])))


def permit(fylke="Oslo", kjonn="Kvinner", aldersgruppe="18-34", antall="1 639") -> dict:
    return {"fylke": fylke, "kjonn": kjonn, "aldersgruppe": aldersgruppe, "antall": antall}


@pytest.mark.parametrize("antall", ["1 639", "1\u00a0639", "12", "-", None, "123 456 789"])
def test_numbers_as_udi_prints_them_pass(antall):
    assert failing_cells(frame_of([permit(antall=antall)]), permits_schema("2024-02-05")) == []


@pytest.mark.parametrize("antall", ["1,639", "1 63", "12.5", "n/a", "--", "-5"])
def test_malformed_numbers_are_rejected(antall):
    assert failing_cells(frame_of([permit(antall=antall)]), permits_schema("2024-02-05")) == [(1, "antall")]


def test_county_must_be_valid_on_the_snapshot_date():
    rows = [permit("Viken"), permit("Akershus"), permit("Oslo")]
    assert failing_cells(frame_of(rows), permits_schema("2023-12-05")) == [(2, "fylke")]
    assert failing_cells(frame_of(rows), permits_schema("2024-01-05")) == [(1, "fylke")]
    reason = validate_rows(frame_of(rows), permits_schema("2024-01-05"), "x").failures["reason"].iloc[0]
    assert "Viken" not in reason and "'Akershus'" in reason  # what was expected, never the cell


def test_sex_age_group_and_repeated_cells():
    rows = [permit(), permit(kjonn="Kvinne"), permit(aldersgruppe="18-35"), permit()]
    assert failing_cells(frame_of(rows), permits_schema("2024-02-05")) == [(2, "kjonn"), (3, "aldersgruppe"),
                                                                          (4, "aldersgruppe"), (4, "fylke"), (4, "kjonn")]


def test_decision_months_are_jan_to_des():
    rows = [{"statsborgerskap": "Ukraina", "maaned": m, "innvilget": "1 000", "avslag": "-", "henlagt": None}
            for m in ["Jan", "Mai", "Okt", "Des", "May", "jan"]]
    assert failing_cells(frame_of(rows), decisions_schema()) == [(5, "maaned"), (6, "maaned")]


def test_applications_need_a_citizenship_and_well_formed_months():
    empty = {m: None for m in ["feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des"]}
    rows = [{"statsborgerskap": "Ukraina", "jan": "1 639", **empty, "total": "1 639"},
            {"statsborgerskap": None, "jan": "5", **empty, "total": "5"},
            {"statsborgerskap": "Russland", "jan": "1.5", **empty, "total": "1"}]
    assert failing_cells(frame_of(rows), applications_schema()) == [(2, "statsborgerskap"), (3, "jan")]


MONTHS = ["jan", "feb", "mar"]


# pandera also re-applies custom checks as a DataFrame-level filter (values already pass): not a problem.
@pytest.mark.filterwarnings("ignore:Column check doesn't have a defined strategy")
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(UdiApplications.to_schema().select_columns(MONTHS).strategy(size=3))
def test_generated_udi_numbers_pass_and_a_decimal_comma_is_caught(frame):
    frame = frame.astype(object).where(frame.notna(), None)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")
    schema = applications_schema().select_columns(MONTHS)
    assert failing_cells(frame, schema) == []
    frame.loc[3, "feb"] = "1,5"
    assert failing_cells(frame, schema) == [(3, "feb")]


def test_the_text_type_passes_whole_text_columns_and_still_names_the_cell_that_is_not_text():
    import pandas as pd
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

    from validation.schemas.base import Text

    schema = pa.DataFrameSchema({"a": pa.Column(Text(), nullable=True)})
    assert str(Text()) == "str"  # reported as pandera's own str type
    assert schema.validate(pd.DataFrame({"a": ["x", None, "y"]}, dtype=object)).shape == (3, 1)
    assert schema.validate(pd.DataFrame({"a": [None, None]}, dtype=object)).shape == (2, 1)  # all missing: no text
    with pytest.raises(SchemaErrors) as raised:
        schema.validate(pd.DataFrame({"a": ["x", 3, "y"]}, dtype=object), lazy=True)
    cases = raised.value.failure_cases
    assert cases[["index", "column", "check"]].to_dict("records") == [{"index": 1, "column": "a", "check": "dtype('str')"}]
