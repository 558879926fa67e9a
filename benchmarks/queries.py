"""Query time of every README example on a published warehouse: the median of several runs after one warm-up."""
from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import duckdb

README = Path(__file__).resolve().parent.parent / "README.md"
# The same blocks tests/test_readme_examples.py runs.
EXAMPLE_BLOCK = re.compile(r"```sql\n-- example: (\w+)\n(.*?)```", re.S)
REPEATS = 5


def readme_examples(readme: Path = README) -> dict[str, str]:
    return {name: sql for name, sql in EXAMPLE_BLOCK.findall(readme.read_text(encoding="utf-8"))}


def query_times(warehouse: Path, readme: Path = README, repeats: int = REPEATS) -> dict[str, dict]:
    """name -> median and max milliseconds and row count, opening the file read-only as an analyst would."""
    timings = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name, sql in readme_examples(readme).items():
            rows = len(con.execute(sql).fetchall())  # warm-up: the first run also reads the pages from disk
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                con.execute(sql).fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            timings[name] = {"median_ms": round(statistics.median(runs), 2), "max_ms": round(max(runs), 2),
                             "runs": repeats, "rows": rows}
    finally:
        con.close()
    return timings
