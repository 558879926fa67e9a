"""Who answers for each part of the asset graph (Dagster `owners`: team names shown on every asset page)."""
from __future__ import annotations

INGEST = "team:ingest"
HARMONISATION = "team:harmonisation"
LINKAGE = "team:linkage"
WEIGHTS = "team:weights"
ANALYSIS = "team:analysis"
PUBLICATION = "team:publication"
REPORTING = "team:reporting"

# dbt nodes by the group the translator puts them in.
DBT_GROUP_OWNERS = {"harmonise": [HARMONISATION], "analysis": [ANALYSIS]}
