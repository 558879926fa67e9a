{#- The subgroups a person belongs to as seen at each wave (the `wave_from` of a pair): one row per
    person, wave and subgroup. Every person has exactly one value per subgroup (missing = `unknown`),
    so the counts of a subgroup's values add up to the `all` row. -#}

with

persons as (
    select * from {{ ref('persons') }}
),

-- Every wave in the data (a pair's wave_from can be any of them).
waves as (
    select distinct wave_id, wave_year from {{ ref('int_analysis_responses') }}
),

person_waves as (
    select
        persons.person_id,
        waves.wave_id,
        persons.gender,
        waves.wave_year - persons.birth_year as age,
        persons.children_in_norway_first,
        persons.macro_region
    from persons
    cross join waves
),

labelled as (
    select
        person_id,
        wave_id,
        'all' as all_value,
        coalesce(gender, 'unknown') as gender_value,
        case
            when age is null then 'unknown'
            when age < 18 then 'under_18'
            when age <= 34 then '18-34'
            when age <= 49 then '35-49'
            when age <= 66 then '50-66'
            else '67+'
        end as age_band_value,
        case
            when children_in_norway_first then 'yes'
            when not children_in_norway_first then 'no'
            else 'unknown'
        end as children_value,
        coalesce(macro_region, 'unknown') as macro_region_value
    from person_waves
)

select person_id, wave_id, 'all' as subgroup, all_value as subgroup_value from labelled
union all
select person_id, wave_id, 'gender', gender_value from labelled
union all
select person_id, wave_id, 'age_band', age_band_value from labelled
union all
select person_id, wave_id, 'children_in_norway', children_value from labelled
union all
select person_id, wave_id, 'macro_region', macro_region_value from labelled
