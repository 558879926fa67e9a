{#- Valid collective-protection permits of Ukrainian citizens by county, sex and age group on the
    snapshot date. The county name is coded in the geography valid on that date (11 counties until
    2023, 15 from 2024), and mapped to the 11 regions that stay stable across the reform. -#}

with

source as (
    select * from {{ source('raw', 'udi_valid_permits') }}
),

ref_counties as (
    select * from {{ ref('ref_counties') }}
),

renamed as (
    select
        cast(snapshot_date as date) as snapshot_date,
        trim(fylke) as fylke_name,
        case lower(trim(kjonn))
            when 'kvinner' then 'female'
            when 'menn' then 'male'
        end as sex,
        trim(aldersgruppe) as age_group,
        try_cast(regexp_extract(aldersgruppe, '^\s*(\d+)', 1) as integer) >= 18 as is_adult,
        {{ parse_udi_number('antall') }} as valid_permits,
        {{ is_udi_suppressed('antall') }} as is_suppressed,
        source_file,
        cast(row_number as integer) as row_number
    from source
),

coded as (
    select
        renamed.snapshot_date,
        renamed.fylke_name,
        ref_counties.fylke_code,
        ref_counties.region_code,
        renamed.sex,
        renamed.age_group,
        renamed.is_adult,
        renamed.valid_permits,
        renamed.is_suppressed,
        renamed.source_file,
        renamed.row_number
    from renamed
    left join ref_counties
        on {{ normalise_label('ref_counties.fylke_name') }} = {{ normalise_label('renamed.fylke_name') }}
        and renamed.snapshot_date >= ref_counties.valid_from
        and renamed.snapshot_date <= coalesce(ref_counties.valid_to, date '9999-12-31')
)

select * from coded
