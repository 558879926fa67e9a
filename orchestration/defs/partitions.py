"""Partitions found from the raw folders: a new wave or UDI snapshot folder is a new partition."""
from __future__ import annotations

import dagster as dg

SURVEY_WAVE_PARTITIONS = "survey_wave"
UDI_SNAPSHOT_PARTITIONS = "udi_snapshot"

survey_wave_partitions = dg.DynamicPartitionsDefinition(name=SURVEY_WAVE_PARTITIONS)
udi_snapshot_partitions = dg.DynamicPartitionsDefinition(name=UDI_SNAPSHOT_PARTITIONS)
