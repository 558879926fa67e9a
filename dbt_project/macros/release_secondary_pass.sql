{#- One step of secondary suppression: the cells that `state` (cell_id, cell_value, is_suppressed)
    must suppress next. `equations` (equation_id, cell_id) lists the cells of every linear relation a
    reader knows, e.g. a group of counts and the total it adds up to. An equation with published cells
    and exactly one suppressed cell gives that cell back by subtraction; one whose suppressed cells are
    all zero gives them back too (counts are never negative, so they add up to zero only if each is
    zero). Either way its smallest published cell is suppressed as well, a share base (cell id
    `share_base|...`) last. A group of shares (equation id `shares|...`) publishes its base through any
    published share: so a suppressed base suppresses every count of the group, and a group whose counts
    are all suppressed has a suppressed base. Returns each chosen cell_id once. -#}
{% macro release_secondary_pass(state, equations) -%}
    select distinct chosen.cell_id
    from (
        select
            membership.equation_id,
            membership.cell_id,
            membership.cell_value
        from (
            select
                equations.equation_id,
                members.cell_id,
                members.cell_value,
                members.is_suppressed,
                count(*) filter (where members.is_suppressed) over equation as n_suppressed,
                count(*) filter (where members.is_suppressed and members.cell_value is distinct from 0) over equation
                    as n_suppressed_nonzero
            from {{ equations }} as equations
            inner join {{ state }} as members on members.cell_id = equations.cell_id
            window equation as (partition by equations.equation_id)
        ) as membership
        where not membership.is_suppressed
            and (membership.n_suppressed = 1 or (membership.n_suppressed > 1 and membership.n_suppressed_nonzero = 0))
        qualify row_number() over (
            partition by membership.equation_id
            order by membership.cell_id like 'share_base|%', membership.cell_value = 0, membership.cell_value, membership.cell_id
        ) = 1
    ) as chosen
    union
    select share_groups.cell_id
    from (
        select
            members.cell_id,
            members.is_suppressed,
            bool_or(members.is_suppressed and members.cell_id like 'share_base|%') over (partition by equations.equation_id)
                as base_is_suppressed
        from {{ equations }} as equations
        inner join {{ state }} as members on members.cell_id = equations.cell_id
        where equations.equation_id like 'shares|%'
    ) as share_groups
    where not share_groups.is_suppressed and share_groups.base_is_suppressed
    union
    select bases.cell_id
    from {{ equations }} as base_groups
    inner join {{ state }} as bases on bases.cell_id = base_groups.cell_id
    inner join {{ equations }} as group_members on group_members.equation_id = base_groups.equation_id
    inner join {{ state }} as members on members.cell_id = group_members.cell_id
    where base_groups.equation_id like 'shares|%'
        and bases.cell_id like 'share_base|%'
        and not bases.is_suppressed
        and members.cell_id not like 'share_base|%'
    group by bases.cell_id
    having bool_and(members.is_suppressed)
{%- endmacro %}
