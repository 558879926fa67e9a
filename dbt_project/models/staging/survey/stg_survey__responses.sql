{#- One row per loaded survey response, all waves in one shape. The answers arrive long in
    raw.survey_cells; the codebook seeds say which source variable carries which concept and how its
    text is parsed (value_type), so a new wave or layout needs new codebook rows, not new SQL. The wave's
    number comes from its id (`w<N>_<YYYY>`), its layout from the response row: no wave is listed here.
    Ingest has already judged every cell (an invalid answer arrives as NULL), so staging only parses. -#}

with

responses as (
    select * from {{ source('raw', 'survey_responses') }}
),

cells as (
    select * from {{ source('raw', 'survey_cells') }}
),

codebook_variables as (
    select * from {{ ref('codebook_variables') }}
),

codebook_values as (
    select * from {{ ref('codebook_values') }}
),

exit_reasons as (
    select * from {{ ref('exit_reasons') }}
),

aspiration_scales as (
    select * from {{ ref('aspiration_scales') }}
),

ref_oblasts as (
    select * from {{ ref('ref_oblasts') }}
),

ref_municipalities as (
    select * from {{ ref('ref_municipalities') }}
),

ref_municipality_names as (
    select * from {{ ref('ref_municipality_names') }}
),

ref_counties as (
    select * from {{ ref('ref_counties') }}
),

-- Lookup keys per oblast value type: any-language labels, English labels, or the oblast number.
oblast_keys as (
    select distinct 'oblast_label_any' as value_type, {{ normalise_label('label') }} as match_key, iso_code, macro_region
    from ref_oblasts, unnest([name_en, name_uk, name_ru]) as labels(label)
    union
    select 'oblast_label_en', {{ normalise_label('name_en') }}, iso_code, macro_region
    from ref_oblasts
    union
    select 'oblast_number', cast(number as varchar), iso_code, macro_region
    from ref_oblasts
),

municipalities_2024 as (
    select distinct kommune_code_2024, fylke_code_2024 from ref_municipalities
),

-- Lookup keys per municipality value type: a name as people type it (every variant in
-- ref_municipality_names; an ambiguous name has no code there, so it stays NULL), or the 2024 code.
kommune_keys as (
    select 'kommune_name' as value_type, ref_municipality_names.name_key as match_key,
        municipalities_2024.kommune_code_2024, municipalities_2024.fylke_code_2024
    from ref_municipality_names
    inner join municipalities_2024
        on municipalities_2024.kommune_code_2024 = ref_municipality_names.kommune_code_2024
    union all
    select 'kommune_code_2024', kommune_code_2024, kommune_code_2024, fylke_code_2024
    from municipalities_2024
),

-- Every answer cell with its codebook entry (layout comes from the response row).
coded_cells as (
    select
        responses.source_file,
        responses.row_number,
        responses.layout,
        codebook_variables.concept,
        codebook_variables.value_type,
        nullif(trim(cells.value), '') as raw_value
    from cells
    inner join responses
        on cells.source_file = responses.source_file
        and cells.row_number = responses.row_number
    inner join codebook_variables
        on codebook_variables.layout = responses.layout
        and codebook_variables.source_variable = cells.variable
),

-- Each cell parsed according to its value type into one typed slot.
parsed_cells as (
    select
        coded_cells.source_file,
        coded_cells.row_number,
        coded_cells.concept,
        case coded_cells.value_type
            when 'code' then codebook_values.concept_value
            when 'flag' then cast(coalesce(coded_cells.raw_value = '1', false) as varchar)
            when 'token' then coded_cells.raw_value
            when 'integer_id' then coded_cells.raw_value
            when 'text_id' then coded_cells.raw_value
        end as value_text,
        case
            when coded_cells.value_type = 'integer' then try_cast(coded_cells.raw_value as integer)
        end as value_integer,
        case coded_cells.value_type
            when 'month_yyyy_mm' then cast(try_strptime(coded_cells.raw_value || '-01', '%Y-%m-%d') as date)
            when 'month_mm_yyyy' then cast(try_strptime('01/' || coded_cells.raw_value, '%d/%m/%Y') as date)
            when 'date' then cast(date_trunc('month', try_cast(coded_cells.raw_value as timestamp)) as date)
        end as value_month,
        case
            when coded_cells.value_type = 'timestamp' then try_cast(coded_cells.raw_value as timestamp)
        end as value_timestamp,
        oblast_keys.iso_code as oblast_iso,
        oblast_keys.macro_region,
        kommune_keys.kommune_code_2024,
        kommune_keys.fylke_code_2024
    from coded_cells
    left join codebook_values
        on coded_cells.value_type = 'code'
        and codebook_values.layout = coded_cells.layout
        and codebook_values.concept = coded_cells.concept
        and lower(codebook_values.source_value) = lower(coded_cells.raw_value)
    left join oblast_keys
        on oblast_keys.value_type = coded_cells.value_type
        and oblast_keys.match_key = case coded_cells.value_type
            when 'oblast_number' then cast(try_cast(coded_cells.raw_value as integer) as varchar)
            else {{ normalise_label('coded_cells.raw_value') }}
        end
    left join kommune_keys
        on kommune_keys.value_type = coded_cells.value_type
        and kommune_keys.match_key = case coded_cells.value_type
            when 'kommune_code_2024' then lpad(coded_cells.raw_value, 4, '0')
            else {{ normalise_label('coded_cells.raw_value') }}
        end
),

-- One row per response: each concept's typed slot.
answers as (
    select
        source_file,
        row_number,
        max(value_timestamp) filter (where concept = 'submitted_at') as submitted_at,
        max(value_text) filter (where concept = 'language') as language,
        cast(max(value_text) filter (where concept = 'is_complete') as boolean) as is_complete,
        max(value_text) filter (where concept = 'gender') as gender,
        max(value_integer) filter (where concept = 'birth_year') as birth_year,
        max(oblast_iso) filter (where concept = 'oblast') as oblast_iso,
        max(macro_region) filter (where concept = 'oblast') as macro_region,
        max(value_month) filter (where concept = 'arrival_month') as arrival_month,
        max(kommune_code_2024) filter (where concept = 'kommune') as kommune_code_2024,
        max(fylke_code_2024) filter (where concept = 'kommune') as fylke_code_2024,
        max(value_integer) filter (where concept = 'children_in_norway') as children_in_norway,
        cast(max(value_text) filter (where concept = 'children_in_ukraine') as boolean) as children_in_ukraine,
        max(value_text) filter (where concept = 'partner_location') as partner_location,
        cast(max(value_text) filter (where concept = 'network_norway') as boolean) as network_norway,
        max(value_text) filter (where concept = 'war_duration') as war_duration,
        max(value_text) filter (where concept = 'country_now') as country_now,
        max(value_month) filter (where concept = 'left_month') as left_month,
        max(value_text) filter (where concept = 'aspiration') as aspiration,
        cast(max(value_text) filter (where concept = 'is_working') as boolean) as is_working,
        max(value_text) filter (where concept = 'token') as token,
        cast(max(value_text) filter (where concept = 'consent') as boolean) as consent
    from parsed_cells
    group by source_file, row_number
),

-- A layout without a "where do you live now" question was fielded among refugees in Norway only.
layouts_asking_country as (
    select distinct layout
    from codebook_variables
    where concept = 'country_now'
),

located as (
    select
        responses.source_file,
        responses.row_number,
        case
            when layouts_asking_country.layout is null then 'norway'
            else answers.country_now
        end as country_now
    from responses
    left join answers
        on answers.source_file = responses.source_file
        and answers.row_number = responses.row_number
    left join layouts_asking_country
        on layouts_asking_country.layout = responses.layout
),

-- Reasons for leaving: only asked of leavers, and some only of those in Ukraine or elsewhere (exit_reasons.asked_of).
reasons_asked as (
    select
        parsed_cells.source_file,
        parsed_cells.row_number,
        exit_reasons.reason_code,
        case
            when (exit_reasons.asked_of = 'everyone' and located.country_now in ('ukraine', 'other'))
                or (exit_reasons.asked_of = 'returned' and located.country_now = 'ukraine')
                or (exit_reasons.asked_of = 'onward' and located.country_now = 'other')
                then cast(parsed_cells.value_text as boolean)
        end as is_selected
    from parsed_cells
    inner join exit_reasons
        on parsed_cells.concept = 'reason_' || lpad(cast(exit_reasons.reason_code as varchar), 2, '0')
    inner join located
        on located.source_file = parsed_cells.source_file
        and located.row_number = parsed_cells.row_number
),

reasons as (
    select
        source_file,
        row_number,
        {%- for code in range(1, 15) %}
        bool_or(is_selected) filter (where reason_code = {{ code }}) as reason_{{ '%02d' % code }}{{ ',' if not loop.last }}
        {%- endfor %}
    from reasons_asked
    group by source_file, row_number
),

final as (
    select
        responses.wave_id,
        {{ wave_number('responses.wave_id') }} as wave_number,
        responses.layout,
        responses.source_file,
        cast(responses.row_number as integer) as row_number,
        cast(responses.response_id as varchar) as response_id,
        answers.submitted_at,
        answers.language,
        answers.is_complete,
        answers.gender,
        answers.birth_year,
        answers.oblast_iso,
        answers.macro_region,
        answers.arrival_month,
        answers.kommune_code_2024,
        answers.fylke_code_2024,
        ref_counties.region_code,
        case when located.country_now in ('ukraine', 'other') then null else answers.children_in_norway end
            as children_in_norway,
        answers.children_in_ukraine,
        answers.partner_location,
        answers.network_norway,
        answers.war_duration,
        located.country_now,
        case when located.country_now in ('ukraine', 'other') then answers.left_month end as left_month,
        case when located.country_now in ('ukraine', 'other') then null else answers.aspiration end as aspiration,
        case when located.country_now in ('ukraine', 'other') then null else aspiration_scales.aspiration_coarse end
            as aspiration_coarse,
        {%- for code in range(1, 15) %}
        reasons.reason_{{ '%02d' % code }},
        {%- endfor %}
        answers.is_working,
        answers.token,
        responses.email_hash,
        responses.email_bloom,
        answers.consent
    from responses
    left join answers
        on answers.source_file = responses.source_file
        and answers.row_number = responses.row_number
    left join located
        on located.source_file = responses.source_file
        and located.row_number = responses.row_number
    left join reasons
        on reasons.source_file = responses.source_file
        and reasons.row_number = responses.row_number
    left join aspiration_scales
        on aspiration_scales.aspiration = answers.aspiration
    left join ref_counties
        on ref_counties.fylke_code = answers.fylke_code_2024
        and ref_counties.valid_to is null
)

select * from final
