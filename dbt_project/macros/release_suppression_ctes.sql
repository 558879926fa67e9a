{#- CTE `name` (cell_id, cell_value, is_suppressed): secondary suppression of `cells` (cell_id,
    cell_value, is_suppressed = primary) under `equations` (equation_id, cell_id), repeated until
    nothing changes. A recursive CTE adds one pass of the whole state at a time: each pass suppresses
    the cells `release_secondary_pass` picks from the previous one and counts them (n_new), and the
    recursion stops after a pass that picked none, whose state is the result. Cells only ever become
    suppressed and every pass but the last suppresses at least one more, so it ends after at most as
    many passes as there are cells, at a state where no equation gives a suppressed cell back. -#}
{% macro release_suppression_ctes(cells, equations, name) -%}
    {{ name }} as (
        with recursive suppression_passes(pass, cell_id, cell_value, is_suppressed, n_new) as (
            select 0, cell_id, cell_value, is_suppressed, cast(1 as bigint) from {{ cells }}
            union all
            select
                state.pass + 1,
                state.cell_id,
                state.cell_value,
                state.is_suppressed or chosen.cell_id is not null,
                count(chosen.cell_id) over ()
            from suppression_passes as state
            left join (
                {{ release_secondary_pass('suppression_passes', equations) | indent(16) }}
            ) as chosen on chosen.cell_id = state.cell_id
            where state.n_new > 0
        )
        select cell_id, cell_value, is_suppressed
        from suppression_passes
        qualify pass = max(pass) over ()
    )
{%- endmacro %}
