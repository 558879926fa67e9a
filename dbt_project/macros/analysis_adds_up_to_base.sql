{#- Fails for every group where the counts published in `model` do not add up to the number of base
    rows in `base` (e.g. transitions of an origin = the persons who gave that origin). -#}
{% test analysis_adds_up_to_base(model, column_name, group_by, base, base_filter='true') %}

with

published as (
    select {{ group_by | join(', ') }}, sum({{ column_name }}) as published_total
    from {{ model }}
    group by {{ group_by | join(', ') }}
),

expected as (
    select {{ group_by | join(', ') }}, count(*) as base_total
    from {{ base }}
    where {{ base_filter }}
    group by {{ group_by | join(', ') }}
)

select *
from published
full outer join expected using ({{ group_by | join(', ') }})
where published_total is distinct from base_total

{% endtest %}
