{{ config(alias='aspiration_by_wave') }}
{#- marts.aspiration_by_wave with small counts suppressed. Equations a reader knows: each wave's cells
    on one scale add up to the wave's base (revealed by the shares), and each coarse category equals the
    sum of its fine categories (a coarse category with one fine category is the same cell). -#}

with

mart as (
    select * from {{ ref('aspiration_by_wave') }}
),

scales as (
    select aspiration, aspiration_coarse from {{ ref('aspiration_scales') }}
),

single_component as (
    select aspiration_coarse, min(aspiration) as aspiration
    from scales
    group by aspiration_coarse
    having count(*) = 1
),

keyed as (
    select
        mart.*,
        case
            when mart.scale = 'coarse' and single_component.aspiration is not null
                then mart.wave_id || '|fine|' || single_component.aspiration
            else mart.wave_id || '|' || mart.scale || '|' || mart.aspiration
        end as cell_id
    from mart
    left join single_component
        on mart.scale = 'coarse' and single_component.aspiration_coarse = mart.aspiration
),

cells as (
    select distinct cell_id, n as cell_value, {{ release_is_small('n') }} as is_suppressed from keyed
),

equations as (
    select 'base|' || wave_id || '|' || scale as equation_id, cell_id from keyed
    union all
    select 'coarse|' || coarse.wave_id || '|' || coarse.aspiration, coarse.cell_id
    from keyed as coarse
    where coarse.scale = 'coarse'
    union all
    select 'coarse|' || fine.wave_id || '|' || scales.aspiration_coarse, fine.cell_id
    from keyed as fine
    inner join scales on scales.aspiration = fine.aspiration
    where fine.scale = 'fine'
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(keyed.wave_id as varchar) as wave_id,
    cast(keyed.scale as varchar) as scale,
    cast(keyed.aspiration as varchar) as aspiration,
    cast(case when not suppressed_cells.is_suppressed then keyed.n end as integer) as n,
    cast(suppressed_cells.is_suppressed as boolean) as n_suppressed,
    cast(case when not suppressed_cells.is_suppressed then keyed.share end as double) as share,
    cast(case when not suppressed_cells.is_suppressed then keyed.weighted_share end as double) as weighted_share
from keyed
inner join suppressed_cells on suppressed_cells.cell_id = keyed.cell_id
order by keyed.wave_id, keyed.scale, keyed.aspiration
