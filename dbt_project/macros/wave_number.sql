{#- The wave's number N from its id `w<N>_<YYYY>` (the folder name): waves are data, never listed. -#}
{% macro wave_number(wave_id) -%}
    try_cast(regexp_extract({{ wave_id }}, '^w(\d+)_\d{4}$', 1) as integer)
{%- endmacro %}
