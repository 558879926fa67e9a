{#- Cell id of an aspiration_transitions count (columns of the mart in scope). -#}
{% macro release_transitions_cell_id() -%}
    concat_ws('|', 'transitions', wave_from, wave_to, subgroup, subgroup_value, aspiration_from, outcome_to)
{%- endmacro %}
