"""A data set with twice the default mess still refreshes, publishes and links at the target accuracy."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import PROJECT_ROOT, panel_env

pytestmark = pytest.mark.end_to_end


@pytest.fixture(scope="module")
def messier_warehouse(tmp_path_factory, run_refresh) -> Path:
    data_dir = tmp_path_factory.mktemp("mess2") / "data"
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data_dir / "raw"), "--scale", "0.5",
                    "--seed", "7", "--mess", "2"], check=True, cwd=PROJECT_ROOT, env=panel_env(data_dir),
                   capture_output=True)
    result = run_refresh(data_dir)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return data_dir


def test_linkage_meets_the_targets_with_twice_the_mess(messier_warehouse):
    con = duckdb.connect(str(messier_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        true_pairs, predicted_pairs, true_positives = con.execute(
            "select sum(true_pairs), sum(predicted_pairs), sum(recall * true_pairs) "
            "from marts.linkage_quality where method = 'all'"
        ).fetchone()
        quarantined, cells_missing, rows_in = con.execute(
            "select sum(rows_quarantined), sum(cells_set_missing), sum(rows_in) from audit.row_accounting "
            "where source_file like 'survey/%'"
        ).fetchone()
    finally:
        con.close()
    assert true_pairs > 100
    # Rows kept out plus answers set missing: about 3 % of rows on the default data, twice that here.
    assert (quarantined + cells_missing) / rows_in > 0.05, "mess 2 should hit clearly more rows than the default data"
    assert true_positives / predicted_pairs >= 0.995
    assert true_positives / true_pairs >= 0.97
