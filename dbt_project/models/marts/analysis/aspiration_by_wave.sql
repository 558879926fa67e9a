{#- Aspiration shares per wave on the fine and the coarse scale. Base: complete responses of record
    given in Norway with an answer. `weighted_share` uses the cross-sectional (raked) weight. -#}

with

answers as (
    select wave_id, wave_number, aspiration, aspiration_coarse, weight_cross
    from {{ ref('int_analysis_responses') }}
    where is_complete and country_now = 'norway'
),

by_scale as (
    select wave_id, wave_number, 'fine' as scale, aspiration, weight_cross from answers where aspiration is not null
    union all
    select wave_id, wave_number, 'coarse', aspiration_coarse, weight_cross from answers where aspiration_coarse is not null
),

counted as (
    select
        wave_id,
        wave_number,
        scale,
        aspiration,
        count(*) as n,
        fsum(weight_cross) as weight_sum
    from by_scale
    group by wave_id, wave_number, scale, aspiration
)

select
    cast(wave_id as varchar) as wave_id,
    cast(scale as varchar) as scale,
    cast(aspiration as varchar) as aspiration,
    cast(n as integer) as n,
    cast(n / sum(n) over (partition by wave_id, scale) as double) as share,
    cast(weight_sum / fsum(weight_sum) over (partition by wave_id, scale) as double) as weighted_share
from counted
order by wave_number, scale, aspiration
