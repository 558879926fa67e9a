"""Longitudinal weights (the SOEP `pbleib` idea): base weight / modelled probability of staying in."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

COVARIATES = ("gender", "age_band", "children_in_norway", "region_code", "aspiration_coarse")
# A coefficient this large means a category (almost) perfectly predicts the outcome.
SEPARATION_COEFFICIENT = 10.0
RIDGE_ALPHA = 0.05
# Categories rarer than this are merged into the covariate's most common category: a handful of
# people cannot identify their own coefficient and would only separate the model.
MIN_CATEGORY_SIZE = 20
P_FLOOR = 0.01


def design_matrix(base: pd.DataFrame) -> pd.DataFrame:
    """Intercept plus treatment dummies of the first-wave covariates.

    Missing values form an `unknown` category; categories with fewer than MIN_CATEGORY_SIZE
    persons join the most common category, which is also the reference level.
    """
    covariates = base[list(COVARIATES)].astype("object").where(base[list(COVARIATES)].notna(), "unknown").astype(str)
    columns = []
    for name in COVARIATES:
        counts = covariates[name].value_counts()
        reference = counts.index[0]
        merged = covariates[name].where(covariates[name].map(counts) >= MIN_CATEGORY_SIZE, reference)
        levels = [reference] + sorted(set(merged) - {reference})
        columns.append(pd.Series(pd.Categorical(merged, categories=levels), name=name, index=base.index))
    dummies = pd.get_dummies(pd.concat(columns, axis=1), drop_first=True, dtype=float)
    dummies = dummies.loc[:, dummies.std(ddof=0) > 0]
    return sm.add_constant(dummies, has_constant="add")


def fit_retention(base: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Fit P(responded again) on first-wave characteristics; return (probabilities, model summary).

    Plain maximum-likelihood logit first; under (quasi-)separation or non-convergence a
    ridge-penalised logit instead. With no variation in the outcome the observed rate is used.
    """
    retained = base["retained"].astype(float).to_numpy()
    rate = float(retained.mean())
    if rate in (0.0, 1.0) or len(base) < 2:
        probabilities = np.full(len(base), rate)
        return probabilities, {"method": "constant", "coefficients": {}, "retention_rate": rate}
    x = design_matrix(base)
    fit = _maximum_likelihood(retained, x)
    method = "logit"
    if fit is None:
        fit = sm.GLM(retained, x, family=sm.families.Binomial()).fit_regularized(alpha=RIDGE_ALPHA, L1_wt=0.0)
        method = "ridge_logit"
    params = pd.Series(np.asarray(fit.params), index=x.columns)
    probabilities = 1.0 / (1.0 + np.exp(-(x.to_numpy() @ params.to_numpy())))
    summary = {
        "method": method,
        "coefficients": {name: round(float(value), 6) for name, value in params.items()},
        "retention_rate": rate,
    }
    return probabilities, summary


def _maximum_likelihood(retained: np.ndarray, x: pd.DataFrame):
    """Unpenalised logit, or None when it separates or does not converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            fit = sm.Logit(retained, x).fit(disp=0, maxiter=100)
        except (PerfectSeparationWarning, ConvergenceWarning, RuntimeWarning, np.linalg.LinAlgError):
            return None
    params = np.asarray(fit.params)
    if not fit.mle_retvals.get("converged", False) or not np.isfinite(params).all():
        return None
    if np.abs(params).max() > SEPARATION_COEFFICIENT:
        return None
    return fit


def weight_pair(base: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Longitudinal weights for one wave pair.

    `base` holds one row per person weighted at `wave_from` with `weight_cross`, `retained`
    (responded at `wave_to`, anywhere) and the covariates. `weight_long` is
    `weight_cross / p_retained` for those retained and NULL for the others.
    """
    probabilities, summary = fit_retention(base)
    probabilities = np.clip(probabilities, P_FLOOR, 1.0)
    weight_long = np.where(base["retained"].to_numpy(bool), base["weight_cross"].to_numpy(float) / probabilities, np.nan)
    out = base[["wave_from", "wave_to", "person_id", "retained"]].assign(p_retained=probabilities, weight_long=weight_long)
    summary.update(n_base=int(len(base)), n_retained=int(base["retained"].sum()))
    return out, summary
