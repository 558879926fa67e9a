{{ config(alias='exit_reasons') }}
{#- marts.exit_reasons with small counts suppressed. Reasons are multiple choice, so the n_selected of a
    wave add up to nothing a reader knows. n_asked is one count per wave and `asked_of` (the same for
    every reason asked of the same leavers), and everyone = returned + onward. -#}

with

mart as (
    select * from {{ ref('exit_reasons_by_wave') }}
),

keyed as (
    select
        *,
        concat_ws('|', 'n_selected', wave_id, reason_code) as selected_cell_id,
        concat_ws('|', 'n_asked', wave_id, asked_of) as asked_cell_id
    from mart
),

cells as (
    select selected_cell_id as cell_id, n_selected as cell_value, {{ release_is_small('n_selected') }} as is_suppressed
    from keyed
    union
    select asked_cell_id, n_asked, {{ release_is_small('n_asked') }} from keyed
),

equations as (
    select distinct concat_ws('|', 'leavers', wave_id) as equation_id, asked_cell_id as cell_id
    from keyed
),

{{ release_suppression_ctes('cells', 'equations', 'suppressed_cells') }}

select
    cast(keyed.wave_id as varchar) as wave_id,
    cast(keyed.reason_code as integer) as reason_code,
    cast(keyed.reason_label as varchar) as reason_label,
    cast(keyed.asked_of as varchar) as asked_of,
    cast(case when not selected.is_suppressed then keyed.n_selected end as integer) as n_selected,
    cast(selected.is_suppressed as boolean) as n_selected_suppressed,
    cast(case when not asked.is_suppressed then keyed.n_asked end as integer) as n_asked,
    cast(asked.is_suppressed as boolean) as n_asked_suppressed
from keyed
inner join suppressed_cells as selected on selected.cell_id = keyed.selected_cell_id
inner join suppressed_cells as asked on asked.cell_id = keyed.asked_cell_id
order by keyed.wave_id, keyed.reason_code
