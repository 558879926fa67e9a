"""run._insert writes a frame as it is: every kind of missing value pandas holds in an object or float
column (None, NaN, NaT, pd.NA) arrives as NULL, and each row carries the run id."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from linkage.run import _insert


def test_missing_values_of_any_kind_become_null_and_rows_get_the_run_id():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA linkage")
    con.execute("CREATE TABLE linkage.rows (response_id VARCHAR, duplicate_of VARCHAR, match_probability DOUBLE, "
                "is_linked BOOLEAN, linkage_run_id VARCHAR NOT NULL)")
    frame = pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4", "r5"],
        "duplicate_of": pd.Series(["r0", np.nan, None, pd.NaT, pd.NA], dtype=object),
        "match_probability": pd.Series([0.9, None, np.nan, 0.1, pd.NA], dtype=object),
        "is_linked": [True, False, True, False, True],
    })
    _insert(con, "rows", frame, "run-1")
    assert con.execute("SELECT * FROM linkage.rows ORDER BY response_id").fetchall() == [
        ("r1", "r0", 0.9, True, "run-1"), ("r2", None, None, False, "run-1"), ("r3", None, None, True, "run-1"),
        ("r4", None, 0.1, False, "run-1"), ("r5", None, None, True, "run-1")]
    assert list(frame.columns) == ["response_id", "duplicate_of", "match_probability", "is_linked"]  # unchanged


def test_an_empty_frame_writes_nothing():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA linkage")
    con.execute("CREATE TABLE linkage.rows (response_id VARCHAR, linkage_run_id VARCHAR NOT NULL)")
    _insert(con, "rows", pd.DataFrame({"response_id": pd.Series(dtype=object)}), "run-1")
    assert con.execute("SELECT count(*) FROM linkage.rows").fetchone() == (0,)
