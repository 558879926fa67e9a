{{ config(alias='aspiration_by_wave') }}
{#- marts.aspiration_by_wave with small counts suppressed. Suppression is decided jointly with attrition
    and aspiration_transitions, whose counts share bases with these (see release_survey_members for
    every relation a reader knows: here, the answers of a wave add up to its base, which the shares
    reveal, and a coarse answer is the sum of its fine answers). -#}

with

mart as (
    select *, {{ release_by_wave_cell_id() }} as cell_id from {{ ref('aspiration_by_wave') }}
),

members as (
    {{ release_survey_members(ref('attrition'), ref('aspiration_transitions'), ref('aspiration_by_wave')) }}
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
    cast(case when not suppressed_cells.is_suppressed then mart.n end as integer) as n,
    cast(suppressed_cells.is_suppressed as boolean) as n_suppressed,
    cast(case when not suppressed_cells.is_suppressed then mart.share end as double) as share,
    cast(case when not suppressed_cells.is_suppressed then mart.weighted_share end as double) as weighted_share
from mart
inner join suppressed_cells on suppressed_cells.cell_id = mart.cell_id
order by mart.wave_id, mart.scale, mart.aspiration
