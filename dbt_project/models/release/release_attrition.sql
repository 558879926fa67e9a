{{ config(alias='attrition') }}
{#- marts.attrition with small counts suppressed. Equations a reader knows: n_base = responded in
    Norway + abroad + not observed; the values of a subgroup add up to the `all` row; and n_base is the
    same count for every `wave_to` of a `wave_from`, so it is one cell. retention_rate is published only
    when every count of its row is. -#}

{%- set measures = ['n_base', 'n_responded_norway', 'n_responded_abroad', 'n_not_observed'] %}

with

mart as (
    select * from {{ ref('attrition') }}
),

long as (
    {%- for measure in measures %}
    select
        wave_from,
        wave_to,
        subgroup,
        subgroup_value,
        '{{ measure }}' as measure,
        {{ measure }} as cell_value,
        {%- if measure == 'n_base' %}
        concat_ws('|', 'n_base', wave_from, subgroup, subgroup_value) as cell_id
        {%- else %}
        concat_ws('|', '{{ measure }}', wave_from, wave_to, subgroup, subgroup_value) as cell_id
        {%- endif %}
    from mart
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

cells as (
    select distinct cell_id, cell_value, {{ release_is_small('cell_value') }} as is_suppressed from long
),

subgroups as (
    select distinct subgroup from mart where subgroup <> 'all'
),

equations as (
    select concat_ws('|', 'row', wave_from, wave_to, subgroup, subgroup_value) as equation_id, cell_id
    from long
    union all
    select concat_ws('|', 'values', measure, wave_from, wave_to, subgroup), cell_id
    from long
    where subgroup <> 'all'
    union all
    select concat_ws('|', 'values', totals.measure, totals.wave_from, totals.wave_to, subgroups.subgroup), totals.cell_id
    from long as totals
    cross join subgroups
    where totals.subgroup = 'all'
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }},

flags as (
    select
        long.wave_from,
        long.wave_to,
        long.subgroup,
        long.subgroup_value,
        {%- for measure in measures %}
        bool_or(long.measure = '{{ measure }}' and suppressed_cells.is_suppressed) as {{ measure }}_suppressed
        {{- ',' if not loop.last }}
        {%- endfor %}
    from long
    inner join suppressed_cells on suppressed_cells.cell_id = long.cell_id
    group by all
)

select
    cast(mart.wave_from as varchar) as wave_from,
    cast(mart.wave_to as varchar) as wave_to,
    cast(mart.subgroup as varchar) as subgroup,
    cast(mart.subgroup_value as varchar) as subgroup_value,
    {%- for measure in measures %}
    cast(case when not flags.{{ measure }}_suppressed then mart.{{ measure }} end as integer) as {{ measure }},
    cast(flags.{{ measure }}_suppressed as boolean) as {{ measure }}_suppressed,
    {%- endfor %}
    cast(
        case
            when not ({% for measure in measures %}flags.{{ measure }}_suppressed{{ ' or ' if not loop.last }}{% endfor %})
                then mart.retention_rate
        end as double
    ) as retention_rate
from mart
inner join flags
    on flags.wave_from = mart.wave_from
    and flags.wave_to = mart.wave_to
    and flags.subgroup = mart.subgroup
    and flags.subgroup_value = mart.subgroup_value
order by mart.wave_from, mart.wave_to, mart.subgroup, mart.subgroup_value
