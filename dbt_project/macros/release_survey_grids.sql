{#- The arguments of release_survey_members for the marts, with aspiration_transitions and
    aspiration_by_wave as full grids (zeros included): the survey release tables publish the grids. -#}
{% macro release_survey_grids() -%}
    {{ return([
        ref('attrition'),
        '(' ~ release_transitions_grid(ref('aspiration_transitions')) ~ ')',
        '(' ~ release_by_wave_grid(ref('aspiration_by_wave')) ~ ')'
    ]) }}
{%- endmacro %}
