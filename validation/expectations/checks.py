"""Short constructors for the Great Expectations expectations the mart suites use.

Every expectation gets a `description` in plain words: it is what Data Docs and the failure
messages show to a reader who does not know GX's expectation names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column, Condition


def matching(**values: str) -> Condition:
    """Row condition: every named column equals its value (e.g. scale="fine")."""
    conditions = [Column(column) == value for column, value in values.items()]
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition
    return combined


def non_empty(table: str) -> gxe.Expectation:
    """The mart has at least one row."""
    return gxe.ExpectTableRowCountToBeBetween(min_value=1, description=f"marts.{table} has at least one row")


def not_null(columns: Iterable[str], table: str) -> list[gxe.Expectation]:
    """Each column is filled in every row."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is filled in every row of marts.{table}")
        for column in columns
    ]


def unique_key(columns: Sequence[str], table: str) -> gxe.Expectation:
    """The columns together identify a row."""
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0], description=f"one row per {columns[0]} in marts.{table}")
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=list(columns), description=f"one row per ({', '.join(columns)}) in marts.{table}"
    )


def in_set(column: str, values: Iterable[str], why: str, when: Condition | None = None) -> gxe.Expectation:
    """Values (optionally only in rows matching `when`) come from a vocabulary."""
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(values), row_condition=when, description=why)


def between(
    column: str, why: str, lower: float | None = None, upper: float | None = None, when: Condition | None = None
) -> gxe.Expectation:
    """Values lie within [lower, upper]; either bound may be open (None)."""
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=lower, max_value=upper, row_condition=when, description=why
    )


def positive(column: str, why: str, when: Condition | None = None) -> gxe.Expectation:
    """Values are strictly above zero."""
    return gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=0, strict_min=True, row_condition=when, description=why
    )


def close_to_one(column: str, tolerance: float, why: str) -> gxe.Expectation:
    """Values (e.g. per-group share sums) equal 1 within ±tolerance."""
    return between(column, why, 1 - tolerance, 1 + tolerance)


def at_least(column_a: str, column_b: str, why: str) -> gxe.Expectation:
    """column_a >= column_b in every row."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=column_a, column_B=column_b, or_equal=True, description=why)


def greater(column_a: str, column_b: str, why: str) -> gxe.Expectation:
    """column_a > column_b in every row."""
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=column_a, column_B=column_b, or_equal=False, description=why)


def equal(column_a: str, column_b: str, why: str) -> gxe.Expectation:
    """column_a = column_b in every row (an accounting identity)."""
    return gxe.ExpectColumnPairValuesToBeEqual(column_A=column_a, column_B=column_b, description=why)


def non_decreasing(column: str, why: str) -> gxe.Expectation:
    """Values never fall from one row to the next (frame ordered by its key)."""
    return gxe.ExpectColumnValuesToBeIncreasing(column=column, strictly=False, description=why)


def contains(column: str, values: Iterable[str], why: str) -> gxe.Expectation:
    """The column's distinct values include all of `values`."""
    return gxe.ExpectColumnDistinctValuesToContainSet(column=column, value_set=sorted(values), description=why)


def within_tolerance_of_previous(what: str, tolerance: float) -> gxe.Expectation:
    """The ratio of a count to the previous published run's count stays within ±tolerance."""
    return between(
        "ratio_to_previous",
        f"{what} within ±{tolerance:.0%} of the previous published run",
        1 - tolerance,
        1 + tolerance,
    )
