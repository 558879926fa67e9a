"""Survey weights: cross-sectional raking to UDI margins and longitudinal (pbleib-style) weights."""

from survey_weights.compute import compute_weights

__all__ = ["compute_weights"]
