{#- Valid collective-protection permits of Ukrainian citizens per snapshot, county (as reported on that
    date), sex and age group, with the 11 regions that stay comparable across the 2024 county reform. -#}

with

valid_permits as (
    select * from {{ ref('stg_udi__valid_permits') }}
),

final as (
    select
        cast(snapshot_date as date) as snapshot_date,
        cast(fylke_code as varchar) as fylke_code,
        cast(fylke_name as varchar) as fylke_name,
        cast(region_code as varchar) as region_code,
        cast(sex as varchar) as sex,
        cast(age_group as varchar) as age_group,
        cast(is_adult as boolean) as is_adult,
        cast(valid_permits as integer) as valid_permits,
        cast(is_suppressed as boolean) as suppressed
    from valid_permits
)

select * from final
