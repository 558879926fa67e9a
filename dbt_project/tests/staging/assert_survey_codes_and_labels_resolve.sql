{#- Attached to stg_survey__responses so Dagster shows (and blocks on) it as that asset's check. -#}
{{ config(meta={'dagster': {'ref': {'name': 'stg_survey__responses'}}}) }}
{#- Every non-blank code, oblast or municipality answer must resolve through the codebook and the
    reference lists; ingest sets cells that do not missing, so a hit here means a value slipped through
    (or a seed lost a row) and staging would have turned it into NULL. Lists file, row and column. -#}

with

cells as (
    select
        responses.source_file,
        responses.row_number,
        responses.layout,
        cells.variable,
        codebook_variables.concept,
        codebook_variables.value_type,
        nullif(trim(cells.value), '') as raw_value
    from {{ source('raw', 'survey_cells') }} as cells
    inner join {{ source('raw', 'survey_responses') }} as responses
        on cells.source_file = responses.source_file
        and cells.row_number = responses.row_number
    inner join {{ ref('codebook_variables') }} as codebook_variables
        on codebook_variables.layout = responses.layout
        and codebook_variables.source_variable = cells.variable
    where codebook_variables.value_type in
        ('code', 'oblast_label_any', 'oblast_label_en', 'oblast_number', 'kommune_name', 'kommune_code_2024')
),

oblast_labels as (
    select {{ normalise_label('label') }} as match_key, 'oblast_label_any' as value_type
    from {{ ref('ref_oblasts') }}, unnest([name_en, name_uk, name_ru]) as labels(label)
    union
    select {{ normalise_label('name_en') }}, 'oblast_label_en' from {{ ref('ref_oblasts') }}
    union
    select cast(number as varchar), 'oblast_number' from {{ ref('ref_oblasts') }}
    union
    select '99', 'oblast_number'  -- prefer not to say
    union
    -- every typed variant, ambiguous ones included (those are a known NULL, not a slip)
    select name_key, 'kommune_name' from {{ ref('ref_municipality_names') }}
    union
    select kommune_code_2024, 'kommune_code_2024' from {{ ref('ref_municipalities') }}
),

unresolved as (
    select
        cells.source_file,
        cells.row_number,
        cells.variable as column_name,
        cells.raw_value,
        cells.value_type
    from cells
    where cells.raw_value is not null
        and case
            when cells.value_type = 'code' then not exists (
                select 1 from {{ ref('codebook_values') }} as codebook_values
                where codebook_values.layout = cells.layout
                    and codebook_values.concept = cells.concept
                    and lower(codebook_values.source_value) = lower(cells.raw_value)
            )
            else not exists (
                select 1 from oblast_labels
                where oblast_labels.value_type = cells.value_type
                    and oblast_labels.match_key = case cells.value_type
                        when 'oblast_number' then cast(try_cast(cells.raw_value as integer) as varchar)
                        when 'kommune_code_2024' then lpad(cells.raw_value, 4, '0')
                        else {{ normalise_label('cells.raw_value') }}
                    end
            )
        end
)

select * from unresolved
