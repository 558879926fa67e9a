{#- Which person was invited to which wave: an invitation token for the wave was sent to an address
    linked to the person (an address the person typed, or the address behind a token the person used).
    The keyed address hashes stay here; marts only see the resulting flag. -#}

with

links as (
    select wave_id, response_id, person_id from {{ source('linkage', 'response_persons') }}
),

responses as (
    select wave_id, response_id, token, email_hash from {{ ref('stg_survey__responses') }}
),

invitations as (
    select wave_id, token, email_hash from {{ ref('stg_survey__invitations') }}
    where email_hash is not null
),

person_addresses as (
    select distinct links.person_id, responses.email_hash
    from links
    inner join responses using (wave_id, response_id)
    where responses.email_hash is not null
    union
    select distinct links.person_id, invitations.email_hash
    from links
    inner join responses using (wave_id, response_id)
    inner join invitations
        on invitations.wave_id = responses.wave_id
        and invitations.token = responses.token
)

select distinct
    person_addresses.person_id,
    invitations.wave_id
from person_addresses
inner join invitations on invitations.email_hash = person_addresses.email_hash
