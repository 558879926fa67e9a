"""The ingest assets under Dagster: warning check for an unregistered wave, empty snapshot folder not blocking."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from test_ingest_fixtures import invitation, w3_row, write_invitations, write_w3_sav

from orchestration.defs.assets.ingest import (
    SURVEY_CHECK, UDI_CHECK, WAVE_REGISTERED_CHECK, survey_wave, udi_snapshot,
)
from orchestration.defs.partitions import SURVEY_WAVE_PARTITIONS, UDI_SNAPSHOT_PARTITIONS
from orchestration.defs.resources import BuildDatabase


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PANEL_HMAC_KEY", "test-key-0123456789abcdef")
    return tmp_path


def checks_of(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_unregistered_wave_loads_with_a_warning_check_saying_what_to_add(data_root):
    raw = data_root / "raw"
    rows = [w3_row(n, enddate=f"2025-09-{15 + n % 4} 10:00:00") for n in range(1, 12)]
    write_w3_sav(raw / "survey/w4_2025/responses.sav", rows + [w3_row(12, enddate="2025-09-02 09:00:00")])
    write_invitations(raw / "survey/w4_2025/invitations.csv",
                      [invitation(n, invited_at="2025-09-15 08:00:00", source_wave="w3_2024") for n in range(1, 4)])
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SURVEY_WAVE_PARTITIONS, ["w4_2025"])
        result = dg.materialize([survey_wave], partition_key="w4_2025", instance=instance,
                                resources={"build_db": BuildDatabase()})
    assert result.success
    checks = checks_of(result)
    assert checks[SURVEY_CHECK].passed
    warning = checks[WAVE_REGISTERED_CHECK]
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert "w4_2025,4,2025,w3_sav,<field_start>,<field_end>,<label>" in warning.description
    assert "2025-09-15" in warning.description and "invited_at" in warning.description
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["rows_quarantined"].value == 1 and metadata["rows_loaded"].value == 11 + 3  # responses + invitations


def test_empty_snapshot_folder_loads_zero_rows_and_does_not_block(data_root):
    (data_root / "raw/udi/2025-11-05").mkdir(parents=True)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(UDI_SNAPSHOT_PARTITIONS, ["2025-11-05"])
        result = dg.materialize([udi_snapshot], partition_key="2025-11-05", instance=instance,
                                resources={"build_db": BuildDatabase()})
    assert result.success
    check = checks_of(result)[UDI_CHECK]
    assert check.passed and "empty UDI snapshot folder" in check.description
