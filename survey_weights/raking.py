"""Raking (iterative proportional fitting) of sample weights to population margins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class RakingError(ValueError):
    """The sample cannot be raked to the requested margins."""


@dataclass(frozen=True)
class RakingResult:
    """Raked weights (mean 1 over the raked rows) and how the fit went."""

    weights: np.ndarray
    iterations: int
    max_abs_error: float
    converged: bool


def rake(
    sample: pd.DataFrame,
    targets: dict[str, pd.Series],
    base_weights: np.ndarray | None = None,
    tolerance: float = 1e-10,
    max_iterations: int = 1000,
) -> RakingResult:
    """Rake `sample` so its weighted share of each category matches `targets`.

    `targets` maps a column of `sample` to a Series of target shares indexed by category
    (each Series sums to 1). Every sample value must have a target, and every target
    category must occur in the sample: otherwise no weights can reproduce the margin.
    Returns weights normalised to mean 1.
    """
    if sample.empty:
        raise RakingError("cannot rake an empty sample")
    weights = np.ones(len(sample)) if base_weights is None else np.asarray(base_weights, float).copy()
    codes = {}
    for column, shares in targets.items():
        _check_margin(sample[column], shares, column)
        codes[column] = pd.Categorical(sample[column], categories=shares.index).codes
    max_error = np.inf
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        for column, shares in targets.items():
            weights *= _adjustment(weights, codes[column], shares.to_numpy(float))[codes[column]]
        max_error = max_margin_error(weights, sample, targets)
        if max_error < tolerance:
            break
    weights = weights / weights.mean()
    return RakingResult(weights, iteration, float(max_error), bool(max_error < tolerance))


def _check_margin(values: pd.Series, shares: pd.Series, column: str) -> None:
    if not np.isclose(shares.sum(), 1.0):
        raise RakingError(f"target shares for {column!r} sum to {shares.sum():.6f}, not 1")
    unknown = set(values.dropna().unique()) - set(shares.index)
    if values.isna().any() or unknown:
        raise RakingError(f"sample column {column!r} has values without a target: {sorted(map(str, unknown)) or ['NULL']}")
    empty = [c for c in shares.index if shares[c] > 0 and not (values == c).any()]
    if empty:
        raise RakingError(f"target categories of {column!r} with no respondent: {empty}")


def _adjustment(weights: np.ndarray, codes: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Factor per category that moves the current weighted shares onto the targets."""
    current = np.bincount(codes, weights=weights, minlength=len(shares)) / weights.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(current > 0, shares / current, 1.0)


def achieved_shares(weights: np.ndarray, values: pd.Series) -> pd.Series:
    """Weighted share of each category of `values`."""
    totals = pd.Series(weights, index=values.index).groupby(values.to_numpy()).sum()
    return totals / totals.sum()


def max_margin_error(weights: np.ndarray, sample: pd.DataFrame, targets: dict[str, pd.Series]) -> float:
    """Largest absolute difference between an achieved and a target share."""
    errors = [
        (achieved_shares(weights, sample[column]).reindex(shares.index, fill_value=0.0) - shares).abs().max()
        for column, shares in targets.items()
    ]
    return float(max(errors))
