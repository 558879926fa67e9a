"""The checks per mart that dbt tests express poorly: shares summing to one per group,
distributions within plausible bounds, accounting identities across columns, and row counts
compared with the previous published run.

Each builder reads its mart (and derived per-group tables) from DuckDB and returns the frames
to validate; the runner turns every frame into one GX expectation suite named `<mart>.<frame>`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from validation.expectations import checks
from validation.expectations.frames import CheckFrame, SuiteInputs, compare_counts
from validation.expectations.settings import (
    ASKED_OF,
    COARSE_ASPIRATIONS,
    COUNTRIES,
    FINE_ASPIRATIONS,
    SCALES,
    TRACKING_STATUSES,
    TRANSITION_OUTCOMES,
)

# Wave ids look like w<N>_<YYYY>; N orders the waves.
WAVE_NUMBER_SQL = "try_cast(regexp_extract({column}, '^w([0-9]+)_', 1) as integer)"


def wave_number(column: str) -> str:
    """SQL for the wave number N of a wave id column (`w<N>_<YYYY>`)."""
    return WAVE_NUMBER_SQL.format(column=column)


def previous_run_frame(
    inputs: SuiteInputs, table: str, count_sql: str, keys: tuple[str, ...], what: str
) -> list[CheckFrame]:
    """A `vs_previous_run` frame, or nothing (plus a note) on a first run."""
    compared = compare_counts(inputs, table, count_sql, keys, what)
    if compared is None:
        return []
    expectation = checks.within_tolerance_of_previous(what, inputs.settings.row_count_tolerance)
    return [CheckFrame("vs_previous_run", compared, [expectation], keys)]


def aspiration_by_wave(inputs: SuiteInputs) -> list[CheckFrame]:
    """Vocabularies per scale, shares summing to 1 per (wave, scale), equal bases on both scales,
    plausible calibration shares, respondents per wave against the previous run."""
    table = "aspiration_by_wave"
    tolerance = inputs.settings.share_sum_tolerance
    rows = inputs.read(
        """select wave_id, scale, aspiration, n::bigint as n, share::double as share,
                  weighted_share::double as weighted_share
           from marts.aspiration_by_wave order by wave_id, scale, aspiration"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null(("wave_id", "scale", "aspiration", "n", "share", "weighted_share"), table),
        checks.unique_key(("wave_id", "scale", "aspiration"), table),
        checks.in_set("scale", SCALES, "scale is fine or coarse"),
        checks.in_set("aspiration", FINE_ASPIRATIONS, "fine-scale aspiration is in the fine vocabulary",
                      when=checks.matching(scale="fine")),
        checks.in_set("aspiration", COARSE_ASPIRATIONS, "coarse-scale aspiration is in the coarse vocabulary",
                      when=checks.matching(scale="coarse")),
        checks.between("n", "n is a count (>= 0)", lower=0),
        checks.between("share", "share is a proportion in [0, 1]", 0, 1),
        checks.between("weighted_share", "weighted_share is a proportion in [0, 1]", 0, 1),
    ]
    share_sums = inputs.read(
        """select wave_id, scale, sum(share)::double as share_sum, sum(weighted_share)::double as weighted_share_sum
           from marts.aspiration_by_wave group by wave_id, scale order by wave_id, scale"""
    )
    sum_checks = [
        checks.close_to_one("share_sum", tolerance, f"shares within each (wave_id, scale) sum to 1 (±{tolerance:g})"),
        checks.close_to_one("weighted_share_sum", tolerance,
                            f"weighted shares within each (wave_id, scale) sum to 1 (±{tolerance:g})"),
    ]
    scale_totals = inputs.read(
        """select wave_id,
                  (sum(n) filter (where scale = 'fine'))::bigint as n_fine,
                  (sum(n) filter (where scale = 'coarse'))::bigint as n_coarse
           from marts.aspiration_by_wave group by wave_id order by wave_id"""
    )
    total_checks = [
        *checks.not_null(("n_fine", "n_coarse"), table),
        checks.equal("n_fine", "n_coarse", "fine and coarse scales count the same respondents in each wave"),
    ]
    return [
        CheckFrame("rows", rows, row_checks, ("wave_id", "scale", "aspiration")),
        CheckFrame("share_sums", share_sums, sum_checks, ("wave_id", "scale")),
        CheckFrame("scale_totals", scale_totals, total_checks, ("wave_id",)),
        *share_bound_frame(inputs, rows),
        *previous_run_frame(
            inputs, table,
            "select wave_id, sum(n)::bigint as n from marts.aspiration_by_wave where scale = 'fine' group by wave_id",
            ("wave_id",), "respondents per wave (sum of n on the fine scale)",
        ),
    ]


