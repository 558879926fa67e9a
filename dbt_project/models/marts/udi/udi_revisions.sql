{#- Every vintage of Ukrainian applications and grants per month, with the revision against the first
    published figure. -#}

with

flow_vintages as (
    select * from {{ ref('int_udi__ukrainian_flow_vintages') }}
),

final as (
    select
        cast(month as date) as month,
        cast(measure as varchar) as measure,
        cast(vintage_date as date) as vintage_date,
        cast(value as integer) as value,
        cast(first_value as integer) as first_value,
        cast(value - first_value as integer) as revision_from_first,
        cast(vintage_number as integer) as vintage_number,
        cast(is_latest_vintage as boolean) as is_latest_vintage,
        cast(is_suppressed as boolean) as suppressed
    from flow_vintages
)

select * from final
