{#- Applications and grants of Ukrainian citizens, one row per month, measure and vintage (the snapshot
    that reported it). Every monthly UDI update revises the earlier months of the year, so each vintage
    is kept; is_latest_vintage marks the figure the newest snapshot gives for that month. -#}

{%- set ukrainian_citizenship = 'Ukraina' %}

with

applications as (
    select * from {{ ref('stg_udi__applications') }}
),

decisions as (
    select * from {{ ref('stg_udi__decisions') }}
),

flows as (
    select month, 'applications' as measure, snapshot_date as vintage_date, applications as value, is_suppressed
    from applications
    where citizenship = '{{ ukrainian_citizenship }}'
    union all
    select month, 'granted' as measure, snapshot_date as vintage_date, value, is_suppressed
    from decisions
    where citizenship = '{{ ukrainian_citizenship }}'
        and measure = 'granted'
),

vintaged as (
    select
        month,
        measure,
        vintage_date,
        value,
        is_suppressed,
        cast(row_number() over (partition by month, measure order by vintage_date) as integer) as vintage_number,
        row_number() over (partition by month, measure order by vintage_date desc) = 1 as is_latest_vintage,
        first_value(value) over (partition by month, measure order by vintage_date) as first_value
    from flows
)

select * from vintaged
