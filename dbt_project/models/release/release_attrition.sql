{{ config(alias='attrition') }}
{#- marts.attrition with small counts suppressed. Suppression is decided jointly with
    aspiration_transitions and aspiration_by_wave, whose counts share bases with these (see
    release_survey_members for every relation a reader knows). retention_rate is published only when
    every count of its row is. -#}

{%- set measures = ['n_base', 'n_responded_norway', 'n_responded_abroad', 'n_not_observed'] %}

with

mart as (
    select * from {{ ref('attrition') }}
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

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }},

flagged as (
    select
        mart.*,
        {%- for measure in measures %}
        (select is_suppressed from suppressed_cells where cell_id = {{ release_attrition_cell_id(measure) }})
            as {{ measure }}_suppressed
        {{- ',' if not loop.last }}
        {%- endfor %}
    from mart
)

select
    cast(wave_from as varchar) as wave_from,
    cast(wave_to as varchar) as wave_to,
    cast(subgroup as varchar) as subgroup,
    cast(subgroup_value as varchar) as subgroup_value,
    {%- for measure in measures %}
    cast(case when not {{ measure }}_suppressed then {{ measure }} end as integer) as {{ measure }},
    cast({{ measure }}_suppressed as boolean) as {{ measure }}_suppressed,
    {%- endfor %}
    cast(
        case
            when not ({% for measure in measures %}{{ measure }}_suppressed{{ ' or ' if not loop.last }}{% endfor %})
                then retention_rate
        end as double
    ) as retention_rate
from flagged
order by wave_from, wave_to, subgroup, subgroup_value
