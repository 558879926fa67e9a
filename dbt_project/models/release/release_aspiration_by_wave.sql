{{ config(alias='aspiration_by_wave') }}
{#- marts.aspiration_by_wave as a full grid (zero rows included: release_by_wave_grid) with small
    counts suppressed. Suppression is decided jointly with attrition
    and aspiration_transitions, whose counts share bases with these (see release_survey_members for
    every relation a reader knows: here, the answers of a wave add up to its base, which the shares
    reveal, and a coarse answer is the sum of its fine answers). -#}

with

mart as (
    select *, {{ release_by_wave_cell_id() }} as cell_id from ({{ release_by_wave_grid(ref('aspiration_by_wave')) }})
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
    cast(mart.wave_id as varchar) as wave_id,
    cast(mart.scale as varchar) as scale,
    cast(mart.aspiration as varchar) as aspiration,
    cast(case when not mart.is_suppressed then mart.n end as integer) as n,
    cast(mart.is_suppressed as boolean) as n_suppressed,
    -- A zero's share tells that its base is not zero: published only where a nonzero share publishes the base.
    cast(case when not mart.is_suppressed and (mart.n <> 0 or base_is_published) then mart.share end as double) as share,
    cast(case when not mart.is_suppressed and (mart.n <> 0 or base_is_published) then mart.weighted_share end as double) as weighted_share
from (
    select mart.*, suppressed_cells.is_suppressed, bool_or(not suppressed_cells.is_suppressed and mart.n <> 0) over (partition by mart.wave_id, mart.scale)
        as base_is_published
    from mart
    inner join suppressed_cells on suppressed_cells.cell_id = mart.cell_id
) as mart
order by mart.wave_id, mart.scale, mart.aspiration
