{#- One pass of secondary suppression over `cells` (cell_id, cell_value, is_suppressed).
    `equations` (equation_id, cell_id) lists the cells of every linear relation a reader knows, e.g. a
    group of counts and the total it adds up to. An equation with exactly one suppressed cell would let
    a reader recompute it by subtraction, so its smallest published cell is suppressed too. -#}
{% macro release_secondary_pass(cells, equations) -%}
    select
        cells.cell_id,
        cells.cell_value,
        cells.is_suppressed or chosen.cell_id is not null as is_suppressed
    from {{ cells }} as cells
    left join (
        select distinct cell_id
        from (
            select
                cell_id,
                row_number() over (partition by equation_id order by cell_value, cell_id) as pick_order
            from (
                select
                    equations.equation_id,
                    members.cell_id,
                    members.cell_value,
                    members.is_suppressed,
                    count(*) filter (where members.is_suppressed) over (partition by equations.equation_id) as n_suppressed
                from {{ equations }} as equations
                inner join {{ cells }} as members on members.cell_id = equations.cell_id
            ) as membership
            where n_suppressed = 1 and not is_suppressed
        ) as candidates
        where pick_order = 1
    ) as chosen on chosen.cell_id = cells.cell_id
{%- endmacro %}
