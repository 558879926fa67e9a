{#- One row per wave pair (from < to, any waves in the data) and person who responded in Norway at
    `wave_from` (partial responses included): their status at `wave_to` (docs/contracts/warehouse.md).
    The outcome is the answer given at `wave_to` (abroad = left_to_ukraine / left_onward; in Norway
    without an aspiration = not_observed); without an answer there, `left_*` when the person's last
    answer between the two waves came from abroad (known to have left, not seen in Norway since),
    else not_observed. -#}

with

responses as (
    select * from {{ ref('int_analysis_responses') }}
),

fielded_waves as (
    select distinct wave_id, wave_number from responses
),

pairs as (
    select
        wave_from.wave_id as wave_from,
        wave_from.wave_number as wave_number_from,
        wave_to.wave_id as wave_to,
        wave_to.wave_number as wave_number_to
    from fielded_waves as wave_from
    inner join fielded_waves as wave_to on wave_from.wave_number < wave_to.wave_number
),

base as (
    select
        pairs.*,
        responses.person_id,
        responses.aspiration_coarse as aspiration_from
    from pairs
    inner join responses
        on responses.wave_id = pairs.wave_from
        and responses.country_now = 'norway'
),

-- The person's last answer strictly between the two waves, whatever it said (NULL country included).
last_answer_between as (
    select
        base.wave_from,
        base.wave_to,
        base.person_id,
        later.country_now as last_country_between
    from base
    inner join responses as later
        on later.person_id = base.person_id
        and later.wave_number > base.wave_number_from
        and later.wave_number < base.wave_number_to
    qualify row_number() over (
        partition by base.wave_from, base.wave_to, base.person_id order by later.wave_number desc
    ) = 1
),

weights_long as (
    select wave_from, wave_to, person_id, weight_long from {{ source('weights', 'longitudinal') }}
),

classified as (
    select
        base.wave_from,
        base.wave_number_from,
        base.wave_to,
        base.wave_number_to,
        base.person_id,
        base.aspiration_from,
        case
            when response_to.person_id is null then 'not_observed'
            when response_to.country_now in ('ukraine', 'other') then 'responded_abroad'
            else 'responded_norway'
        end as response_status_to,
        case
            when response_to.country_now = 'ukraine' then 'left_to_ukraine'
            when response_to.country_now = 'other' then 'left_onward'
            when response_to.person_id is not null then coalesce(response_to.aspiration_coarse, 'not_observed')
            when last_answer_between.last_country_between = 'ukraine' then 'left_to_ukraine'
            when last_answer_between.last_country_between = 'other' then 'left_onward'
            else 'not_observed'
        end as outcome_to,
        weights_long.weight_long
    from base
    left join responses as response_to
        on response_to.person_id = base.person_id
        and response_to.wave_id = base.wave_to
    left join last_answer_between
        on last_answer_between.wave_from = base.wave_from
        and last_answer_between.wave_to = base.wave_to
        and last_answer_between.person_id = base.person_id
    left join weights_long
        on weights_long.wave_from = base.wave_from
        and weights_long.wave_to = base.wave_to
        and weights_long.person_id = base.person_id
)

select * from classified
