"""Run the mart suites with Great Expectations and render Data Docs as static HTML.

The GX context is ephemeral (no great_expectations.yml, nothing to keep in git), but its
expectation suites and validation results live on disk in `<docs_dir>/../gx/`, so a Data Docs
index built by one process (e.g. one Dagster asset check) still lists every mart's latest results.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

from validation.expectations.frames import CheckFrame, PreviousRun, SuiteInputs, require_mart
from validation.expectations.messages import failure_messages
from validation.expectations.outcome import SuiteOutcome
from validation.expectations.report import write_outcome_record, write_summary_page
from validation.expectations.settings import MART_NAMES, SuiteSettings

# No usage statistics from a data pipeline; the machines running it may have no internet anyway.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier  # noqa: E402

from validation.expectations.suites import REQUIRED_COLUMNS, SUITE_BUILDERS  # noqa: E402

SITE_NAME = "panel_marts"
DATASOURCE_NAME = "marts"
RUN_NAME = "mart_suites"
# SUMMARY keeps the first failing rows (with their index) without storing every failing value.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
# Runs listed on the Data Docs index (each mart has a few suites per run).
INDEX_VALIDATION_LIMIT = 300
# Results (and their Data Docs pages) kept per GX suite: every refresh adds one per validated suite, and GX
# lists the whole store each run, so without a limit each refresh's check gets slower (measured: about 1 s
# more after 100 refreshes) and the folders grow without end.
RESULTS_KEPT_PER_SUITE = 20


def default_store_dir(docs_dir: Path) -> Path:
    """Where suites and validation results are kept: `gx/` beside the Data Docs folder."""
    return docs_dir.parent / "gx"


def run_suites(
    names: list[str],
    con: duckdb.DuckDBPyConnection,
    docs_dir: Path,
    previous_db: Path | None = None,
    settings: SuiteSettings | None = None,
    store_dir: Path | None = None,
) -> list[SuiteOutcome]:
    """Validate the named marts, rebuild Data Docs once, return one outcome per mart."""
    check_marts_exist(names, con)
    settings = settings or SuiteSettings.from_env()
    docs_dir = Path(docs_dir).resolve()
    store_dir = Path(store_dir).resolve() if store_dir else default_store_dir(docs_dir)
    prune_results(store_dir, docs_dir, RESULTS_KEPT_PER_SUITE - 1, names)  # this run adds one to each
    context = make_context(docs_dir, store_dir)
    run_id = RunIdentifier(run_name=RUN_NAME, run_time=dt.datetime.now(dt.timezone.utc))
    outcomes = []
    with PreviousRun(previous_db) as previous:
        for name in names:
            inputs = SuiteInputs(con=con, previous=previous, settings=settings)
            frames = SUITE_BUILDERS[name](inputs)
            outcomes.append(validate_mart(context, name, frames, inputs.notes, run_id))
    publish_docs(context, run_id, outcomes, docs_dir, store_dir)
    return outcomes


def prune_results(store_dir: Path, docs_dir: Path, keep: int, marts: list[str]) -> list[str]:
    """Remove all but the newest `keep` validation results of each GX suite of `marts` from the store, with
    their Data Docs pages (same relative folder: `validations/<mart>/<frame>/<run name>/<run time>/`); returns
    what was removed. Run times are ISO timestamps, so their folder names sort in time order. The index is
    rebuilt each run from the store, so it never links a removed page."""
    removed = []
    run_folders = (folder for mart in marts for folder in (store_dir / "validations" / mart).rglob(RUN_NAME))
    for run_folder in sorted(run_folders):
        if not run_folder.is_dir():
            continue
        runs = sorted(child for child in run_folder.iterdir() if child.is_dir())
        for old in runs[:max(len(runs) - keep, 0)]:
            relative = old.relative_to(store_dir)
            shutil.rmtree(old)
            shutil.rmtree(docs_dir / relative, ignore_errors=True)
            removed.append(relative.as_posix())
    return removed


def check_marts_exist(names: list[str], con: duckdb.DuckDBPyConnection) -> None:
    """Fail before validating anything if a name is unknown or a mart is not built as contracted."""
    unknown = [name for name in names if name not in SUITE_BUILDERS]
    if unknown:
        raise KeyError(f"no expectation suite for mart(s) {', '.join(unknown)}; known: {', '.join(MART_NAMES)}")
    for name in names:
        require_mart(con, name, REQUIRED_COLUMNS[name])


def publish_docs(context: Any, run_id: RunIdentifier, outcomes: list[SuiteOutcome], docs_dir: Path,
                 store_dir: Path) -> None:
    """GX Data Docs for this run, then each mart's record and the offline summary page."""
    results = this_run_results(context, run_id)
    index = build_docs(context, list(results.values()), [suite for outcome in outcomes for suite in outcome.gx_suites])
    for outcome in outcomes:
        outcome.docs_index = index
        pages = {suite: page_path(context, results[suite], docs_dir) for suite in outcome.gx_suites if suite in results}
        write_outcome_record(store_dir, outcome, run_id.run_time.isoformat(timespec="seconds"), pages)
    write_summary_page(docs_dir, store_dir)


