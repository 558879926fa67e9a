{#- Attached to the codebook_values seed so Dagster shows it as that asset's check. -#}
{{ config(meta={'dagster': {'ref': {'name': 'codebook_values'}}}) }}
{#- Every code list in codebook_values must belong to a `code` variable of the same layout and concept,
    so a typo in a seed row cannot leave a code variable without its list. -#}

select codebook_values.layout, codebook_values.concept, count(*) as n_values
from {{ ref('codebook_values') }} as codebook_values
left join {{ ref('codebook_variables') }} as codebook_variables
    on codebook_variables.layout = codebook_values.layout
    and codebook_variables.concept = codebook_values.concept
    and codebook_variables.value_type = 'code'
where codebook_variables.concept is null
group by codebook_values.layout, codebook_values.concept
