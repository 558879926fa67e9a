{{ config(alias='aspiration_transitions') }}
{#- marts.aspiration_transitions with small counts suppressed. Equations a reader knows: the outcomes
    of an origin add up to its base (revealed by the shares), an origin has the same base for every
    `wave_to` of its `wave_from`, and the values of a subgroup add up to the `all` row for the same
    pair, origin and outcome. -#}

with

mart as (
    select * from {{ ref('aspiration_transitions') }}
),

keyed as (
    select
        *,
        concat_ws('|', wave_from, wave_to, subgroup, subgroup_value, aspiration_from, outcome_to) as cell_id
    from mart
),

cells as (
    select cell_id, n_persons as cell_value, {{ release_is_small('n_persons') }} as is_suppressed from keyed
),

subgroups as (
    select distinct subgroup from keyed where subgroup <> 'all'
),

equations as (
    select concat_ws('|', 'origin', wave_from, wave_to, subgroup, subgroup_value, aspiration_from) as equation_id, cell_id
    from keyed
    union all
    select concat_ws('|', 'values', wave_from, wave_to, subgroup, aspiration_from, outcome_to), cell_id
    from keyed
    where subgroup <> 'all'
    union all
    -- Rows of two pairs with the same origin at the same wave_from add up to the same base.
    select concat_ws('|', 'same_base', wave_from, pairs.wave_to_a, pairs.wave_to_b, subgroup, subgroup_value, aspiration_from),
        cell_id
    from keyed
    inner join (
        select distinct a.wave_from as pair_wave_from, a.wave_to as wave_to_a, b.wave_to as wave_to_b
        from keyed as a
        inner join keyed as b on a.wave_from = b.wave_from and a.wave_to < b.wave_to
    ) as pairs
        on pairs.pair_wave_from = keyed.wave_from
        and keyed.wave_to in (pairs.wave_to_a, pairs.wave_to_b)
    union all
    select concat_ws('|', 'values', totals.wave_from, totals.wave_to, subgroups.subgroup, totals.aspiration_from, totals.outcome_to),
        totals.cell_id
    from keyed as totals
    cross join subgroups
    where totals.subgroup = 'all'
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(keyed.wave_from as varchar) as wave_from,
    cast(keyed.wave_to as varchar) as wave_to,
    cast(keyed.subgroup as varchar) as subgroup,
    cast(keyed.subgroup_value as varchar) as subgroup_value,
    cast(keyed.aspiration_from as varchar) as aspiration_from,
    cast(keyed.outcome_to as varchar) as outcome_to,
    cast(case when not suppressed_cells.is_suppressed then keyed.n_persons end as integer) as n_persons,
    cast(suppressed_cells.is_suppressed as boolean) as n_persons_suppressed,
    cast(case when not suppressed_cells.is_suppressed then keyed.share end as double) as share,
    cast(case when not suppressed_cells.is_suppressed then keyed.weighted_share end as double) as weighted_share
from keyed
inner join suppressed_cells on suppressed_cells.cell_id = keyed.cell_id
order by keyed.wave_from, keyed.wave_to, keyed.subgroup, keyed.subgroup_value, keyed.aspiration_from, keyed.outcome_to
