{#- UDI counts arrive as text with a space, no-break space (U+00A0) or narrow no-break space (U+202F)
    as thousands separator (`1 639`); a dash is a suppressed small cell and yields NULL.
    Anything else that is not a whole number also yields NULL, so staging tests flag it
    (a non-suppressed cell without a value). -#}
{% macro parse_udi_number(column) -%}
    case
        when {{ is_udi_suppressed(column) }} then null
        else try_cast(regexp_replace({{ column }}, '[\s\x{00A0}\x{202F}]', '', 'g') as integer)
    end
{%- endmacro %}
