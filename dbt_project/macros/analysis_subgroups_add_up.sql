{#- Fails where the values of a subgroup do not add up to the `all`/`all` row: every person has one
    value per subgroup, so each count summed over a subgroup's values equals the `all` count. -#}
{% test analysis_subgroups_add_up(model, keys, count_columns) %}

with

totals as (
    select {{ keys | join(', ') }}{% for c in count_columns %}, {{ c }} as all_{{ c }}{% endfor %}
    from {{ model }}
    where subgroup = 'all'
),

by_subgroup as (
    select subgroup, {{ keys | join(', ') }}{% for c in count_columns %}, sum({{ c }}) as sum_{{ c }}{% endfor %}
    from {{ model }}
    where subgroup <> 'all'
    group by subgroup, {{ keys | join(', ') }}
)

select by_subgroup.*, totals.*
from by_subgroup
full outer join totals using ({{ keys | join(', ') }})
where false
{%- for c in count_columns %}
    or coalesce(by_subgroup.sum_{{ c }}, 0) <> coalesce(totals.all_{{ c }}, 0)
{%- endfor %}

{% endtest %}
