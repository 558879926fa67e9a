{#- Cell id of a udi_stock count (columns of the mart in scope). -#}
{% macro release_udi_cell_id() -%}
    concat_ws('|', 'udi_stock', snapshot_date, fylke_code, sex, age_group)
{%- endmacro %}
