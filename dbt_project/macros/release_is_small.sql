{#- Primary suppression: a count that is missing or below the threshold (zero included) is not published. -#}
{% macro release_is_small(count_expression) -%}
    ({{ count_expression }} is null or {{ count_expression }} < {{ release_min_cell() }})
{%- endmacro %}
