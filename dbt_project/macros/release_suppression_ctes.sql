{#- CTEs `<name>_pass_0` ... that apply secondary suppression repeatedly (a cell suppressed for one
    equation can leave another with a single suppressed cell) and end in CTE `name`. `passes` is
    chosen generously; the release checks (dbt test and tests/test_analysis_release.py) prove that no
    equation is left with exactly one suppressed cell. -#}
{% macro release_suppression_ctes(cells, equations, name, passes=8) -%}
    {{ name }}_pass_0 as (
        select cell_id, cell_value, is_suppressed from {{ cells }}
    ),
    {%- for i in range(1, passes + 1) %}
    {{ name }}_pass_{{ i }} as (
        {{ release_secondary_pass(name ~ '_pass_' ~ (i - 1), equations) }}
    ),
    {%- endfor %}
    {{ name }} as (
        select * from {{ name }}_pass_{{ passes }}
    )
{%- endmacro %}
