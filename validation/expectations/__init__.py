"""Great Expectations suites over the marts: what dbt tests express poorly.

Keys, vocabularies, relations and sums are dbt tests beside the models (each check in one place).
Here, per mart: what needs a derived frame (totals per wave, weight means, monotone series, wave
order) as blocking structure checks, and the judgements about the world (counts against the
previous published run, implied departures clearly negative) as warnings that never block.
Data Docs are written as static HTML to `docs_dir` (e.g. `data/data_docs/index.html`).

Great Expectations is slow to import, so it is loaded only when a suite runs; importing this
package (e.g. from Dagster definitions) stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from validation.expectations.outcome import MartSuiteError, SuiteOutcome
from validation.expectations.settings import MART_NAMES, SuiteSettings

__all__ = [
    "MART_NAMES",
    "SUITES",
    "MartSuiteError",
    "SuiteOutcome",
    "SuiteSettings",
    "run_mart_suites",
    "run_suite",
]


def run_mart_suites(
    con: duckdb.DuckDBPyConnection,
    docs_dir: Path,
    previous_db: Path | None = None,
    *,
    settings: SuiteSettings | None = None,
    marts: Iterable[str] | None = None,
) -> list[SuiteOutcome]:
    """Run every mart suite (or those named in `marts`) against the build file `con`; render
    Data Docs into `docs_dir`.

    `previous_db` is the currently published warehouse; when it is None or missing, the
    comparisons with the previous run are skipped and said so in `SuiteOutcome.notes`.
    Failing expectations are reported in the outcomes, never raised; a missing mart table or
    contract column raises MartSuiteError naming it.
    """
    from validation.expectations.runner import run_suites

    names = list(MART_NAMES) if marts is None else list(marts)
    return run_suites(names, con, Path(docs_dir), previous_db, settings)


def run_suite(
    name: str,
    con: duckdb.DuckDBPyConnection,
    docs_dir: Path,
    previous_db: Path | None = None,
    *,
    settings: SuiteSettings | None = None,
) -> SuiteOutcome:
    """Run one mart's suite (`name` as in MART_NAMES, e.g. "attrition"); see run_mart_suites."""
    from validation.expectations.runner import run_suites

    return run_suites([name], con, Path(docs_dir), previous_db, settings)[0]


def _suite_runner(name: str) -> Callable[..., SuiteOutcome]:
    def run(con: duckdb.DuckDBPyConnection, docs_dir: Path, previous_db: Path | None = None,
            *, settings: SuiteSettings | None = None) -> SuiteOutcome:
        return run_suite(name, con, docs_dir, previous_db, settings=settings)

    run.__name__ = f"check_{name}"
    run.__doc__ = f"Run the expectation suite of marts.{name}; see run_mart_suites."
    return run


# One callable per mart, `(con, docs_dir, previous_db=None) -> SuiteOutcome`, for one Dagster
# asset check per mart.
SUITES: dict[str, Callable[..., SuiteOutcome]] = {name: _suite_runner(name) for name in MART_NAMES}
