{#- Who answers again: of the persons who responded in Norway at `wave_from`, how many responded at
    `wave_to` in Norway, from abroad, or were not observed, per wave pair and subgroup. -#}

with

outcomes as (
    select * from {{ ref('int_analysis_pair_outcomes') }}
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
        count(*) as n_base,
        count(*) filter (where outcomes.response_status_to = 'responded_norway') as n_responded_norway,
        count(*) filter (where outcomes.response_status_to = 'responded_abroad') as n_responded_abroad,
        count(*) filter (where outcomes.response_status_to = 'not_observed') as n_not_observed
    from outcomes
    inner join subgroups
        on subgroups.person_id = outcomes.person_id
        and subgroups.wave_id = outcomes.wave_from
    group by all
)

select
    cast(wave_from as varchar) as wave_from,
    cast(wave_to as varchar) as wave_to,
    cast(subgroup as varchar) as subgroup,
    cast(subgroup_value as varchar) as subgroup_value,
    cast(n_base as integer) as n_base,
    cast(n_responded_norway as integer) as n_responded_norway,
    cast(n_responded_abroad as integer) as n_responded_abroad,
    cast(n_not_observed as integer) as n_not_observed,
    cast((n_responded_norway + n_responded_abroad) / n_base as double) as retention_rate
from counted
order by wave_number_from, wave_number_to, subgroup, subgroup_value
