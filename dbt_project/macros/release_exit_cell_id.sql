{#- Cell id of an exit_reasons count (columns of the mart in scope): n_selected per wave and reason,
    n_asked per wave and asked_of. -#}
{% macro release_exit_cell_id(measure) -%}
    {%- if measure == 'n_asked' -%}
    concat_ws('|', 'exit_reasons', 'n_asked', wave_id, asked_of)
    {%- else -%}
    concat_ws('|', 'exit_reasons', 'n_selected', wave_id, reason_code)
    {%- endif -%}
{%- endmacro %}
