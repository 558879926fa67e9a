"""Helpers for Dagster metadata."""
from __future__ import annotations


def jsonable(value):
    """Plain JSON for metadata: summaries from linkage and weights may hold dates or numpy numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# Asset metadata: the schema a Python asset writes whole, so a refresh that skips the asset (nothing it
# reads changed) copies that schema from the published warehouse instead (orchestration.unchanged).
WRITES_SCHEMA = "panel/writes_schema"
