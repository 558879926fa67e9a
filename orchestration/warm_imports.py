"""The later steps' heavy libraries, imported while dbt's first build works in its own process.

The steps import Great Expectations (about 2-4 s), statsmodels (about 1 s) and plotly lazily, so that loading
the definitions stays fast. A refresh would then pay those imports on its critical path, one after another,
while dbt's build runs in another process and the refresh's own thread only waits for its output. So the
refresh asks for them (`request()`), and each dbt build imports its share (`import_requested()`) right
after starting dbt and before reading its output: dbt meanwhile writes into the pipe, and at worst waits
for it to be read. The shares follow the steps: the first build (harmonise) imports what the weights need
next; the second (analysis) imports what the checks and the report need after it. On two cores the first
build already shares the machine with the next warm dbt process's imports, so Great Expectations is
imported during the second, while the refresh's thread would otherwise be idle.

They are imported on the refresh's own thread, never in a background one: two threads importing modules
that share dependencies (here SQLAlchemy) can see each other's half-initialised modules.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable

# statsmodels, which the weights need only when they are computed, not copied from the published warehouse
WEIGHTING = "survey_weights.longitudinal"
# What the downstream run's steps import lazily: one group per dbt build, in the order the steps run.
LATER_STEP_MODULES = (
    ("survey_weights", WEIGHTING),         # survey_weights, after the harmonise build
    ("validation.expectations.runner",     # great_expectations_suites, after the analysis build: Great Expectations
     "panel_report.report"),               # panel_report: plotly
)

_requested: tuple[tuple[str, ...], ...] = ()


def request(groups: Iterable[Iterable[str]] = LATER_STEP_MODULES) -> None:
    """Ask for each group of modules to be imported during the next dbt builds of this process, one group per
    build (the refresh does)."""
    global _requested
    _requested = tuple(tuple(group) for group in groups)


def without(modules: Iterable[str], groups: Iterable[Iterable[str]] = LATER_STEP_MODULES) -> tuple[tuple[str, ...], ...]:
    """`groups` without `modules` (a step that will most likely not need them)."""
    left_out = set(modules)
    return tuple(tuple(name for name in group if name not in left_out) for group in groups)


def import_requested() -> list[str]:
    """Import the next requested group, once; returns the modules imported. An import that fails is skipped:
    the step that needs the module imports it again and reports the error where it belongs."""
    global _requested
    if not _requested:
        return []
    names, _requested = _requested[0], _requested[1:]
    imported = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the step's own import reports it
            continue
        imported.append(name)
    return imported
