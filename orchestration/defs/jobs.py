"""Jobs: one per ingest partition family, and everything downstream of ingest in one run."""
from __future__ import annotations

import dagster as dg

from orchestration.defs.partitions import survey_wave_partitions, udi_snapshot_partitions

INGEST_KEYS = [dg.AssetKey("survey_wave"), dg.AssetKey("udi_snapshot")]

survey_wave_job = dg.define_asset_job(
    "survey_wave_job", selection=dg.AssetSelection.assets("survey_wave"), partitions_def=survey_wave_partitions,
    description="Ingest one survey wave folder (partition = wave id).",
)
udi_snapshot_job = dg.define_asset_job(
    "udi_snapshot_job", selection=dg.AssetSelection.assets("udi_snapshot"), partitions_def=udi_snapshot_partitions,
    description="Ingest one UDI retrieval folder (partition = retrieval date).",
)
DOWNSTREAM_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.assets(*INGEST_KEYS)
downstream_job = dg.define_asset_job(
    "downstream_job",
    selection=DOWNSTREAM_SELECTION,
    description="dbt, linkage, weights, Great Expectations checks and publication, in one run.",
)
