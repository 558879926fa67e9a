"""The whole asset graph materialises in this process, on a small generated data set and a test instance."""
from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from conftest import TEST_HMAC_KEY, generate_raw
from orchestration.refresh import refresh

pytestmark = pytest.mark.end_to_end


def test_the_whole_graph_materialises_in_process(tmp_path, monkeypatch):
    data = tmp_path / "data"
    generate_raw(data, scale="0.1", seed="5")
    monkeypatch.setenv("PANEL_DATA_DIR", str(data))
    monkeypatch.setenv("PANEL_HMAC_KEY", TEST_HMAC_KEY)
    from orchestration.definitions import defs

    with dg.instance_for_test() as instance:
        result = refresh(instance=instance, log=lambda *_: None)
        assert result.success, [f"{f}" for f in result.failures]
        keys = defs.resolve_asset_graph().materializable_asset_keys
        missing = [k.to_user_string() for k in keys if instance.get_latest_materialization_event(k) is None]
        assert missing == []
        checks = [e for run_id in result.run_ids
                  for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        assert checks and all(
            e.dagster_event.event_specific_data.passed or e.dagster_event.event_specific_data.severity == dg.AssetCheckSeverity.WARN
            for e in checks)
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from marts.persons").fetchone()[0] > 100
    finally:
        con.close()
