{{ config(alias='exit_reasons') }}
{#- marts.exit_reasons with small counts suppressed (see release_exit_members for the relations a
    reader knows). -#}

with

mart as (
    select
        *,
        {{ release_exit_cell_id('n_selected') }} as selected_cell_id,
        {{ release_exit_cell_id('n_asked') }} as asked_cell_id
    from {{ ref('exit_reasons_by_wave') }}
),

members as (
    {{ release_exit_members(ref('exit_reasons_by_wave')) }}
),

cells as (
    select distinct cell_id, cell_value, {{ release_is_small('cell_value') }} as is_suppressed from members
),

equations as (
    select distinct equation_id, cell_id from members
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(mart.wave_id as varchar) as wave_id,
    cast(mart.reason_code as integer) as reason_code,
    cast(mart.reason_label as varchar) as reason_label,
    cast(mart.asked_of as varchar) as asked_of,
    cast(case when not selected.is_suppressed then mart.n_selected end as integer) as n_selected,
    cast(selected.is_suppressed as boolean) as n_selected_suppressed,
    cast(case when not asked.is_suppressed then mart.n_asked end as integer) as n_asked,
    cast(asked.is_suppressed as boolean) as n_asked_suppressed
from mart
inner join suppressed_cells as selected on selected.cell_id = mart.selected_cell_id
inner join suppressed_cells as asked on asked.cell_id = mart.asked_cell_id
order by mart.wave_id, mart.reason_code
