{#- Fails for every published count in 1 .. threshold - 1 (PANEL_MIN_CELL); zeros are published. -#}
{% test release_no_small_cells(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} > 0 and {{ column_name }} < {{ release_min_cell() }}

{% endtest %}
