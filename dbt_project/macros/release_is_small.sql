{#- Primary suppression: a count that is missing or in 1 .. threshold - 1. A zero is not small: it
    counts nobody, and the marts already show zeros by leaving their rows out. -#}
{% macro release_is_small(count_expression) -%}
    ({{ count_expression }} is null or ({{ count_expression }} > 0 and {{ count_expression }} < {{ release_min_cell() }}))
{%- endmacro %}
