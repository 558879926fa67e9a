{#- marts.aspiration_transitions as a full grid (the columns the release publishes): every wave pair
    of the mart x every subgroup value of the mart at its wave_from x every origin (the coarse aspirations
    of the aspiration_scales seed and of the mart) x every outcome (those and the mart's outcomes),
    zeros included. The mart leaves zero counts out, so a reader who knows that zeros are published
    would know that each suppressed count is at least 1; on the grid a suppressed count may be 0. A
    zero's share is 0 where its origin has people (its weighted share where the origin has any). -#}
{% macro release_transitions_grid(transitions) -%}
    with
    mart as (
        select wave_from, wave_to, subgroup, subgroup_value, aspiration_from, outcome_to, n_persons, share, weighted_share
        from {{ transitions }}
    ),
    aspirations as (
        select distinct aspiration_coarse as aspiration from {{ ref('aspiration_scales') }}
    ),
    grid as (
        select pairs.wave_from, pairs.wave_to, groups.subgroup, groups.subgroup_value, origins.aspiration_from, outcomes.outcome_to
        from (select distinct wave_from, wave_to from mart) as pairs
        -- A subgroup value with nobody in the transitions at wave_from gets no rows: the relations
        -- across tables then stay one-sided (attrition counts people the transitions do not).
        inner join (select distinct wave_from, subgroup, subgroup_value from mart) as groups
            on groups.wave_from = pairs.wave_from
        cross join (select aspiration as aspiration_from from aspirations union select distinct aspiration_from from mart) as origins
        cross join (select aspiration as outcome_to from aspirations union select distinct outcome_to from mart) as outcomes
    ),
    origins as (
        select wave_from, wave_to, subgroup, subgroup_value, aspiration_from, count(weighted_share) > 0 as is_weighted
        from mart
        group by all
    )
    select
        grid.wave_from, grid.wave_to, grid.subgroup, grid.subgroup_value, grid.aspiration_from, grid.outcome_to,
        coalesce(mart.n_persons, 0) as n_persons,
        case when mart.n_persons is not null then mart.share when origins.aspiration_from is not null then 0.0 end as share,
        case
            when mart.n_persons is not null then mart.weighted_share
            when origins.is_weighted and grid.outcome_to <> 'not_observed' then 0.0
        end as weighted_share
    from grid
    left join mart using (wave_from, wave_to, subgroup, subgroup_value, aspiration_from, outcome_to)
    left join origins using (wave_from, wave_to, subgroup, subgroup_value, aspiration_from)
{%- endmacro %}
