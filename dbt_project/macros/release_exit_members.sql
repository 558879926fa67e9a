{#- Membership (equation_id, cell_id, cell_value) of the exit_reasons counts in the relations a reader
    knows. n_asked is one count per wave and asked_of, and leavers asked of everyone = those who
    returned + those who moved onward. Reasons are multiple choice, so the n_selected of a wave add up
    to nothing a reader knows: each is an equation of its own (a cell that is only primary-suppressed).
    `exit_reasons` has the columns of marts.exit_reasons (or release.exit_reasons). -#}
{% macro release_exit_members(exit_reasons) -%}
    select distinct concat_ws('|', 'leavers', wave_id) as equation_id, {{ release_exit_cell_id('n_asked') }} as cell_id,
        n_asked as cell_value
    from {{ exit_reasons }}
    union all
    select concat_ws('|', 'selected', wave_id, reason_code), {{ release_exit_cell_id('n_selected') }}, n_selected
    from {{ exit_reasons }}
{%- endmacro %}