def make_context(docs_dir: Path, store_dir: Path) -> Any:
    """Ephemeral GX context: suites and results on disk under `store_dir`, Data Docs in `docs_dir`."""
    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    for store_name, folder in (
        (defaults.expectations_store_name, "expectations"),
        (defaults.validation_results_store_name, "validations"),
    ):
        defaults.stores[store_name]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(store_dir / folder),
        }
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "show_cta_footer": False,
            "validation_results_limit": INDEX_VALIDATION_LIMIT,
        },
    }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        data_docs_sites={SITE_NAME: site},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas(DATASOURCE_NAME)
    return context


def validate_mart(context: Any, mart: str, frames: list[CheckFrame], notes: list[str], run_id: RunIdentifier) -> SuiteOutcome:
    """Validate each frame of one mart as its own GX suite `<mart>.<frame>` and sum up."""
    source = context.data_sources.get(DATASOURCE_NAME)
    outcome = SuiteOutcome(suite_name=mart, mart=f"marts.{mart}", success=True, n_expectations=0, n_failed=0,
                           notes=list(notes))
    for frame in frames:
        gx_suite = f"{mart}.{frame.name}"
        batch = source.add_dataframe_asset(gx_suite).add_batch_definition_whole_dataframe("whole_frame")
        suite = context.suites.add_or_update(
            gx.ExpectationSuite(name=gx_suite, expectations=frame.expectations, notes=suite_notes(frame, notes))
        )
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=gx_suite, data=batch, suite=suite)
        )
        result = definition.run(batch_parameters={"dataframe": frame.data}, result_format=RESULT_FORMAT, run_id=run_id)
        outcome.gx_suites.append(gx_suite)
        outcome.n_expectations += len(result.results)
        failures = failure_messages(gx_suite, frame, result)
        if frame.warning:
            outcome.warnings.extend(failures)
        else:
            outcome.n_failed += len(failures)
            outcome.failures.extend(failures)
    outcome.success = outcome.n_failed == 0
    return outcome


def suite_notes(frame: CheckFrame, notes: list[str]) -> list[str]:
    """Data Docs notes: what the frame is and which checks of the mart were skipped."""
    keys = ", ".join(frame.key_columns) or "nothing"
    kind = "Warning only (never blocks publication)" if frame.warning else "Blocking"
    return [f"Frame {frame.name}: {len(frame.data)} rows, one per ({keys}). {kind}.", *notes]


def this_run_results(context: Any, run_id: RunIdentifier) -> dict[str, Any]:
    """Validation result keys of this run, by GX suite name."""
    return {
        key.expectation_suite_identifier.name: key
        for key in context.validation_results_store.list_keys()
        if key.run_id.run_name == run_id.run_name and key.run_id.run_time == run_id.run_time
    }


def page_path(context: Any, result_key: Any, docs_dir: Path) -> str:
    """Path of a validation result's Data Docs page, relative to `docs_dir`."""
    (site,) = context.get_docs_sites_urls(resource_identifier=result_key, site_name=SITE_NAME)
    return os.path.relpath(site["site_url"].removeprefix("file://"), docs_dir)


def build_docs(context: Any, results: list[Any], gx_suites: list[str]) -> Path:
    """Render this run's pages and the index; returns the index path."""
    suites = [ExpectationSuiteIdentifier(name=name) for name in gx_suites]
    urls = context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=results + suites)
    return Path(urls[SITE_NAME].removeprefix("file://"))
