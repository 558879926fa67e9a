"""Cross-sectional weights: each wave's respondents in Norway raked to the UDI valid-permit stock."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from survey_weights.raking import achieved_shares, rake

MARGINS = ("sex", "age_band", "region_code")
AGE_BANDS = ((18, 34, "18-34"), (35, 49, "35-49"), (50, 66, "50-66"), (67, 200, "67+"))


class WeightsInputError(RuntimeError):
    """An input the weights need is missing or unusable."""


def age_band(age: float | None) -> str | None:
    """UDI adult age group of an age in years; None for minors and unknown ages."""
    if age is None or pd.isna(age):
        return None
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return None


def nearest_snapshot(snapshots: list[dt.date], field_start: dt.date, field_end: dt.date) -> dt.date:
    """The snapshot closest to the field period: inside it if possible, then nearest its middle."""
    if not snapshots:
        raise WeightsInputError("staging.stg_udi__valid_permits has no adult rows: no UDI margins to rake to")
    middle = field_start + (field_end - field_start) / 2

    def distance(snapshot: dt.date) -> tuple[int, int]:
        outside = max((field_start - snapshot).days, (snapshot - field_end).days, 0)
        return outside, abs((snapshot - middle).days)

    return min(snapshots, key=distance)


def udi_targets(permits: pd.DataFrame, snapshot: dt.date) -> dict[str, pd.Series]:
    """Adult valid-permit shares per margin in one snapshot (suppressed cells left out)."""
    rows = permits[(permits["snapshot_date"] == snapshot) & permits["valid_permits"].notna()]
    rows = rows.rename(columns={"age_group": "age_band"})
    targets = {}
    for margin in MARGINS:
        totals = rows.groupby(margin)["valid_permits"].sum().astype(float)
        targets[margin] = totals[totals > 0] / totals.sum()
    return targets


def weight_wave(sample: pd.DataFrame, targets: dict[str, pd.Series]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Rake one wave's sample; return (weights per response, margins table, fit summary).

    Respondents who cannot be placed on every margin (gender `other`, unknown age or
    municipality, a minor, a category UDI does not report) are not raked and get the mean
    weight. Target categories without any raked respondent are dropped and the remaining
    targets renormalised, since no weight can put people into an empty cell.
    """
    sample = sample.reset_index(drop=True)
    rakeable = sample[list(MARGINS)].notna().all(axis=1)
    for margin in MARGINS:
        rakeable &= sample[margin].isin(targets[margin].index)
    raked = sample[rakeable]
    if raked.empty:
        raise WeightsInputError("no respondent of the wave can be placed on the UDI margins")
    usable = {}
    for margin in MARGINS:
        present = targets[margin][targets[margin].index.isin(raked[margin].unique())]
        usable[margin] = present / present.sum()
    result = rake(raked, usable)
    weights = np.ones(len(sample))
    weights[rakeable.to_numpy()] = result.weights
    weights = weights / weights.mean()
    out = sample[["wave_id", "response_id", "person_id"]].assign(weight_cross=weights, is_raked=rakeable.to_numpy())
    margins = _margins_table(raked, result.weights, usable, targets)
    summary = {
        "n_respondents": int(len(sample)),
        "n_raked": int(rakeable.sum()),
        "iterations": result.iterations,
        "max_margin_error": result.max_abs_error,
        "converged": result.converged,
        "design_effect": float((weights**2).mean() / weights.mean() ** 2),
        "weight_min": float(weights.min()),
        "weight_max": float(weights.max()),
    }
    return out, margins, summary


def _margins_table(raked: pd.DataFrame, weights: np.ndarray, usable: dict, targets: dict) -> pd.DataFrame:
    rows = []
    for margin in MARGINS:
        achieved = achieved_shares(weights, raked[margin].reset_index(drop=True))
        for category, target in usable[margin].items():
            rows.append(
                {
                    "margin": margin,
                    "category": str(category),
                    "target_share": float(target),
                    "achieved_share": float(achieved.get(category, 0.0)),
                    "udi_share": float(targets[margin][category]),
                    "n_respondents": int((raked[margin] == category).sum()),
                }
            )
    return pd.DataFrame(rows)
