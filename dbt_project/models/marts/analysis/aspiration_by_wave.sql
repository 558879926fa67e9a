{#- Aspiration shares per wave on the fine and the coarse scale. Base: complete responses of record
    given in Norway with an answer. `weighted_share` uses the cross-sectional (raked) weight. 95 % Wilson
    intervals: on the base n for `share`, on Kish's effective sample size of the weights for `weighted_share`. -#}

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
        {{ ordered_sum('weight_cross') }} as weight_sum,
        {{ ordered_sum('weight_cross * weight_cross') }} as weight_square_sum
    from by_scale
    group by wave_id, wave_number, scale, aspiration
),

shares as (
    select
        wave_id,
        wave_number,
        scale,
        aspiration,
        n,
        n / sum(n) over wave_scale as share,
        weight_sum / {{ ordered_sum('weight_sum', 'wave_scale') }} as weighted_share,
        sum(n) over wave_scale as base_n,
        -- Kish: (sum w)^2 / sum w^2, the size of an unweighted sample as precise as the weighted one
        {{ ordered_sum('weight_sum', 'wave_scale') }} * {{ ordered_sum('weight_sum', 'wave_scale') }}
            / {{ ordered_sum('weight_square_sum', 'wave_scale') }} as n_effective
    from counted
    window wave_scale as (partition by wave_id, scale)
)

select
    cast(wave_id as varchar) as wave_id,
    cast(scale as varchar) as scale,
    cast(aspiration as varchar) as aspiration,
    cast(n as integer) as n,
    cast(share as double) as share,
    cast(weighted_share as double) as weighted_share,
    cast({{ wilson_interval_bound('share', 'base_n', 'lower') }} as double) as share_ci_lower,
    cast({{ wilson_interval_bound('share', 'base_n', 'upper') }} as double) as share_ci_upper,
    cast(n_effective as double) as n_effective,
    cast({{ wilson_interval_bound('weighted_share', 'n_effective', 'lower') }} as double) as weighted_share_ci_lower,
    cast({{ wilson_interval_bound('weighted_share', 'n_effective', 'upper') }} as double) as weighted_share_ci_upper
from shares
order by wave_number, scale, aspiration
