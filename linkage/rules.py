"""Deterministic rules shared by the exact and probabilistic steps: compatibility, record choice, ids."""
from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd

# Birth years more than this apart cannot be the same person (allows a one-year slip).
MAX_BIRTH_YEAR_GAP = 1
UNKNOWN_GENDERS = {None, "other"}


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA. Text and integers, most cells, answer without pandas: linkage asks
    millions of times per wave at scale 10."""
    if value is None:
        return True
    if isinstance(value, (str, int)):
        return False
    if isinstance(value, float):  # numpy's float64 too
        return value != value  # NaN is the one float unequal to itself
    if isinstance(value, datetime):  # Timestamps (submission times); NaT is a datetime too
        return value is pd.NaT
    return bool(pd.isna(value))


def attributes_compatible(a: dict, b: dict) -> bool:
    """False when gender or birth year show two different people (e.g. behind one family address).

    Missing values and `other` (also "prefer not to say") never contradict.
    """
    gender_a, gender_b = a.get("gender"), b.get("gender")
    if not is_missing(gender_a) and not is_missing(gender_b):
        if gender_a not in UNKNOWN_GENDERS and gender_b not in UNKNOWN_GENDERS and gender_a != gender_b:
            return False
    year_a, year_b = a.get("birth_year"), b.get("birth_year")
    if not is_missing(year_a) and not is_missing(year_b):
        if abs(int(year_a) - int(year_b)) > MAX_BIRTH_YEAR_GAP:
            return False
    return True


def same_submitter(a: dict, b: dict) -> bool:
    """Two responses of one wave behind one address are one person only if compatible and born in
    the same year: minutes or days apart nobody's birth year changes, but siblings' may differ by one."""
    if not attributes_compatible(a, b):
        return False
    year_a, year_b = a.get("birth_year"), b.get("birth_year")
    return is_missing(year_a) or is_missing(year_b) or int(year_a) == int(year_b)


def record_sort_key(response: dict) -> tuple:
    """Larger key = better response of record: complete first, then latest, then highest id."""
    submitted = response.get("submitted_at")
    return (bool(response.get("is_complete")), "" if is_missing(submitted) else str(submitted),
            str(response["response_id"]))


def person_id_for(wave_id: str, response_id: str) -> str:
    """`P` + first 12 hex digits of SHA-256 of `<wave_id>:<response_id>` of the first record."""
    return "P" + hashlib.sha256(f"{wave_id}:{response_id}".encode()).hexdigest()[:12]
