{#- Long form of UDI's decisions table: one row per citizenship, month and measure
    (granted = innvilget, refused = avslag, dismissed = henlagt) of each snapshot. An empty cell is
    not yet published and yields no row; a dash is suppressed (value NULL, is_suppressed true). -#}

with

source as (
    select * from {{ source('raw', 'udi_decisions') }}
),

unpivoted as (
    select *
    from source
    unpivot include nulls (raw_value for measure_label in (innvilget, avslag, henlagt))
),

renamed as (
    select
        cast(snapshot_date as date) as snapshot_date,
        cast(report_year as integer) as report_year,
        {{ month_from_label('maaned', 'report_year') }} as month,
        trim(statsborgerskap) as citizenship,
        case measure_label
            when 'innvilget' then 'granted'
            when 'avslag' then 'refused'
            when 'henlagt' then 'dismissed'
        end as measure,
        {{ parse_udi_number('raw_value') }} as value,
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
