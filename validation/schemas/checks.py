"""Custom pandera checks for raw text cells, registered once with hypothesis strategies.

Raw cells are text (None = blank); pandera skips nulls (`ignore_na`), so every check here only judges
the values that were given. Each check has a strategy so `schema.strategy()` can generate valid rows.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import pandas as pd
import pandera.extensions as extensions
from hypothesis import strategies as st

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
INTEGER_TEXT = re.compile(r"^-?[0-9]+$")
TIMESTAMP_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$")
DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# The generator and any real export stay within these years; wide enough for every wave to come.
STRATEGY_MIN = datetime(2020, 1, 1)
STRATEGY_MAX = datetime(2035, 12, 31)


def normalise_label(text: str) -> str:
    """Case- and space-insensitive form of a label (oblast names arrive with any case and spacing)."""
    return re.sub(r"\s+", "", str(text)).casefold()


def _parse_timestamps(series: pd.Series) -> pd.Series:
    text = series.astype(str)
    shaped = text.str.match(TIMESTAMP_TEXT.pattern)
    parsed = pd.to_datetime(text.where(shaped), format=TIMESTAMP_FORMAT, errors="coerce")
    return parsed


def _integer_strategy(pandera_dtype, strategy=None, *, min_value, max_value):
    if strategy is None:
        return st.integers(min_value=int(min_value), max_value=int(max_value)).map(str)
    return strategy.filter(lambda v: INTEGER_TEXT.match(str(v)) and int(min_value) <= int(v) <= int(max_value))


@extensions.register_check_method(statistics=["min_value", "max_value"], strategy=_integer_strategy)
def integer_text_between(series: pd.Series, *, min_value, max_value) -> pd.Series:
    """Integer text (no decimals) within [min_value, max_value]."""
    text = series.astype(str)
    is_integer = text.str.match(INTEGER_TEXT.pattern)
    numbers = pd.to_numeric(text.where(is_integer), errors="coerce")
    return is_integer & numbers.between(int(min_value), int(max_value))


def _timestamp_strategy(pandera_dtype, strategy=None, *, not_before=None):
    start = datetime.fromisoformat(not_before) if not_before else STRATEGY_MIN
    if strategy is None:
        return st.datetimes(min_value=start, max_value=STRATEGY_MAX).map(lambda d: d.strftime(TIMESTAMP_FORMAT))
    return strategy.filter(lambda v: bool(TIMESTAMP_TEXT.match(str(v))) and str(v) >= start.strftime(TIMESTAMP_FORMAT))


@extensions.register_check_method(statistics=["not_before"], strategy=_timestamp_strategy)
def timestamp_text(series: pd.Series, *, not_before=None) -> pd.Series:
    """`YYYY-MM-DD HH:MM:SS` that is a real date-time, and not before `not_before` (ISO date) if given."""
    parsed = _parse_timestamps(series)
    ok = parsed.notna()
    if not_before:
        ok &= parsed >= pd.Timestamp(not_before)
    return ok


def _date_strategy(pandera_dtype, strategy=None, *, first_of_month=False):
    dates = st.dates(min_value=STRATEGY_MIN.date(), max_value=STRATEGY_MAX.date())
    if first_of_month:
        dates = dates.map(lambda d: d.replace(day=1))
    if strategy is None:
        return dates.map(date.isoformat)
    return strategy.filter(lambda v: bool(DATE_TEXT.match(str(v))))


@extensions.register_check_method(statistics=["first_of_month"], strategy=_date_strategy)
def date_text(series: pd.Series, *, first_of_month=False) -> pd.Series:
    """`YYYY-MM-DD` that is a real calendar date (and the first of a month if asked)."""
    text = series.astype(str)
    shaped = text.str.match(DATE_TEXT.pattern)
    parsed = pd.to_datetime(text.where(shaped), format="%Y-%m-%d", errors="coerce")
    ok = parsed.notna()
    if first_of_month:
        ok &= parsed.dt.day == 1
    return ok


def _label_strategy(pandera_dtype, strategy=None, *, labels):
    if strategy is None:
        return st.sampled_from(sorted(labels))
    allowed = {normalise_label(label) for label in labels}
    return strategy.filter(lambda v: normalise_label(v) in allowed)


@extensions.register_check_method(statistics=["labels"], strategy=_label_strategy)
def label_in(series: pd.Series, *, labels) -> pd.Series:
    """One of `labels`, ignoring case and spacing."""
    allowed = {normalise_label(label) for label in labels}
    return series.map(lambda v: normalise_label(v) in allowed)
