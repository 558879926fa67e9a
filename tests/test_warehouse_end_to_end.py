"""What the foundation and linkage issues must show, checked on a generated, refreshed, published warehouse."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest

from tests.warehouse_content import content_fingerprints

pytestmark = pytest.mark.end_to_end


@pytest.fixture(scope="module")
def published(demo_warehouse):
    con = duckdb.connect(str(Path(demo_warehouse) / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def raw_email_addresses(raw: Path) -> set[str]:
    """Every e-mail address in the raw files, as typed, plus its trimmed and lower-cased forms."""
    found: list[str] = []
    w1 = (raw / "survey/w1_2022/responses.csv").read_bytes()
    text = w1.decode("utf-8-sig") if not _is_cp1252(w1) else w1.decode("cp1252")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    found += [row.get("epost") or "" for row in csv.DictReader(io.StringIO(text), delimiter=delimiter)]
    found += pd.read_excel(raw / "survey/w2_2023/responses.xlsx", dtype=str)["Email"].dropna().tolist()
    frame, _ = pyreadstat.read_sav(str(raw / "survey/w3_2024/responses.sav"))
    found += frame["email"].dropna().tolist()
    for path in raw.glob("survey/*/invitations.csv"):
        found += [row["email"] for row in csv.DictReader(path.open(encoding="utf-8"))]
    addresses = set()
    for address in found:
        for form in (address, address.strip(), address.strip().lower(), "".join(address.split()).lower().rstrip(".")):
            if "@" in form and len(form) >= 6:
                addresses.add(form)
    return addresses


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def test_the_raw_files_do_contain_addresses(demo_warehouse):
    assert len(raw_email_addresses(Path(demo_warehouse) / "raw")) > 100


def test_no_email_address_in_clear_in_any_warehouse_column(demo_warehouse, published):
    addresses = raw_email_addresses(Path(demo_warehouse) / "raw")
    text_columns = published.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where data_type = 'VARCHAR' and database_name = current_database()"
    ).fetchall()
    assert text_columns
    hits = []
    for schema, table, column in text_columns:
        values = published.execute(f'select distinct "{column}" from "{schema}"."{table}" where "{column}" like \'%@%\'').fetchall()
        hits += [(schema, table, column) for (value,) in values if any(a in value.lower() for a in addresses)]
    assert hits == []


@pytest.mark.parametrize("relative", ["warehouse.duckdb", "build/warehouse.duckdb"])
def test_no_email_address_in_the_warehouse_file_bytes(demo_warehouse, relative):
    data = (Path(demo_warehouse) / relative).read_bytes().lower()
    leaked = [a for a in raw_email_addresses(Path(demo_warehouse) / "raw") if a.lower().encode() in data]
    assert leaked == []


def test_no_email_address_in_dagster_storage(demo_warehouse):
    home = Path(demo_warehouse) / "dagster_home"
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files, "the refresh should have written Dagster run storage"
    addresses = [a.lower().encode() for a in raw_email_addresses(Path(demo_warehouse) / "raw")]
    leaked = {str(p) for p in files for a in addresses if a in p.read_bytes().lower()}
    assert leaked == set()


def test_every_raw_file_is_accounted_for(demo_warehouse, published):
    raw = Path(demo_warehouse) / "raw"
    delivered = {str(p.relative_to(raw)) for p in raw.rglob("*.*") if "_truth" not in p.parts}
    accounting = published.execute("select source_file, rows_in, rows_loaded, rows_quarantined from audit.row_accounting").fetchall()
    assert {row[0] for row in accounting} == delivered
    for source_file, rows_in, loaded, quarantined in accounting:
        assert rows_in == loaded + quarantined, source_file


def test_quarantine_rows_name_file_row_column_and_reason(published):
    rows = published.execute("select source_file, row_number, column_name, reason from audit.quarantine").fetchall()
    assert rows, "the default data carries mess that must be quarantined"
    assert all(source and number >= 1 and column and reason for source, number, column, reason in rows)
    per_file = dict(published.execute("select source_file, rows_quarantined from audit.row_accounting").fetchall())
    # Cells set missing keep their row (action cell_set_missing); only rows kept out count as quarantined.
    quarantined_rows = published.execute("select source_file, count(distinct row_number) from audit.quarantine "
                                         "where action = 'row_quarantined' group by 1").fetchall()
    for source_file, n in quarantined_rows:
        assert per_file[source_file] == n


def test_calibration_figures_come_out_of_the_published_marts(published):
    coarse_w1 = dict(published.execute(
        "select aspiration, share from marts.aspiration_by_wave where wave_id = 'w1_2022' and scale = 'coarse'"
    ).fetchall())
    assert coarse_w1["return_asap"] == pytest.approx(0.25, abs=0.02)
    assert coarse_w1["undecided"] == pytest.approx(0.55, abs=0.02)
    assert coarse_w1["stay_norway"] == pytest.approx(0.20, abs=0.02)
    (w3_return,) = published.execute(
        "select share from marts.aspiration_by_wave where wave_id = 'w3_2024' and scale = 'fine' and aspiration = 'return_asap'"
    ).fetchone()
    assert w3_return == pytest.approx(0.10, abs=0.02)


def test_linkage_quality_meets_the_targets(published):
    rows = published.execute(
        "select sum(true_pairs), sum(predicted_pairs), "
        "sum(precision * predicted_pairs) / sum(predicted_pairs), sum(recall * true_pairs) / sum(true_pairs) "
        "from marts.linkage_quality where method = 'all'"
    ).fetchone()
    true_pairs, predicted_pairs, precision, recall = rows
    assert true_pairs > 0 and predicted_pairs > 0
    assert precision >= 0.995
    assert recall >= 0.97


def test_a_second_refresh_on_the_same_raw_data_changes_no_mart(demo_warehouse, run_refresh):
    """Idempotency: a second refresh of the same raw data gives identical content, bit for bit, in every
    `marts`, `release` and `audit` table. Only what is meant to differ is left out: the load timestamps
    (`loaded_at`, `quarantined_at`) and `audit.releases`, the release history (one row per publication)."""
    before = content_fingerprints(Path(demo_warehouse) / "warehouse.duckdb")
    result = run_refresh(demo_warehouse)
    assert result.returncode == 0, result.stdout + result.stderr
    after = content_fingerprints(Path(demo_warehouse) / "warehouse.duckdb")
    assert sum(name.startswith("marts.") for name in before) >= 10 and {"audit.quarantine", "audit.row_accounting"} <= set(before)
    assert len(before) >= 15
    assert {name: value for name, value in after.items() if before.get(name) != value} == {}
    assert after.keys() == before.keys()


def test_w2_exit_reasons_equal_table_1_of_the_article(published):
    rows = published.execute(
        "select reason_code, n_selected from marts.exit_reasons where wave_id = 'w2_2023' order by reason_code"
    ).fetchall()
    assert [n for _, n in rows] == [8, 7, 7, 6, 5, 5, 5, 3, 3, 3, 3, 2, 1, 1]
    (leavers,) = published.execute(
        "select count(*) from marts.panel_tracking where wave_id = 'w2_2023' and status = 'responded_abroad'"
    ).fetchone()
    assert leavers >= 21


def test_the_demo_udi_history_is_complete_and_implies_departures(published):
    """The synthetic UDI history starts in April 2022, so grants to date exist for every month, and the
    grants exceed the valid permits (people have left). On real data these are warnings, never blocking."""
    (missing, lowest) = published.execute(
        "select count(*) filter (where granted_cumulative is null), min(implied_departures_cumulative) "
        "from marts.udi_monthly where month >= date '2022-03-01'"
    ).fetchone()
    assert missing == 0
    assert lowest >= -1000


@pytest.mark.parametrize(("month", "column", "expected"), [
    ("2023-12-01", "granted_cumulative", 66_900),
    ("2024-12-01", "granted_cumulative", 88_000),
    ("2025-08-01", "granted_cumulative", 94_000),
    ("2024-12-01", "valid_stock", 79_000),  # the snapshot at the start of 2025
    ("2025-07-01", "valid_stock", 82_000),  # the snapshot of 5 August 2025: end of July
])
def test_udi_monthly_reproduces_the_published_totals(published, month, column, expected):
    (value,) = published.execute(f"select {column} from marts.udi_monthly where month = date '{month}'").fetchone()
    assert value == pytest.approx(expected, rel=0.01)


def test_every_dbt_unit_test_passes_against_the_demo_build(demo_warehouse, tmp_path):
    """A refresh leaves dbt's unit tests out (they test logic on fixed inputs: development and CI, not every
    production run); here every one of them runs, against a copy of the demo's build file, where every
    relation they mock exists."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    build = tmp_path / "warehouse.duckdb"  # dbt's relation names use the catalog `warehouse`
    shutil.copyfile(Path(demo_warehouse) / "build" / "warehouse.duckdb", build)
    project = PROJECT_ROOT / "dbt_project"

    def dbt(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(project), "--profiles-dir",
             str(project), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
            env={**os.environ, "PANEL_BUILD_DB": str(build), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True, text=True, timeout=900)

    listed = dbt("ls", "--resource-type", "unit_test", "--output", "name", "--quiet")
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    defined = [line for line in listed.stdout.splitlines() if line.strip()]
    tested = dbt("test", "--select", "test_type:unit", "--no-use-colors")
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-3000:]
    assert len(defined) >= 20
    # dbt's summary: `Done. PASS=29 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=29` (a failed unit test counts as ERROR)
    assert f"PASS={len(defined)} WARN=0 ERROR=0 SKIP=0" in tested.stdout
    assert f"TOTAL={len(defined)}" in tested.stdout


def test_the_cold_refresh_parses_the_dbt_project_fully_at_most_once(demo_warehouse):
    """Each dbt stage has its own target folder; the second takes the first one's saved parse."""
    logs = sorted((Path(demo_warehouse) / "logs").glob("refresh-*.log"), key=lambda path: path.stat().st_mtime)
    cold = logs[0].read_text(encoding="utf-8", errors="replace")
    assert cold.count("Running dbt command") >= 2
    assert cold.count("Unable to do partial parsing") <= 1
