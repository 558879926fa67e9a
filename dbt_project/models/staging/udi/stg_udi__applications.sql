{#- Long form of UDI's applications table: one row per citizenship and published month of each
    snapshot. An empty month cell means "not yet published" and yields no row; a dash is a suppressed
    small cell (applications NULL, is_suppressed true). -#}

with

source as (
    select * from {{ source('raw', 'udi_applications') }}
),

unpivoted as (
    select *
    from source
    unpivot include nulls (raw_value for month_label in (jan, feb, mar, apr, mai, jun, jul, aug, sep, okt, nov, des))
),

renamed as (
    select
        cast(snapshot_date as date) as snapshot_date,
        cast(report_year as integer) as report_year,
        {{ month_from_label('month_label', 'report_year') }} as month,
        trim(statsborgerskap) as citizenship,
        {{ parse_udi_number('raw_value') }} as applications,
        {{ is_udi_suppressed('raw_value') }} as is_suppressed,
        raw_value,
        source_file,
        cast(row_number as integer) as row_number
    from unpivoted
),

published as (
    select * exclude (raw_value)
    from renamed
    where nullif(trim(raw_value), '') is not null
)

select * from published
