{#- UDI shows a suppressed small cell as a dash (hyphen, en dash or minus sign, with any spacing). -#}
{% macro is_udi_suppressed(column) -%}
    coalesce(regexp_matches({{ column }}, '^[\s\x{00A0}\x{202F}]*[-\x{2013}\x{2212}][\s\x{00A0}\x{202F}]*$'), false)
{%- endmacro %}
