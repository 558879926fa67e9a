{#- Every staged response with its person: staging columns (less the keyed e-mail encodings, which
    stay in staging) plus the linkage result. Analysis marts build on the responses of record. -#}

with

responses as (
    select * exclude (email_hash, email_bloom) from {{ ref('stg_survey__responses') }}
),

links as (
    select
        wave_id,
        response_id,
        person_id,
        is_response_of_record,
        link_method,
        duplicate_of_response_id,
        linked_to_response_id,
        match_probability
    from {{ source('linkage', 'response_persons') }}
)

select
    responses.*,
    links.person_id,
    links.is_response_of_record,
    links.link_method,
    links.duplicate_of_response_id,
    links.linked_to_response_id,
    links.match_probability
from responses
inner join links
    on links.wave_id = responses.wave_id
    and links.response_id = responses.response_id
