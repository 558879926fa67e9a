{{ config(alias='udi_stock') }}
{#- marts.udi_stock with small counts suppressed, on top of the cells UDI already suppressed (see
    release_udi_members for the relations a reader knows). -#}

with

mart as (
    select *, {{ release_udi_cell_id() }} as cell_id from {{ ref('udi_stock') }}
),

members as (
    {{ release_udi_members(ref('udi_stock')) }}
),

cells as (
    select
        mart.cell_id,
        mart.valid_permits as cell_value,
        coalesce(mart.suppressed, false) or {{ release_is_small('mart.valid_permits') }} as is_suppressed
    from mart
),

equations as (
    select distinct equation_id, cell_id from members
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(mart.snapshot_date as date) as snapshot_date,
    cast(mart.fylke_code as varchar) as fylke_code,
    cast(mart.fylke_name as varchar) as fylke_name,
    cast(mart.region_code as varchar) as region_code,
    cast(mart.sex as varchar) as sex,
    cast(mart.age_group as varchar) as age_group,
    cast(mart.is_adult as boolean) as is_adult,
    cast(case when not suppressed_cells.is_suppressed then mart.valid_permits end as integer) as valid_permits,
    cast(suppressed_cells.is_suppressed as boolean) as suppressed,
    cast(coalesce(mart.suppressed, false) as boolean) as suppressed_at_source
from mart
inner join suppressed_cells on suppressed_cells.cell_id = mart.cell_id
order by mart.snapshot_date, mart.fylke_code, mart.sex, mart.age_group
