{#- One row per person who reported having left Norway, from their first report: when they left, where
    to, after how long, the coarse aspiration they last gave in Norway before it, and why they left. -#}

with

responses as (
    select * from {{ ref('int_analysis_responses') }}
),

persons as (
    select person_id, arrival_month from {{ ref('persons') }}
),

first_reports as (
    select *
    from responses
    where country_now in ('ukraine', 'other')
    qualify row_number() over (partition by person_id order by wave_number) = 1
),

aspiration_before as (
    select
        first_reports.person_id,
        arg_max(earlier.aspiration_coarse, earlier.wave_number) as aspiration_before
    from first_reports
    inner join responses as earlier
        on earlier.person_id = first_reports.person_id
        and earlier.wave_number < first_reports.wave_number
        and earlier.country_now = 'norway'
        and earlier.aspiration_coarse is not null
    group by first_reports.person_id
)

select
    cast(first_reports.person_id as varchar) as person_id,
    cast(first_reports.left_month as date) as left_month,
    cast(case first_reports.country_now when 'ukraine' then 'ukraine' else 'other' end as varchar) as destination,
    cast(coalesce(persons.arrival_month, first_reports.arrival_month) as date) as arrival_month,
    cast(date_diff('month', coalesce(persons.arrival_month, first_reports.arrival_month), first_reports.left_month) as integer)
        as months_in_norway,
    cast(first_reports.wave_id as varchar) as reported_in_wave,
    cast(first_reports.response_id as varchar) as response_id,
    cast(aspiration_before.aspiration_before as varchar) as aspiration_before,
    {%- for code in range(1, 15) %}
    cast(first_reports.reason_{{ '%02d' % code }} as boolean) as reason_{{ code }}{{ ',' if not loop.last }}
    {%- endfor %}
from first_reports
left join persons on persons.person_id = first_reports.person_id
left join aspiration_before on aspiration_before.person_id = first_reports.person_id
order by reported_in_wave, person_id
