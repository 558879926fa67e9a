{#- One step of secondary suppression: the cells that `state` (cell_id, cell_value, is_suppressed)
    must suppress next. `equations` (equation_id, cell_id) lists the cells of every linear relation a
    reader knows, e.g. a group of counts and the total it adds up to. An equation with published cells
    and exactly one suppressed cell gives that cell back by subtraction. One with several suppressed
    cells tells their total (or, when the total is among them, less): if that is below the threshold
    the gaps are small together, and counts are never negative, so each is pinned to a small range
    (all zero when the total is zero). Either way its smallest published cell is suppressed as well,
    a zero or a share base (cell id `share_base|...`) last, never a zero in a relation of zeros. Summing the gaps without signs can only
    overstate what a reader learns, so this errs on the safe side. A group of shares (equation id
    `shares|...`) publishes its base through any published share of a nonzero count (a zero's share is
    published only where the base is: see the release models): so a suppressed base suppresses every
    nonzero count of the group, and a group whose nonzero counts are all suppressed has a suppressed base.
    Returns each chosen cell_id once. -#}
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
                coalesce(sum(members.cell_value) filter (where members.is_suppressed) over equation, 0) as suppressed_total
            from {{ equations }} as equations
            inner join {{ state }} as members on members.cell_id = equations.cell_id
            where equations.equation_id not like 'one_sided|%'
            window equation as (partition by equations.equation_id)
        ) as membership
        where not membership.is_suppressed
            and (membership.n_suppressed = 1 or (membership.n_suppressed > 1 and membership.suppressed_total < {{ release_min_cell() }}))
            -- A zero in a relation whose counts are all zero (abroad when the pair has no transitions
            -- that left: the transitions leave such rows out) is known, so suppressing it protects nothing.
            and (membership.cell_value <> 0 or membership.cell_id not in (
                select zero_members.cell_id
                from (
                    select
                        zeros.cell_id,
                        bool_and(coalesce(zero_state.cell_value, 1) = 0) over (partition by zeros.equation_id) as all_zero
                    from {{ equations }} as zeros
                    inner join {{ state }} as zero_state on zero_state.cell_id = zeros.cell_id
                ) as zero_members
                where zero_members.all_zero
            ))
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
            members.cell_value,
            members.is_suppressed,
            bool_or(members.is_suppressed and members.cell_id like 'share_base|%') over (partition by equations.equation_id)
                as base_is_suppressed
        from {{ equations }} as equations
        inner join {{ state }} as members on members.cell_id = equations.cell_id
        where equations.equation_id like 'shares|%'
    ) as share_groups
    where not share_groups.is_suppressed and share_groups.base_is_suppressed and share_groups.cell_value <> 0
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
    having bool_and(members.is_suppressed or members.cell_value = 0) and bool_or(members.cell_value <> 0)
{%- endmacro %}
