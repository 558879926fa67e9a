{#- Use the folder's schema name as-is (staging, marts, ...) instead of dbt's `<target>_<custom>`,
    because analysts query the contract's names (`marts.persons`), not target-prefixed ones. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
