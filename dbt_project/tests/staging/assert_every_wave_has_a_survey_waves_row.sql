{#- Attached to stg_survey__responses so Dagster shows it as that asset's check (a warning, not blocking). -#}
{{ config(meta={'dagster': {'ref': {'name': 'stg_survey__responses'}}}) }}
{{ config(severity='warn') }}
{#- A wave in the data loads, is linked, weighted and published without a survey_waves row (its number
    and year come from the folder name). The row adds what only the survey team knows: the field period
    (which filters test submissions at ingest and picks the UDI snapshot the wave is weighted to; without
    it, the span of the submissions is used) and the label. One row per wave that lacks it, saying what
    to add. -#}

with

waves_in_data as (
    select
        responses.wave_id,
        min(responses.layout) as layout,
        min(responses.source_file) as example_file,
        count(*) as n_responses
    from {{ source('raw', 'survey_responses') }} as responses
    group by responses.wave_id
)

select
    waves_in_data.wave_id,
    waves_in_data.layout,
    waves_in_data.example_file,
    waves_in_data.n_responses,
    'add a row to dbt_project/seeds/codebook/survey_waves.csv: '
        || waves_in_data.wave_id || ',' || coalesce(cast({{ wave_number('waves_in_data.wave_id') }} as varchar), '?')
        || ',' || coalesce(cast({{ wave_year('waves_in_data.wave_id') }} as varchar), '?')
        || ',' || waves_in_data.layout || ',<field_start YYYY-MM-DD>,<field_end YYYY-MM-DD>,<fielded_label>'
        as what_to_add
from waves_in_data
left join {{ ref('survey_waves') }} as survey_waves
    on survey_waves.wave_id = waves_in_data.wave_id
where survey_waves.wave_id is null
