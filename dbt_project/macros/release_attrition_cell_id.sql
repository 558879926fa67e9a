{#- Cell id of an attrition count (columns of the mart in scope). n_base is one count for every
    wave_to of a wave_from, so its id leaves wave_to out. -#}
{% macro release_attrition_cell_id(measure) -%}
    {%- if measure == 'n_base' -%}
    concat_ws('|', 'attrition', 'n_base', wave_from, subgroup, subgroup_value)
    {%- else -%}
    concat_ws('|', 'attrition', '{{ measure }}', wave_from, wave_to, subgroup, subgroup_value)
    {%- endif -%}
{%- endmacro %}
