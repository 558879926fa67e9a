{#- Disclosure problems of published counts, one row each (problem, equation_id, cell_id); none when safe.
    `published` and `truth` are queries giving (equation_id, cell_id, cell_value) over the release
    tables (NULL = suppressed) and over the marts they come from. A suppressed count can be given back
    when a relation a reader knows has published counts and exactly one suppressed count (subtraction);
    it is pinned to a small range when the suppressed counts of such a relation add up to less than
    the threshold (counts are never negative; all zero is the extreme case) while a nonzero count is
    published that could widen them (a withheld zero adds nothing to their total). The relations include
    those across tables and their combinations (release_survey_members); the same count must also be
    either published everywhere or suppressed everywhere. -#}
{% macro release_recoverable_cells(published, truth) -%}
    with

    published as (
        {{ published }}
    ),

    truth as (
        select distinct cell_id, cell_value from ({{ truth }})
    ),

    cell_states as (
        select
            cell_id,
            bool_or(cell_value is null) as is_suppressed,
            bool_or(cell_value is null) and bool_or(cell_value is not null) as is_inconsistent
        from published
        group by cell_id
    ),

    equations as (
        select distinct equation_id, cell_id from published
    ),

    tallies as (
        select
            equations.equation_id,
            count(*) filter (where cell_states.is_suppressed) as n_suppressed,
            count(*) filter (where not cell_states.is_suppressed) as n_published,
            count(truth.cell_value) filter (where cell_states.is_suppressed) as n_suppressed_known,
            coalesce(sum(truth.cell_value) filter (where cell_states.is_suppressed), 0) as suppressed_total,
            count(*) filter (where not cell_states.is_suppressed and truth.cell_value <> 0) as n_published_nonzero,
            min(equations.cell_id) filter (where cell_states.is_suppressed) as suppressed_cell_id
        from equations
        inner join cell_states on cell_states.cell_id = equations.cell_id
        left join truth on truth.cell_id = equations.cell_id
        where equations.equation_id not like 'one_sided|%'
        group by equations.equation_id
    )

    select 'recoverable by subtraction' as problem, equation_id, suppressed_cell_id as cell_id
    from tallies
    where n_suppressed = 1 and n_published > 0
    union all
    select 'suppressed counts add up to less than the threshold', equation_id, suppressed_cell_id
    from tallies
    where n_suppressed > 1 and n_suppressed_known = n_suppressed and suppressed_total < {{ release_min_cell() }}
        and n_published_nonzero > 0
    union all
    select 'suppressed in one place and published in another', null, cell_id
    from cell_states
    where is_inconsistent
{%- endmacro %}
