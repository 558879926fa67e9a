{#- Blocking check on every build, attached to release_aspiration_transitions so Dagster runs it as
    that asset's check before publication: no suppressed count of release.attrition,
    release.aspiration_transitions or release.aspiration_by_wave can be given back from what the three
    tables publish, within a table or across them, including the cross-table combinations that link
    single counts (relations in release_survey_members), and no relation leaves gaps adding up to less
    than PANEL_MIN_CELL (release_recoverable_cells). -#}
{{ config(meta={'dagster': {'ref': {'name': 'release_aspiration_transitions'}}}) }}

{{ release_recoverable_cells(
    release_survey_members(ref('release_attrition'), ref('release_aspiration_transitions'), ref('release_aspiration_by_wave')),
    release_survey_members(*release_survey_grids())
) }}
