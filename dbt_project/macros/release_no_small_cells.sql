{#- Fails for every published count below the release threshold (PANEL_MIN_CELL). -#}
{% test release_no_small_cells(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and {{ column_name }} < {{ release_min_cell() }}

{% endtest %}
