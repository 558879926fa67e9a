{#- One row per person linked across waves: wave pattern, stable attributes from the first response of
    record that gave them, last known whereabouts, and the weakest link used to build the person. -#}

with

responses as (
    select * from {{ ref('int_responses_linked') }}
),

records as (
    select * from responses where is_response_of_record
),

-- Every wave in the data, whether or not survey_waves knows it.
waves_with_data as (
    select distinct wave_id, wave_number from responses
),

patterns as (
    select
        people.person_id,
        string_agg(case when records.response_id is null then '0' else '1' end, ''
                   order by waves_with_data.wave_number) as wave_pattern
    from (select distinct person_id from records) as people
    cross join waves_with_data
    left join records
        on records.person_id = people.person_id
        and records.wave_id = waves_with_data.wave_id
    group by people.person_id
),

submissions as (
    select person_id, count(*) as n_submissions from responses group by person_id
),

summary as (
    select
        person_id,
        arg_min(wave_id, wave_number) as first_wave_id,
        arg_max(wave_id, wave_number) as last_wave_id,
        count(*) as n_waves,
        arg_min(gender, wave_number) filter (where gender is not null) as gender,
        arg_min(birth_year, wave_number) filter (where birth_year is not null) as birth_year,
        arg_min(oblast_iso, wave_number) filter (where oblast_iso is not null) as oblast_iso,
        arg_min(macro_region, wave_number) filter (where macro_region is not null) as macro_region,
        arg_min(arrival_month, wave_number) filter (where arrival_month is not null) as arrival_month,
        arg_min(kommune_code_2024, wave_number) filter (where kommune_code_2024 is not null) as first_kommune_code_2024,
        arg_min(children_in_norway, wave_number) filter (where children_in_norway is not null) as children_first,
        arg_min(partner_location, wave_number) filter (where partner_location is not null) as partner_location_first,
        arg_max(country_now, wave_number) filter (where country_now is not null) as last_known_country,
        arg_max(left_month, wave_number) filter (where left_month is not null) as left_norway_month,
        max(case link_method
                when 'single' then 0 when 'token' then 1 when 'email_exact' then 2 when 'probabilistic' then 3
            end) as weakest_link_rank
    from records
    group by person_id
)

select
    cast(summary.person_id as varchar) as person_id,
    cast(summary.first_wave_id as varchar) as first_wave_id,
    cast(summary.last_wave_id as varchar) as last_wave_id,
    cast(summary.n_waves as integer) as n_waves,
    cast(patterns.wave_pattern as varchar) as wave_pattern,
    cast(summary.gender as varchar) as gender,
    cast(summary.birth_year as integer) as birth_year,
    cast(summary.oblast_iso as varchar) as oblast_iso,
    cast(summary.macro_region as varchar) as macro_region,
    cast(summary.arrival_month as date) as arrival_month,
    cast(summary.first_kommune_code_2024 as varchar) as first_kommune_code_2024,
    cast(summary.children_first > 0 as boolean) as children_in_norway_first,
    cast(summary.partner_location_first as varchar) as partner_location_first,
    cast(summary.last_known_country as varchar) as last_known_country,
    cast(summary.left_norway_month as date) as left_norway_month,
    cast(case summary.weakest_link_rank
        when 0 then 'single' when 1 then 'token' when 2 then 'email_exact' when 3 then 'probabilistic'
    end as varchar) as linkage_method,
    cast(submissions.n_submissions as integer) as n_submissions
from summary
inner join patterns on patterns.person_id = summary.person_id
inner join submissions on submissions.person_id = summary.person_id
