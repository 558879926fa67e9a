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


MONTH_FORMATS = {"month_yyyy_mm": "%Y-%m", "month_mm_yyyy": "%m/%Y", "date": "%Y-%m-%d"}


def month_numbers(series: pd.Series, value_type: str) -> pd.Series:
    """Months as `year * 12 + month - 1` (float, NaN where the text does not parse) for a month value type.
    A `timestamp` value gives the month of its date."""
    text = series.astype(object).where(series.notna(), None).astype(str)
    if value_type == "timestamp":
        parsed = pd.to_datetime(text.where(text.str.match(TIMESTAMP_TEXT.pattern)), format=TIMESTAMP_FORMAT,
                                errors="coerce")
    else:
        parsed = pd.to_datetime(text, format=MONTH_FORMATS[value_type], errors="coerce")
    return parsed.dt.year * 12 + parsed.dt.month - 1


def _month_strategy(pandera_dtype, strategy=None, *, value_type, earliest):
    year, month = (int(part) for part in earliest.split("-"))
    months = st.integers(min_value=year * 12 + month - 1, max_value=STRATEGY_MAX.year * 12 + 11)
    text = months.map(lambda m: date(m // 12, m % 12 + 1, 1).strftime(MONTH_FORMATS[value_type]))
    if strategy is None:
        return text
    return strategy.filter(lambda v: month_from(pd.Series([v]), value_type=value_type, earliest=earliest).all())


@extensions.register_check_method(statistics=["value_type", "earliest"], strategy=_month_strategy)
def month_from(series: pd.Series, *, value_type, earliest) -> pd.Series:
    """A month not before `earliest` (`YYYY-MM`); text that does not parse is left to the format check."""
    year, month = (int(part) for part in earliest.split("-"))
    months = month_numbers(series, value_type)
    return months.isna() | (months >= year * 12 + month - 1)


def _day_strategy(pandera_dtype, strategy=None, *, day):
    start = datetime.fromisoformat(day)
    if strategy is None:
        return st.datetimes(min_value=start, max_value=STRATEGY_MAX).map(lambda d: d.strftime(TIMESTAMP_FORMAT))
    return strategy.filter(lambda v: str(v) >= start.strftime(TIMESTAMP_FORMAT))


@extensions.register_check_method(statistics=["day"], strategy=_day_strategy)
def submitted_from(series: pd.Series, *, day) -> pd.Series:
    """A date-time on or after `day` (the field start); text that does not parse is left to `timestamp_text`."""
    parsed = _parse_timestamps(series)
    return parsed.isna() | (parsed >= pd.Timestamp(day))


def _name_key(text) -> str | None:
    from panel_ingest.municipality_names import normalise_label as municipality_key
    return municipality_key(text)


def _known_name_strategy(pandera_dtype, strategy=None, *, keys):
    if strategy is None:
        return st.sampled_from(sorted(keys))
    allowed = set(keys)
    return strategy.filter(lambda v: _name_key(v) in allowed)


@extensions.register_check_method(statistics=["keys"], strategy=_known_name_strategy)
def name_known(series: pd.Series, *, keys) -> pd.Series:
    """A name whose matching key (`normalise_label`: lower case, no spaces) is one of `keys`."""
    allowed = set(keys)
    return series.map(lambda v: _name_key(v) in allowed)


def _unambiguous_strategy(pandera_dtype, strategy=None, *, ambiguous_keys):
    excluded = set(ambiguous_keys)
    if strategy is None:
        return st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3).filter(lambda v: _name_key(v) not in excluded)
    return strategy.filter(lambda v: _name_key(v) not in excluded)


@extensions.register_check_method(statistics=["ambiguous_keys"], strategy=_unambiguous_strategy)
def name_unambiguous(series: pd.Series, *, ambiguous_keys) -> pd.Series:
    """A name whose matching key is not one that fits several municipalities (`Våler`, `Herøy`)."""
    excluded = set(ambiguous_keys)
    return series.map(lambda v: _name_key(v) not in excluded)


def _padded_code_strategy(pandera_dtype, strategy=None, *, codes):
    if strategy is None:
        return st.sampled_from(sorted(codes))
    allowed = set(codes)
    return strategy.filter(lambda v: str(v).strip().zfill(4) in allowed)


@extensions.register_check_method(statistics=["codes"], strategy=_padded_code_strategy)
def code_in_padded(series: pd.Series, *, codes) -> pd.Series:
    """One of `codes` (4-digit) once left-padded with zeros (`301` from a numeric SPSS variable is `0301`)."""
    allowed = set(codes)
    return series.map(lambda v: str(v).strip().isdigit() and str(v).strip().zfill(4) in allowed)
