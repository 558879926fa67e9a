"""Import the later steps' heavy libraries in a background thread while dbt builds in its own process.

The steps import Great Expectations (about 2-4 s), statsmodels (about 1 s) and plotly lazily, so that loading
the definitions stays fast. A refresh then pays those imports in the middle of its critical path, one
after another, while the machine's other core is mostly idle: dbt's first build runs in a subprocess
and the refresh's own thread only waits for its events. Importing them in that window hides their cost.

Nothing depends on the thread: a step that needs a module imports it as before and waits for the
background import if it is still under way (Python's per-module import locks). An import that fails
here is ignored, so the step's own import raises the error where it belongs.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

# What the downstream run's steps import lazily, in the order the steps run.
LATER_STEP_MODULES = (
    "survey_weights",                  # survey_weights: statsmodels
    "validation.expectations.runner",  # great_expectations_suites: Great Expectations
    "panel_report.report",             # panel_report: plotly
)


def import_in_background(modules: Iterable[str] = LATER_STEP_MODULES) -> threading.Thread:
    """Start a daemon thread importing `modules` one by one; returns it (joining is never required)."""
    names = tuple(modules)

    def load() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the step's own import reports it
                continue

    thread = threading.Thread(target=load, name="warm-imports", daemon=True)
    thread.start()
    return thread
