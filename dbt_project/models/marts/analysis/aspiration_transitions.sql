{#- Where people who gave a coarse aspiration in Norway at `wave_from` stand at `wave_to`, for every
    wave pair and subgroup. Leaving (to Ukraine or onward) and not being observed are outcomes of their
    own. `weighted_share` uses the longitudinal weight and is a share of the observed outcomes only. -#}

with

outcomes as (
    select * from {{ ref('int_analysis_pair_outcomes') }}
    where aspiration_from is not null
),

subgroups as (
    select * from {{ ref('int_analysis_subgroups') }}
),

counted as (
    select
        outcomes.wave_from,
        outcomes.wave_number_from,
        outcomes.wave_to,
        outcomes.wave_number_to,
        subgroups.subgroup,
        subgroups.subgroup_value,
        outcomes.aspiration_from,
        outcomes.outcome_to,
        count(*) as n_persons,
        {{ ordered_sum("case when outcomes.outcome_to <> 'not_observed' then outcomes.weight_long end") }} as weight_observed
    from outcomes
    inner join subgroups
        on subgroups.person_id = outcomes.person_id
        and subgroups.wave_id = outcomes.wave_from
    group by all
),

shared as (
    select
        *,
        n_persons / sum(n_persons) over origin as share,
        case
            when outcome_to <> 'not_observed'
                then coalesce(weight_observed, 0) / nullif({{ ordered_sum('weight_observed', 'origin') }}, 0)
        end as weighted_share
    from counted
    window origin as (partition by wave_from, wave_to, subgroup, subgroup_value, aspiration_from)
)

select
    cast(wave_from as varchar) as wave_from,
    cast(wave_to as varchar) as wave_to,
    cast(subgroup as varchar) as subgroup,
    cast(subgroup_value as varchar) as subgroup_value,
    cast(aspiration_from as varchar) as aspiration_from,
    cast(outcome_to as varchar) as outcome_to,
    cast(n_persons as integer) as n_persons,
    cast(share as double) as share,
    cast(weighted_share as double) as weighted_share
from shared
order by wave_number_from, wave_number_to, subgroup, subgroup_value, aspiration_from, outcome_to
