"""The checks per mart that dbt tests express poorly, over frames derived from the marts.

Each check lives in one place: keys, vocabularies, not-null columns, shares summing to one and the
accounting identities are dbt tests in the models' yml; here are the checks that need a derived
frame (totals per wave, weight means, monotone series, wave order, shares as proportions) and, as
warnings that never block publication, the judgements about the world: counts against the previous
published run and implied departures clearly below zero. No published figure is a threshold.

Each builder reads its mart (and derived per-group tables) from DuckDB and returns the frames
to validate; the runner turns every frame into one GX expectation suite named `<mart>.<frame>`.
"""

from __future__ import annotations

from collections.abc import Callable

from validation.expectations import checks
from validation.expectations.frames import CheckFrame, SuiteInputs, compare_counts

# Wave ids look like w<N>_<YYYY>; N orders the waves.
WAVE_NUMBER_SQL = "try_cast(regexp_extract({column}, '^w([0-9]+)_', 1) as integer)"


def wave_number(column: str) -> str:
    """SQL for the wave number N of a wave id column (`w<N>_<YYYY>`)."""
    return WAVE_NUMBER_SQL.format(column=column)


def previous_run_frame(
    inputs: SuiteInputs, table: str, count_sql: str, keys: tuple[str, ...], what: str
) -> list[CheckFrame]:
    """A `vs_previous_run` warning frame, or nothing (plus a note) on a first run. Real data may
    legitimately differ from the last publication, so a change warns and never blocks."""
    compared = compare_counts(inputs, table, count_sql, keys, what)
    if compared is None:
        return []
    expectation = checks.within_tolerance_of_previous(what, inputs.settings.row_count_tolerance)
    return [CheckFrame("vs_previous_run", compared, [expectation], keys, warning=True)]


def aspiration_by_wave(inputs: SuiteInputs) -> list[CheckFrame]:
    """Counts and proportions in range, equal bases on both scales; respondents per wave against the
    previous run (warning)."""
    table = "aspiration_by_wave"
    rows = inputs.read(
        """select wave_id, scale, aspiration, n::bigint as n, share::double as share,
                  weighted_share::double as weighted_share
           from marts.aspiration_by_wave order by wave_id, scale, aspiration"""
    )
    row_checks = [
        checks.non_empty(table),
        checks.between("n", "n is a count (>= 0)", lower=0),
        checks.between("share", "share is a proportion in [0, 1]", 0, 1),
        checks.between("weighted_share", "weighted_share is a proportion in [0, 1]", 0, 1),
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
        CheckFrame("scale_totals", scale_totals, total_checks, ("wave_id",)),
        *previous_run_frame(
            inputs, table,
            "select wave_id, sum(n)::bigint as n from marts.aspiration_by_wave where scale = 'fine' group by wave_id",
            ("wave_id",), "respondents per wave (sum of n on the fine scale)",
        ),
    ]


def aspiration_transitions(inputs: SuiteInputs) -> list[CheckFrame]:
    """Wave order, the whole sample present, counts and proportions in range."""
    table = "aspiration_transitions"
    keys = ("wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from", "outcome_to")
    rows = inputs.read(
        f"""select wave_from, wave_to, {wave_number('wave_from')} as wave_from_number,
                   {wave_number('wave_to')} as wave_to_number, subgroup, subgroup_value, aspiration_from,
                   outcome_to, n_persons::bigint as n_persons, share::double as share
            from marts.aspiration_transitions order by all"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null(("wave_from_number", "wave_to_number"), table),
        checks.greater("wave_to_number", "wave_from_number", "wave_to comes after wave_from"),
        checks.contains("subgroup", ["all"], "the whole sample is present as subgroup 'all'"),
        checks.between("n_persons", "n_persons is a count (>= 0)", lower=0),
        checks.between("share", "share is a proportion in [0, 1]", 0, 1),
    ]
    return [CheckFrame("rows", rows, row_checks, keys)]


def attrition(inputs: SuiteInputs) -> list[CheckFrame]:
    """Wave order, the whole sample present, counts in range (the identity n_base = sum of outcomes
    and the retention rate's range are dbt tests)."""
    table = "attrition"
    keys = ("wave_from", "wave_to", "subgroup", "subgroup_value")
    counts = ("n_base", "n_responded_norway", "n_responded_abroad", "n_not_observed")
    rows = inputs.read(
        f"""select wave_from, wave_to, {wave_number('wave_from')} as wave_from_number,
                   {wave_number('wave_to')} as wave_to_number, subgroup, subgroup_value,
                   {', '.join(f'{c}::bigint as {c}' for c in counts)}
            from marts.attrition order by all"""
    )
    row_checks = [
        checks.non_empty(table),
        *checks.not_null(("wave_from_number", "wave_to_number"), table),
        checks.greater("wave_to_number", "wave_from_number", "wave_to comes after wave_from"),
        checks.contains("subgroup", ["all"], "the whole sample is present as subgroup 'all'"),
        *[checks.between(c, f"{c} is a count (>= 0)", lower=0) for c in counts],
    ]
    return [CheckFrame("rows", rows, row_checks, keys)]


def panel_tracking(inputs: SuiteInputs) -> list[CheckFrame]:
    """Positive weights averaging about 1 per wave; rows per wave against the previous run (warning)."""
    table = "panel_tracking"
    low, high = inputs.settings.weight_mean_bounds
    rows = inputs.read(
        """select person_id, wave_id, status, weight_cross::double as weight_cross
           from marts.panel_tracking order by wave_id, person_id"""
    )
    row_checks = [
        checks.non_empty(table),
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
    """Non-negative counts and cumulative grants never falling (blocking); implied departures not
    clearly negative and the number of months against the previous run (warnings: a history that
    starts late or a UDI revision is news, not a broken build)."""
    table = "udi_monthly"
    measures = ("applications", "granted", "granted_cumulative", "valid_stock", "implied_departures_cumulative")
    rows = inputs.read(
        f"""select month, {', '.join(f'{m}::double as {m}' for m in measures)}
            from marts.udi_monthly order by month"""
    )
    row_checks = [
        checks.non_empty(table),
        checks.between("applications", "applications are non-negative", lower=0),
        checks.between("granted", "granted are non-negative", lower=0),
        checks.non_decreasing("granted_cumulative", "granted_cumulative never falls from one month to the next"),
    ]
    departures = [
        checks.between("implied_departures_cumulative",
                       f"implied departures are not clearly negative (>= {inputs.settings.min_implied_departures:g})",
                       lower=inputs.settings.min_implied_departures),
    ]
    return [
        CheckFrame("rows", rows, row_checks, ("month",)),
        CheckFrame("implied_departures", rows, departures, ("month",), warning=True),
        *previous_run_frame(inputs, table, "select 'all months' as scope, count(*) as n from marts.udi_monthly",
                            ("scope",), "number of months"),
    ]


def exit_reasons(inputs: SuiteInputs) -> list[CheckFrame]:
    """Counts in range (n_selected <= n_asked and the key are dbt tests)."""
    rows = inputs.read(
        """select wave_id, reason_code::varchar as reason_code, n_selected::bigint as n_selected,
                  n_asked::bigint as n_asked
           from marts.exit_reasons order by wave_id, reason_code"""
    )
    row_checks = [
        checks.between("n_selected", "n_selected is a count (>= 0)", lower=0),
        checks.between("n_asked", "n_asked is a count (>= 0)", lower=0),
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
