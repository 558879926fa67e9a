{#- First day of the month named by a Nordic month label (`Jan` ... `Mai` ... `Okt` ... `Des`, any case)
    in the given year; NULL for an unknown label. -#}
{% macro month_from_label(label, year) -%}
    make_date(
        cast({{ year }} as integer),
        list_position(
            ['jan', 'feb', 'mar', 'apr', 'mai', 'jun', 'jul', 'aug', 'sep', 'okt', 'nov', 'des'],
            lower(trim({{ label }}))
        ),
        1
    )
{%- endmacro %}
