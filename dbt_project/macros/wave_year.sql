{#- The year YYYY the wave was fielded in, from its id `w<N>_<YYYY>` (the folder name). -#}
{% macro wave_year(wave_id) -%}
    try_cast(regexp_extract({{ wave_id }}, '^w\d+_(\d{4})$', 1) as integer)
{%- endmacro %}
