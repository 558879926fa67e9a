"""Thresholds and vocabularies the mart suites check against."""

from __future__ import annotations

import os
from dataclasses import dataclass

FINE_ASPIRATIONS = ("return_asap", "return_later", "stay_norway", "move_onward", "uncertain")
COARSE_ASPIRATIONS = ("return_asap", "stay_norway", "undecided")
TRANSITION_OUTCOMES = COARSE_ASPIRATIONS + ("left_to_ukraine", "left_onward", "not_observed")
TRACKING_STATUSES = ("responded_in_norway", "responded_abroad", "invited_no_response", "not_invited")
COUNTRIES = ("norway", "ukraine", "other")
SCALES = ("fine", "coarse")
ASKED_OF = ("everyone", "returned", "onward")

# Marts with a suite, in the order they are run (contract names in docs/contracts/warehouse.md).
MART_NAMES = ("aspiration_by_wave", "aspiration_transitions", "attrition", "panel_tracking", "udi_monthly", "exit_reasons")

ROW_COUNT_TOLERANCE_ENV = "PANEL_GX_ROW_COUNT_TOLERANCE"


@dataclass(frozen=True)
class SuiteSettings:
    """Tolerances of the mart suites. No published figure is a threshold here: what the data says
    about the world is never a blocking check. The two world judgements (row counts against the
    previous run, implied departures clearly negative) only warn."""

    row_count_tolerance: float = 0.20
    share_sum_tolerance: float = 1e-6
    weight_mean_bounds: tuple[float, float] = (0.9, 1.1)
    min_implied_departures: float = -1000.0

    @classmethod
    def from_env(cls) -> SuiteSettings:
        """Defaults, with the row-count tolerance overridable by PANEL_GX_ROW_COUNT_TOLERANCE."""
        raw = os.environ.get(ROW_COUNT_TOLERANCE_ENV)
        if raw is None or raw.strip() == "":
            return cls()
        try:
            tolerance = float(raw)
        except ValueError:
            raise ValueError(f"{ROW_COUNT_TOLERANCE_ENV}={raw!r} is not a number (expected e.g. 0.2 for ±20 %)") from None
        if not 0 < tolerance < 10:
            raise ValueError(f"{ROW_COUNT_TOLERANCE_ENV}={raw!r} must be a positive fraction (e.g. 0.2 for ±20 %)")
        return cls(row_count_tolerance=tolerance)
