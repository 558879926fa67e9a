{{ config(alias='udi_stock') }}
{#- marts.udi_stock with small counts suppressed, on top of the cells UDI already suppressed.
    Equations a reader knows: the age groups of a county and sex, the two sexes of a county and age
    group, and every cell of a snapshot (its total is `udi_monthly.valid_stock`). -#}

with

mart as (
    select * from {{ ref('udi_stock') }}
),

keyed as (
    select
        *,
        concat_ws('|', snapshot_date, fylke_code, sex, age_group) as cell_id
    from mart
),

cells as (
    select
        cell_id,
        valid_permits as cell_value,
        coalesce(suppressed, false) or {{ release_is_small('valid_permits') }} as is_suppressed
    from keyed
),

equations as (
    select concat_ws('|', 'ages', snapshot_date, fylke_code, sex) as equation_id, cell_id from keyed
    union all
    select concat_ws('|', 'sexes', snapshot_date, fylke_code, age_group), cell_id from keyed
    union all
    select concat_ws('|', 'snapshot', snapshot_date), cell_id from keyed
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(keyed.snapshot_date as date) as snapshot_date,
    cast(keyed.fylke_code as varchar) as fylke_code,
    cast(keyed.fylke_name as varchar) as fylke_name,
    cast(keyed.region_code as varchar) as region_code,
    cast(keyed.sex as varchar) as sex,
    cast(keyed.age_group as varchar) as age_group,
    cast(keyed.is_adult as boolean) as is_adult,
    cast(case when not suppressed_cells.is_suppressed then keyed.valid_permits end as integer) as valid_permits,
    cast(suppressed_cells.is_suppressed as boolean) as suppressed,
    cast(coalesce(keyed.suppressed, false) as boolean) as suppressed_at_source
from keyed
inner join suppressed_cells on suppressed_cells.cell_id = keyed.cell_id
order by keyed.snapshot_date, keyed.fylke_code, keyed.sex, keyed.age_group
