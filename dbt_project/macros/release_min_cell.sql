{#- Smallest count published in `release` tables: dbt var `min_cell`, set from PANEL_MIN_CELL (default 5). -#}
{% macro release_min_cell() -%}
    {%- set value = var('min_cell') | string | trim -%}
    {%- if not value.isdigit() -%}
        {{ exceptions.raise_compiler_error("PANEL_MIN_CELL / var min_cell must be a whole number, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ value | int }}
{%- endmacro %}
