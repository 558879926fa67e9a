with

source as (
    select * from {{ source('raw', 'survey_invitations') }}
),

renamed as (
    select
        wave_id,
        nullif(trim(token), '') as token,
        email_hash,
        email_bloom,
        try_cast(invited_at as timestamp) as invited_at,
        nullif(trim(source_wave), '') as source_wave,
        source_file,
        cast(row_number as integer) as row_number
    from source
)

select * from renamed
