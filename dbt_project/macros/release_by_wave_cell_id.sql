{#- Cell id of an aspiration_by_wave count (columns of the mart in scope). -#}
{% macro release_by_wave_cell_id() -%}
    concat_ws('|', 'by_wave', wave_id, scale, aspiration)
{%- endmacro %}
