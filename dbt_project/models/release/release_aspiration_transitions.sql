{{ config(alias='aspiration_transitions') }}
{#- marts.aspiration_transitions as a full grid (zero rows included: release_transitions_grid) with
    small counts suppressed. Suppression is decided jointly with
    attrition and aspiration_by_wave, whose counts share bases with these (see release_survey_members
    for every relation a reader knows). -#}

with

mart as (
    select *, {{ release_transitions_cell_id() }} as cell_id
    from ({{ release_transitions_grid(ref('aspiration_transitions')) }})
),

members as (
    {{ release_survey_members(*release_survey_grids()) }}
),

cells as (
    select distinct cell_id, cell_value, {{ release_is_small('cell_value') }} as is_suppressed from members
),

equations as (
    select distinct equation_id, cell_id from members
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(mart.wave_from as varchar) as wave_from,
    cast(mart.wave_to as varchar) as wave_to,
    cast(mart.subgroup as varchar) as subgroup,
    cast(mart.subgroup_value as varchar) as subgroup_value,
    cast(mart.aspiration_from as varchar) as aspiration_from,
    cast(mart.outcome_to as varchar) as outcome_to,
    cast(case when not mart.is_suppressed then mart.n_persons end as integer) as n_persons,
    cast(mart.is_suppressed as boolean) as n_persons_suppressed,
    -- A zero's share tells that its base is not zero: published only where a nonzero share publishes the base.
    cast(case when not mart.is_suppressed and (mart.n_persons <> 0 or base_is_published) then mart.share end as double) as share,
    cast(case when not mart.is_suppressed and (mart.n_persons <> 0 or base_is_published) then mart.weighted_share end as double)
        as weighted_share
from (
    select mart.*, suppressed_cells.is_suppressed, bool_or(not suppressed_cells.is_suppressed and mart.n_persons <> 0) over (
        partition by mart.wave_from, mart.wave_to, mart.subgroup, mart.subgroup_value, mart.aspiration_from
    ) as base_is_published
    from mart
    inner join suppressed_cells on suppressed_cells.cell_id = mart.cell_id
) as mart
order by mart.wave_from, mart.wave_to, mart.subgroup, mart.subgroup_value, mart.aspiration_from, mart.outcome_to
