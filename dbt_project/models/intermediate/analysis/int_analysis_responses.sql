{#- Responses of record (one per person and wave) with what the analysis marts need: wave order and
    year (from the wave id, so any wave in the data counts), where the person was, aspirations,
    reasons for leaving and the cross-sectional weight. -#}

with

responses as (
    select * from {{ ref('int_responses_linked') }}
    where is_response_of_record
),

cross_weights as (
    select wave_id, response_id, weight_cross from {{ source('weights', 'cross_sectional') }}
)

select
    responses.person_id,
    responses.wave_id,
    responses.wave_number,
    {{ wave_year('responses.wave_id') }} as wave_year,
    responses.response_id,
    coalesce(responses.is_complete, false) as is_complete,
    responses.country_now,
    responses.arrival_month,
    responses.left_month,
    responses.aspiration,
    responses.aspiration_coarse,
    {%- for code in range(1, 15) %}
    responses.reason_{{ '%02d' % code }},
    {%- endfor %}
    cross_weights.weight_cross
from responses
left join cross_weights
    on cross_weights.wave_id = responses.wave_id
    and cross_weights.response_id = responses.response_id
