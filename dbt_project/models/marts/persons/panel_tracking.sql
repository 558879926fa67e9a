{#- SOEP ppathl-style tracking: one row per person and wave from the person's first wave on, for every
    wave in the data. Status: responded (in Norway or abroad, by the response of
    record's country_now; a response without it counts as in Norway, where the survey was fielded),
    else invited (a token for the wave went to an address linked to the person) or not. -#}

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

first_waves as (
    select person_id, min(wave_number) as first_wave_number from records group by person_id
),

person_waves as (
    select first_waves.person_id, waves_with_data.wave_id, waves_with_data.wave_number
    from first_waves
    inner join waves_with_data on waves_with_data.wave_number >= first_waves.first_wave_number
),

invitations as (
    select person_id, wave_id from {{ ref('int_linkage__person_invitations') }}
),

cross_weights as (
    select wave_id, response_id, weight_cross from {{ source('weights', 'cross_sectional') }}
),

submissions as (
    select person_id, wave_id, count(*) as n_submissions from responses group by person_id, wave_id
)

select
    cast(person_waves.person_id as varchar) as person_id,
    cast(person_waves.wave_id as varchar) as wave_id,
    cast(person_waves.wave_number as integer) as wave_number,
    cast(case
        when records.response_id is not null and records.country_now in ('ukraine', 'other') then 'responded_abroad'
        when records.response_id is not null then 'responded_in_norway'
        when invitations.person_id is not null then 'invited_no_response'
        else 'not_invited'
    end as varchar) as status,
    cast(records.response_id as varchar) as response_id,
    cast(invitations.person_id is not null as boolean) as invited,
    cast(records.country_now as varchar) as country,
    cast(records.aspiration as varchar) as aspiration,
    cast(records.aspiration_coarse as varchar) as aspiration_coarse,
    cast(cross_weights.weight_cross as double) as weight_cross,
    cast(records.is_complete as boolean) as is_complete,
    cast(records.link_method as varchar) as link_method,
    cast(coalesce(submissions.n_submissions, 0) as integer) as n_submissions
from person_waves
left join records
    on records.person_id = person_waves.person_id
    and records.wave_id = person_waves.wave_id
left join invitations
    on invitations.person_id = person_waves.person_id
    and invitations.wave_id = person_waves.wave_id
left join cross_weights
    on cross_weights.wave_id = records.wave_id
    and cross_weights.response_id = records.response_id
left join submissions
    on submissions.person_id = person_waves.person_id
    and submissions.wave_id = person_waves.wave_id
