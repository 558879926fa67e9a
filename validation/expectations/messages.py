"""Readable failure lines from GX validation results: which check, which column, which rows
(by their keys), observed against expected."""

from __future__ import annotations

import math
from typing import Any

from validation.expectations.frames import CheckFrame

MAX_EXAMPLES = 5


def failure_messages(gx_suite: str, frame: CheckFrame, validation_result: Any) -> list[str]:
    """One line per failed expectation of one validated frame."""
    return [describe_failure(gx_suite, frame, result) for result in validation_result.results if not result.success]


def describe_failure(gx_suite: str, frame: CheckFrame, result: Any) -> str:
    config = result.expectation_config
    kwargs = config.kwargs
    what = config.description or config.type
    columns = involved_columns(kwargs)
    subject = f"{gx_suite}: {what} [column {', '.join(columns)}]" if columns else f"{gx_suite}: {what}"
    expected = expected_text(config.type, kwargs)
    error = exception_message(result.exception_info)
    if error is not None:
        return f"{subject}: could not be evaluated: {error}"
    details = result.result or {}
    if "unexpected_count" in details:
        examples = example_rows(frame, details, columns)
        return (
            f"{subject}: {details['unexpected_count']} of {details.get('element_count', '?')} rows fail "
            f"(expected {expected}); observed {examples}"
        )
    return f"{subject}: observed {format_value(details.get('observed_value'))}, expected {expected}"


def involved_columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def expected_text(expectation_type: str, kwargs: dict) -> str:
    if "value_set" in kwargs:
        return "one of " + ", ".join(map(str, kwargs["value_set"]))
    if "min_value" in kwargs or "max_value" in kwargs:
        return range_text(kwargs.get("min_value"), kwargs.get("max_value"), kwargs.get("strict_min", False))
    if "column_A" in kwargs:
        if expectation_type == "expect_column_pair_values_to_be_equal":
            return f"{kwargs['column_A']} = {kwargs['column_B']}"
        operator = ">=" if kwargs.get("or_equal") else ">"
        return f"{kwargs['column_A']} {operator} {kwargs['column_B']}"
    if expectation_type == "expect_column_values_to_be_increasing":
        return "no decrease from one row to the next"
    if expectation_type in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
        return "each combination only once"
    if expectation_type == "expect_column_values_to_not_be_null":
        return "no NULL"
    return expectation_type


def range_text(lower: Any, upper: Any, strict_min: bool = False) -> str:
    if lower is not None and upper is not None:
        return f"between {format_value(lower)} and {format_value(upper)}"
    if lower is not None:
        return f"{'>' if strict_min else '>='} {format_value(lower)}"
    return f"<= {format_value(upper)}"


def example_rows(frame: CheckFrame, details: dict, columns: list[str]) -> str:
    """The first failing rows, named by their key columns, with the offending values."""
    indices = details.get("partial_unexpected_index_list") or []
    shown = []
    for index in indices[:MAX_EXAMPLES]:
        if index not in frame.data.index:
            continue
        row = frame.data.loc[index]
        keys = ", ".join(f"{key}={format_value(row[key])}" for key in frame.key_columns if key in row.index)
        values = ", ".join(f"{c}={format_value(row[c])}" for c in columns if c not in frame.key_columns)
        shown.append(f"{keys}: {values}" if keys and values else keys or values)
    if not shown:
        shown = [format_value(value) for value in (details.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]]
    remaining = int(details.get("unexpected_count") or 0) - len(shown)
    text = "; ".join(shown) if shown else "no examples available"
    return f"{text}; and {remaining} more" if remaining > 0 else text


def exception_message(info: Any) -> str | None:
    """The first raised exception's message in a GX exception_info (flat or keyed by metric)."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info["raised_exception"] else None
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "unknown error"
    return None


def format_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return "NULL" if math.isnan(value) else f"{value:.10g}"
    if hasattr(value, "item"):  # numpy scalar
        return format_value(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value)
