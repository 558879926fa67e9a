"""Result types of the mart suites; importable without loading Great Expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class MartSuiteError(RuntimeError):
    """A suite could not run at all: a mart table or a contract column is missing.

    Failing expectations are never raised; they are reported in `SuiteOutcome.failures`.
    """


@dataclass
class SuiteOutcome:
    """What one mart's suite found.

    `failures` are human-readable lines (which check, which column, observed vs expected) of the
    blocking expectations (structure); `warnings` the same for the non-blocking ones (judgements about
    the world, e.g. a count far from the previous run); `notes` say which checks were skipped and why.
    `success` depends on the blocking expectations only.
    """

    suite_name: str
    mart: str
    success: bool
    n_expectations: int
    n_failed: int
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gx_suites: list[str] = field(default_factory=list)
    docs_index: Path | None = None

    def summary(self) -> str:
        """One line for logs and Dagster check descriptions."""
        verdict = "passed" if self.success else f"FAILED {self.n_failed}"
        warned = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return f"{self.mart}: {verdict} of {self.n_expectations} expectations{warned}"
