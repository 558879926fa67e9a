{#- Membership (equation_id, cell_id, cell_value) of every count of the three survey release tables
    in every linear relation a reader knows, within and across the tables. The arguments are relations
    with the columns of marts.attrition, marts.aspiration_transitions and marts.aspiration_by_wave (the
    marts themselves, or the release tables, whose counts are NULL where suppressed).

    Within a table: attrition n_base = norway + abroad + not observed, the values of a subgroup add up
    to the `all` row, n_base is one count for every wave_to; the outcomes of a transitions origin add
    up to its base (the shares reveal it), an origin has the same base for every wave_to, subgroups add
    up; the answers of a wave add up to its base (shares again), a coarse answer is the sum of its fine
    ones. Across tables, for the same wave_from (wave pair) and subgroup value, where the difference is
    people a reader cannot count (no aspiration, an incomplete answer) and is assumed known, which only
    makes suppression stricter: attrition n_base ~ all transitions of the pair; attrition
    n_responded_norway ~ the transitions to an aspiration; for consecutive waves attrition
    n_responded_abroad ~ the transitions to left_to_ukraine / left_onward; aspiration_by_wave's coarse
    answer of a wave ~ the transitions of that origin (`all`), and its wave base ~ attrition n_base.
    Combinations of these that link single counts are relations of their own, so that one gap in
    them is caught too: abroad + not observed ~ the transitions not ending in an aspiration (n_base
    minus norway), and for consecutive waves not observed ~ the transitions not observed. -#}
{% macro release_survey_members(attrition, transitions, by_wave) -%}
{%- set measures = ['n_base', 'n_responded_norway', 'n_responded_abroad', 'n_not_observed'] -%}
{%- set across = ['base_vs_origins', 'norway_vs_aspirations', 'abroad_vs_left', 'away_vs_not_aspiring', 'unseen_vs_unseen',
                  'base_vs_origin_bases', 'answers_vs_origin', 'answers_vs_base'] -%}
    select distinct
        -- A relation across tables with one table's side empty (no transitions of the group) links a
        -- count to people the tables do not count: it tells nothing, unless the count is zero, which
        -- is published. Marked one_sided, it only keeps zeros from serving as complements.
        case
            when split_part(equation_id, '|', 1) in ('{{ across | join("', '") }}')
                and min(table_name) over equation = max(table_name) over equation
                then concat('one_sided|', equation_id)
            else equation_id
        end as equation_id,
        cell_id,
        cell_value
    from (
        select
            *,
            case
                when cell_id like 'share_base|origin|%' then 'transitions'
                when cell_id like 'share_base|wave|%' then 'by_wave'
                else split_part(cell_id, '|', 1)
            end as table_name
        from (
        with
        attrition_long as (
            {%- for measure in measures %}
            select
                wave_from, wave_to, subgroup, subgroup_value,
                '{{ measure }}' as measure,
                {{ measure }} as cell_value,
                {{ release_attrition_cell_id(measure) }} as cell_id
            from {{ attrition }}
            {{ 'union all' if not loop.last }}
            {%- endfor %}
        ),
        transitions as (
            select *, {{ release_transitions_cell_id() }} as cell_id from {{ transitions }}
        ),
        by_wave as (
            select *, {{ release_by_wave_cell_id() }} as cell_id from {{ by_wave }}
        ),
        subgroups as (
            select distinct subgroup from attrition_long where subgroup <> 'all'
            union
            select distinct subgroup from transitions where subgroup <> 'all'
        ),
        pairs as (
            select distinct wave_from, wave_to from attrition_long
            union
            select distinct wave_from, wave_to from transitions
        ),
        consecutive_pairs as (
            select pairs.wave_from, pairs.wave_to
            from pairs
            where not exists (
                select 1
                from pairs as first_leg
                inner join pairs as second_leg on second_leg.wave_from = first_leg.wave_to
                where first_leg.wave_from = pairs.wave_from and second_leg.wave_to = pairs.wave_to
            )
        ),
        coarse_of_fine as (
            select aspiration, aspiration_coarse from {{ ref('aspiration_scales') }}
        ),
        transitions_to_aspiration as (
            select * from transitions where outcome_to in ('return_asap', 'stay_norway', 'undecided')
        ),
        -- The base of a share (an origin's persons, a wave's answers on a scale) is published by any
        -- published share of a nonzero count: a cell of its own, named share_base|..., known unless all
        -- its nonzero counts are suppressed (NULL here for the release tables: no published count is
        -- nonzero and some are suppressed; a zero's share is published only where the base is).
        origin_bases as (
            select wave_from, subgroup, subgroup_value, aspiration_from,
                {{ release_share_base_id(["'origin'", 'wave_from', 'subgroup', 'subgroup_value', 'aspiration_from']) }} as cell_id,
                max(base) as cell_value
            from (
                select wave_from, wave_to, subgroup, subgroup_value, aspiration_from,
                    case when bool_or(n_persons <> 0) or count(n_persons) = count(*) then sum(n_persons) end as base
                from transitions
                group by all
            )
            group by all
        ),
        wave_bases as (
            select wave_id, scale, {{ release_share_base_id(["'wave'", 'wave_id', 'scale']) }} as cell_id,
                case when bool_or(n <> 0) or count(n) = count(*) then sum(n) end as cell_value
            from by_wave
            group by all
        )

        -- attrition
        select concat_ws('|', 'attrition_row', wave_from, wave_to, subgroup, subgroup_value) as equation_id, cell_id, cell_value
        from attrition_long
        union all
        select concat_ws('|', 'attrition_values', measure, wave_from, wave_to, subgroup), cell_id, cell_value
        from attrition_long
        where subgroup <> 'all'
        union all
        select concat_ws('|', 'attrition_values', totals.measure, totals.wave_from, totals.wave_to, subgroups.subgroup),
            totals.cell_id, totals.cell_value
        from attrition_long as totals
        cross join subgroups
        where totals.subgroup = 'all'

        -- aspiration_transitions
        union all
        select concat_ws('|', 'shares', 'origin', wave_from, wave_to, subgroup, subgroup_value, aspiration_from), cell_id, n_persons
        from transitions
        union all
        select concat_ws('|', 'same_base', transitions.wave_from, later.wave_to_a, later.wave_to_b, transitions.subgroup,
                transitions.subgroup_value, transitions.aspiration_from),
            transitions.cell_id, transitions.n_persons
        from transitions
        inner join (
            select distinct a.wave_from, a.wave_to as wave_to_a, b.wave_to as wave_to_b
            from pairs as a
            inner join pairs as b on a.wave_from = b.wave_from and a.wave_to < b.wave_to
        ) as later
            on later.wave_from = transitions.wave_from
            and transitions.wave_to in (later.wave_to_a, later.wave_to_b)
        union all
        select concat_ws('|', 'transitions_values', wave_from, wave_to, subgroup, aspiration_from, outcome_to), cell_id, n_persons
        from transitions
        where subgroup <> 'all'
        union all
        select concat_ws('|', 'transitions_values', totals.wave_from, totals.wave_to, subgroups.subgroup, totals.aspiration_from,
                totals.outcome_to),
            totals.cell_id, totals.n_persons
        from transitions as totals
        cross join subgroups
        where totals.subgroup = 'all'

        union all
        select concat_ws('|', 'shares', 'origin', wave_tos.wave_from, wave_tos.wave_to, origin_bases.subgroup,
                origin_bases.subgroup_value, origin_bases.aspiration_from),
            origin_bases.cell_id, origin_bases.cell_value
        from origin_bases
        inner join (select distinct wave_from, wave_to from transitions) as wave_tos
            on wave_tos.wave_from = origin_bases.wave_from

        union all
        select concat_ws('|', 'base_values', wave_from, subgroup, aspiration_from), cell_id, cell_value
        from origin_bases
        where subgroup <> 'all'
        union all
        select concat_ws('|', 'base_values', totals.wave_from, subgroups.subgroup, totals.aspiration_from), totals.cell_id,
            totals.cell_value
        from origin_bases as totals
        cross join subgroups
        where totals.subgroup = 'all'

        -- aspiration_by_wave
        union all
        select concat_ws('|', 'shares', 'wave', wave_id, scale), cell_id, n
        from by_wave
        union all
        select concat_ws('|', 'shares', 'wave', wave_id, scale), cell_id, cell_value
        from wave_bases
        union all
        -- Both scales count the same answers, so their bases are one count.
        select concat_ws('|', 'scales_same_base', wave_id), cell_id, cell_value
        from wave_bases
        union all
        select concat_ws('|', 'coarse', coarse.wave_id, coarse.aspiration), coarse.cell_id, coarse.n
        from by_wave as coarse
        where coarse.scale = 'coarse'
        union all
        select concat_ws('|', 'coarse', fine.wave_id, coarse_of_fine.aspiration_coarse), fine.cell_id, fine.n
        from by_wave as fine
        inner join coarse_of_fine on coarse_of_fine.aspiration = fine.aspiration
        where fine.scale = 'fine'

        -- across tables
        union all
        select concat_ws('|', 'base_vs_origins', wave_from, wave_to, subgroup, subgroup_value), cell_id, cell_value
        from attrition_long
        where measure = 'n_base'
        union all
        select concat_ws('|', 'base_vs_origins', wave_from, wave_to, subgroup, subgroup_value), cell_id, n_persons
        from transitions
        union all
        select concat_ws('|', 'norway_vs_aspirations', wave_from, wave_to, subgroup, subgroup_value), cell_id, cell_value
        from attrition_long
        where measure = 'n_responded_norway'
        union all
        select concat_ws('|', 'norway_vs_aspirations', wave_from, wave_to, subgroup, subgroup_value), cell_id, n_persons
        from transitions_to_aspiration
        union all
        select concat_ws('|', 'abroad_vs_left', a.wave_from, a.wave_to, a.subgroup, a.subgroup_value), a.cell_id, a.cell_value
        from attrition_long as a
        semi join consecutive_pairs as c on c.wave_from = a.wave_from and c.wave_to = a.wave_to
        where a.measure = 'n_responded_abroad'
        union all
        select concat_ws('|', 'abroad_vs_left', t.wave_from, t.wave_to, t.subgroup, t.subgroup_value), t.cell_id, t.n_persons
        from transitions as t
        semi join consecutive_pairs as c on c.wave_from = t.wave_from and c.wave_to = t.wave_to
        where t.outcome_to in ('left_to_ukraine', 'left_onward')
        -- Combinations of the above that link single counts: base minus norway (every pair), and for
        -- consecutive waves base minus norway minus abroad.
        union all
        select concat_ws('|', 'away_vs_not_aspiring', wave_from, wave_to, subgroup, subgroup_value), cell_id, cell_value
        from attrition_long
        where measure in ('n_responded_abroad', 'n_not_observed')
        union all
        select concat_ws('|', 'away_vs_not_aspiring', wave_from, wave_to, subgroup, subgroup_value), cell_id, n_persons
        from transitions
        where outcome_to not in ('return_asap', 'stay_norway', 'undecided')
        union all
        select concat_ws('|', 'unseen_vs_unseen', a.wave_from, a.wave_to, a.subgroup, a.subgroup_value), a.cell_id, a.cell_value
        from attrition_long as a
        semi join consecutive_pairs as c on c.wave_from = a.wave_from and c.wave_to = a.wave_to
        where a.measure = 'n_not_observed'
        union all
        select concat_ws('|', 'unseen_vs_unseen', t.wave_from, t.wave_to, t.subgroup, t.subgroup_value), t.cell_id, t.n_persons
        from transitions as t
        semi join consecutive_pairs as c on c.wave_from = t.wave_from and c.wave_to = t.wave_to
        where t.outcome_to = 'not_observed'
        union all
        select concat_ws('|', 'base_vs_origin_bases', wave_from, subgroup, subgroup_value), cell_id, cell_value
        from attrition_long
        where measure = 'n_base'
        union all
        select concat_ws('|', 'base_vs_origin_bases', wave_from, subgroup, subgroup_value), cell_id, cell_value
        from origin_bases
        union all
        select concat_ws('|', 'answers_vs_origin', by_wave.wave_id, by_wave.aspiration), by_wave.cell_id, by_wave.n
        from by_wave
        where by_wave.scale = 'coarse' and by_wave.wave_id in (select wave_from from origin_bases)
        union all
        select concat_ws('|', 'answers_vs_origin', wave_from, aspiration_from), cell_id, cell_value
        from origin_bases
        where subgroup = 'all'
        union all
        select concat_ws('|', 'answers_vs_base', wave_id), cell_id, cell_value
        from wave_bases
        where scale = 'coarse'
        union all
        select concat_ws('|', 'answers_vs_base', wave_from), cell_id, cell_value
        from attrition_long
        where measure = 'n_base' and subgroup = 'all'
        )
    )
    window equation as (partition by equation_id)
{%- endmacro %}
