{#- Matching key for labels whose case and spacing are not guaranteed (oblast and municipality names):
    lower case with every space, including no-break spaces, removed. -#}
{% macro normalise_label(column) -%}
    lower(regexp_replace({{ column }}, '[\s\x{00A0}\x{202F}]+', '', 'g'))
{%- endmacro %}