def share_bound_frame(inputs: SuiteInputs, rows: pd.DataFrame) -> list[CheckFrame]:
    """Configured shares (e.g. w1 coarse return_asap) within plausible bounds.

    A category missing from a wave that is present counts as share 0; a wave not in the mart is
    skipped with a note.
    """
    observed, expectations = [], []
    waves = set(rows["wave_id"])
    for bound in inputs.settings.share_bounds:
        if bound.wave_id not in waves:
            inputs.notes.append(f"skipped: share bound for {bound.wave_id} {bound.scale} {bound.aspiration}, "
                                f"because {bound.wave_id} is not in marts.aspiration_by_wave")
            continue
        match = rows[(rows["wave_id"] == bound.wave_id) & (rows["scale"] == bound.scale)
                     & (rows["aspiration"] == bound.aspiration)]
        observed.append({"wave_id": bound.wave_id, "scale": bound.scale, "aspiration": bound.aspiration,
                         "share": float(match["share"].sum())})
        expectations.append(checks.between(
            "share",
            f"{bound.scale} share of {bound.aspiration} in {bound.wave_id} within plausible bounds",
            bound.lower, bound.upper,
            when=checks.matching(wave_id=bound.wave_id, scale=bound.scale, aspiration=bound.aspiration),
        ))
    if not observed:
        return []
    return [CheckFrame("share_bounds", pd.DataFrame(observed), expectations, ("wave_id", "scale", "aspiration"))]


def aspiration_transitions(inputs: SuiteInputs) -> list[CheckFrame]:
    """Vocabularies, wave order, and shares summing to 1 within (pair, subgroup, value, origin)."""
    table = "aspiration_transitions"
    keys = ("wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from", "outcome_to")
    tolerance = inputs.settings.share_sum_tolerance
    rows = inputs.read(
        f"""select wave_from, wave_to, {wave_number('wave_from')} as wave_from_number,
                   {wave_number('wave_to')} as wave_to_number, subgroup, subgroup_value, aspiration_from,
                   outcome_to, n_persons::bigint as n_persons, share::double as share
            from marts.aspiration_transitions order by all"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null((*keys, "wave_from_number", "wave_to_number", "n_persons", "share"), table),
        checks.unique_key(keys, table),
        checks.greater("wave_to_number", "wave_from_number", "wave_to comes after wave_from"),
        checks.contains("subgroup", ["all"], "the whole sample is present as subgroup 'all'"),
        checks.in_set("aspiration_from", COARSE_ASPIRATIONS, "aspiration_from is in the coarse vocabulary"),
        checks.in_set("outcome_to", TRANSITION_OUTCOMES, "outcome_to is in the outcome vocabulary"),
        checks.between("n_persons", "n_persons is a count (>= 0)", lower=0),
        checks.between("share", "share is a proportion in [0, 1]", 0, 1),
    ]
    group = ("wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from")
    share_sums = inputs.read(
        f"""select {', '.join(group)}, sum(share)::double as share_sum
            from marts.aspiration_transitions group by all order by all"""
    )
    sum_checks = [checks.close_to_one(
        "share_sum", tolerance, f"shares within each (wave pair, subgroup, value, origin) sum to 1 (±{tolerance:g})")]
    return [
        CheckFrame("rows", rows, row_checks, keys),
        CheckFrame("share_sums", share_sums, sum_checks, group),
    ]


def attrition(inputs: SuiteInputs) -> list[CheckFrame]:
    """Retention rate a proportion, and the outcomes adding up to the base."""
    table = "attrition"
    keys = ("wave_from", "wave_to", "subgroup", "subgroup_value")
    counts = ("n_base", "n_responded_norway", "n_responded_abroad", "n_not_observed")
    rows = inputs.read(
        f"""select wave_from, wave_to, {wave_number('wave_from')} as wave_from_number,
                   {wave_number('wave_to')} as wave_to_number, subgroup, subgroup_value,
                   {', '.join(f'{c}::bigint as {c}' for c in counts)},
                   (n_responded_norway + n_responded_abroad + n_not_observed)::bigint as n_accounted,
                   retention_rate::double as retention_rate
            from marts.attrition order by all"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null((*keys, *counts), table),
        checks.unique_key(keys, table),
        checks.greater("wave_to_number", "wave_from_number", "wave_to comes after wave_from"),
        checks.contains("subgroup", ["all"], "the whole sample is present as subgroup 'all'"),
        *[checks.between(c, f"{c} is a count (>= 0)", lower=0) for c in counts],
        checks.between("retention_rate", "retention_rate is a proportion in [0, 1]", 0, 1),
        checks.equal("n_accounted", "n_base",
                      "n_responded_norway + n_responded_abroad + n_not_observed = n_base"),
    ]
    return [CheckFrame("rows", rows, row_checks, keys)]


