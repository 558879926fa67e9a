{#- Membership (equation_id, cell_id, cell_value) of every udi_stock count in the relations a reader
    knows: the age groups of a county and sex, the two sexes of a county and age group, and every cell
    of a snapshot (its total is udi_monthly.valid_stock). `udi_stock` has the columns of
    marts.udi_stock (or release.udi_stock, NULL where suppressed). -#}
{% macro release_udi_members(udi_stock) -%}
    select concat_ws('|', 'ages', snapshot_date, fylke_code, sex) as equation_id, {{ release_udi_cell_id() }} as cell_id,
        valid_permits as cell_value
    from {{ udi_stock }}
    union all
    select concat_ws('|', 'sexes', snapshot_date, fylke_code, age_group), {{ release_udi_cell_id() }}, valid_permits
    from {{ udi_stock }}
    union all
    select concat_ws('|', 'snapshot', snapshot_date), {{ release_udi_cell_id() }}, valid_permits
    from {{ udi_stock }}
{%- endmacro %}
