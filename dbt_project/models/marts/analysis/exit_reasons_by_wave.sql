{{ config(alias='exit_reasons') }}
{#- Table 1 per wave: of the leavers answering that wave (complete responses of record from abroad),
    how many were shown each reason (`n_asked`, by the reason's `asked_of`) and how many selected it. -#}

with

leavers as (
    select *
    from {{ ref('int_analysis_responses') }}
    where is_complete and country_now in ('ukraine', 'other')
),

reasons as (
    select reason_code, reason_label, asked_of from {{ ref('exit_reasons') }}
),

answers as (
    {%- for code in range(1, 15) %}
    select wave_id, wave_number, country_now, {{ code }} as reason_code, reason_{{ '%02d' % code }} as selected
    from leavers
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

shown as (
    select
        answers.*,
        reasons.reason_label,
        reasons.asked_of,
        reasons.asked_of = 'everyone'
            or (reasons.asked_of = 'returned' and answers.country_now = 'ukraine')
            or (reasons.asked_of = 'onward' and answers.country_now = 'other') as is_asked
    from answers
    inner join reasons on reasons.reason_code = answers.reason_code
),

counted as (
    select
        wave_id,
        wave_number,
        reason_code,
        reason_label,
        asked_of,
        count(*) filter (where is_asked) as n_asked,
        count(*) filter (where is_asked and coalesce(selected, false)) as n_selected
    from shown
    group by all
)

select
    cast(wave_id as varchar) as wave_id,
    cast(reason_code as integer) as reason_code,
    cast(reason_label as varchar) as reason_label,
    cast(asked_of as varchar) as asked_of,
    cast(n_selected as integer) as n_selected,
    cast(n_asked as integer) as n_asked
from counted
order by wave_number, reason_code
