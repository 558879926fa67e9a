{#- Blocking check on every build (a check of release_exit_reasons in Dagster): no suppressed leaver
    count can be given back from everyone = returned + onward. -#}
{{ config(meta={'dagster': {'ref': {'name': 'release_exit_reasons'}}}) }}

{{ release_recoverable_cells(release_exit_members(ref('release_exit_reasons')), release_exit_members(ref('exit_reasons_by_wave'))) }}