def panel_tracking(inputs: SuiteInputs) -> list[CheckFrame]:
    """Statuses, positive weights averaging about 1 per wave, rows per wave against the previous run."""
    table = "panel_tracking"
    low, high = inputs.settings.weight_mean_bounds
    rows = inputs.read(
        """select person_id, wave_id, status, country, aspiration, aspiration_coarse,
                  weight_cross::double as weight_cross
           from marts.panel_tracking order by wave_id, person_id"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null(("person_id", "wave_id", "status"), table),
        checks.unique_key(("person_id", "wave_id"), table),
        checks.in_set("status", TRACKING_STATUSES, "status is in the tracking vocabulary"),
        checks.in_set("country", COUNTRIES, "country is norway, ukraine or other"),
        checks.in_set("aspiration", FINE_ASPIRATIONS, "aspiration is in the fine vocabulary"),
        checks.in_set("aspiration_coarse", COARSE_ASPIRATIONS, "aspiration_coarse is in the coarse vocabulary"),
        checks.positive("weight_cross", "weight_cross is positive for respondents in Norway",
                        when=checks.matching(status="responded_in_norway")),
    ]
    weights = inputs.read(
        """select wave_id, count(*) as n_responded_in_norway, count(weight_cross) as n_weighted,
                  avg(weight_cross)::double as mean_weight_cross
           from marts.panel_tracking where status = 'responded_in_norway' group by wave_id order by wave_id"""
    )
    weight_checks = [
        checks.between("n_weighted", "every wave has cross-sectional weights for its respondents in Norway", lower=1),
        checks.between("mean_weight_cross",
                       f"mean weight_cross per wave among respondents in Norway is about 1 ({low}-{high})", low, high),
    ]
    return [
        CheckFrame("rows", rows, row_checks, ("person_id", "wave_id")),
        CheckFrame("wave_weights", weights, weight_checks, ("wave_id",)),
        *previous_run_frame(inputs, table, "select wave_id, count(*) as n from marts.panel_tracking group by wave_id",
                            ("wave_id",), "rows per wave"),
    ]


def udi_monthly(inputs: SuiteInputs) -> list[CheckFrame]:
    """Non-negative counts, cumulative grants never falling, implied departures consistent and
    not clearly negative, number of months against the previous run."""
    table = "udi_monthly"
    measures = ("applications", "granted", "granted_cumulative", "valid_stock", "implied_departures_cumulative")
    rows = inputs.read(
        f"""select month, {', '.join(f'{m}::double as {m}' for m in measures)},
                   (granted_cumulative - valid_stock)::double as granted_minus_stock
            from marts.udi_monthly order by month"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null(("month",), table),
        checks.unique_key(("month",), table),
        checks.between("applications", "applications are non-negative", lower=0),
        checks.between("granted", "granted are non-negative", lower=0),
        checks.non_decreasing("granted_cumulative", "granted_cumulative never falls from one month to the next"),
        checks.between("implied_departures_cumulative",
                       f"implied departures are not clearly negative (>= {inputs.settings.min_implied_departures:g})",
                       lower=inputs.settings.min_implied_departures),
        checks.equal("implied_departures_cumulative", "granted_minus_stock",
                     "implied_departures_cumulative = granted_cumulative - valid_stock"),
    ]
    return [
        CheckFrame("rows", rows, row_checks, ("month",)),
        *previous_run_frame(inputs, table, "select 'all months' as scope, count(*) as n from marts.udi_monthly",
                            ("scope",), "number of months"),
    ]


def exit_reasons(inputs: SuiteInputs) -> list[CheckFrame]:
    """No reason selected by more people than were asked."""
    table = "exit_reasons"
    rows = inputs.read(
        """select wave_id, reason_code::varchar as reason_code, reason_label, asked_of,
                  n_selected::bigint as n_selected, n_asked::bigint as n_asked
           from marts.exit_reasons order by wave_id, reason_code"""
    )
    row_checks = [
        *checks.not_null(("wave_id", "reason_code", "asked_of", "n_selected", "n_asked"), table),
        checks.unique_key(("wave_id", "reason_code"), table),
        checks.in_set("asked_of", ASKED_OF, "asked_of is everyone, returned or onward"),
        checks.between("n_selected", "n_selected is a count (>= 0)", lower=0),
        checks.at_least("n_asked", "n_selected", "no reason is selected by more people than were asked (n_selected <= n_asked)"),
    ]
    return [CheckFrame("rows", rows, row_checks, ("wave_id", "reason_code"))]


# Contract columns each suite reads (docs/contracts/warehouse.md); checked before any suite runs.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "aspiration_by_wave": ("wave_id", "scale", "aspiration", "n", "share", "weighted_share"),
    "aspiration_transitions": ("wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from", "outcome_to",
                               "n_persons", "share"),
    "attrition": ("wave_from", "wave_to", "subgroup", "subgroup_value", "n_base", "n_responded_norway",
                  "n_responded_abroad", "n_not_observed", "retention_rate"),
    "panel_tracking": ("person_id", "wave_id", "status", "country", "aspiration", "aspiration_coarse", "weight_cross"),
    "udi_monthly": ("month", "applications", "granted", "granted_cumulative", "valid_stock",
                    "implied_departures_cumulative"),
    "exit_reasons": ("wave_id", "reason_code", "reason_label", "asked_of", "n_selected", "n_asked"),
}

SUITE_BUILDERS: dict[str, Callable[[SuiteInputs], list[CheckFrame]]] = {
    "aspiration_by_wave": aspiration_by_wave,
    "aspiration_transitions": aspiration_transitions,
    "attrition": attrition,
    "panel_tracking": panel_tracking,
    "udi_monthly": udi_monthly,
    "exit_reasons": exit_reasons,
}
