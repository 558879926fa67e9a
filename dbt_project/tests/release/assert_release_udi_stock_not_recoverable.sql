{#- Blocking check on every build (a check of release_udi_stock in Dagster): no suppressed
    valid-permit count can be given back from the county, sex, age or snapshot totals. -#}
{{ config(meta={'dagster': {'ref': {'name': 'release_udi_stock'}}}) }}

{{ release_recoverable_cells(release_udi_members(ref('release_udi_stock')), release_udi_members(ref('udi_stock'))) }}
