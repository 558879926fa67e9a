{#- Attached to stg_survey__responses so Dagster shows it as that asset's check (a warning, not blocking). -#}
{{ config(meta={'dagster': {'ref': {'name': 'stg_survey__responses'}}}) }}
{{ config(severity='warn') }}
{#- A column in a loaded response file that the codebook does not know is not harmonised at all;
    warn so a new question gets its codebook row (metadata as code) instead of being ignored. -#}

select
    responses.layout,
    cells.variable as column_name,
    count(*) as n_cells,
    min(cells.source_file) as example_file
from {{ source('raw', 'survey_cells') }} as cells
inner join {{ source('raw', 'survey_responses') }} as responses
    on cells.source_file = responses.source_file
    and cells.row_number = responses.row_number
left join {{ ref('codebook_variables') }} as codebook_variables
    on codebook_variables.layout = responses.layout
    and codebook_variables.source_variable = cells.variable
where codebook_variables.source_variable is null
group by responses.layout, cells.variable
