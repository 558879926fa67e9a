"""End-to-end: the refresh on generated data, write-audit-publish under a reader, a partition held back, Data Docs."""
from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import copy_data_dir
from orchestration.failures import run_failures

pytestmark = pytest.mark.end_to_end


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def instance_at(data_dir: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))


def test_every_partition_materialised_with_row_counts_and_checksums(demo_warehouse):
    raw = demo_warehouse / "raw"
    instance = instance_at(demo_warehouse)
    waves = sorted(p.name for p in (raw / "survey").iterdir())
    snapshots = sorted(p.name for p in (raw / "udi").iterdir())
    assert instance.get_materialized_partitions(dg.AssetKey("survey_wave")) == set(waves)
    assert instance.get_materialized_partitions(dg.AssetKey("udi_snapshot")) == set(snapshots)
    event = instance.get_latest_materialization_event(dg.AssetKey("survey_wave"))
    metadata = event.asset_materialization.metadata
    files = metadata["files"].value
    [name] = [f for f in files if f.startswith(f"survey/{event.asset_materialization.partition}/responses")]
    assert files[name]["sha256"] == sha256(raw / name)
    assert files[name]["rows_in"] == files[name]["rows_loaded"] + files[name]["rows_quarantined"]
    assert metadata["rows_in"].value == sum(f["rows_in"] for f in files.values())


def test_every_asset_of_the_graph_was_materialised(demo_warehouse):
    from orchestration.definitions import defs

    instance = instance_at(demo_warehouse)
    keys = defs.resolve_asset_graph().materializable_asset_keys
    assert dg.AssetKey("published_warehouse") in keys and dg.AssetKey(["marts", "persons"]) in keys
    missing = [k.to_user_string() for k in keys if instance.get_latest_materialization_event(k) is None]
    assert missing == []


def test_dbt_builds_keep_their_log_and_saved_parse_but_write_no_json_artefacts(demo_warehouse):
    from orchestration.defs.resources import DBT_STAGES, PARTIAL_PARSE_FILE

    for stage in DBT_STAGES:
        target = demo_warehouse / "dbt_target" / stage
        assert "Finished running" in (target / "dbt.log").read_text(encoding="utf-8")  # the build's own record
        assert (target / PARTIAL_PARSE_FILE).exists()  # what the next build starts from
        assert not [name for name in ("manifest.json", "run_results.json") if (target / name).exists()]


def test_dbt_tests_and_gx_suites_ran_as_asset_checks(demo_warehouse):
    from orchestration.definitions import defs

    instance = instance_at(demo_warehouse)
    check_keys = defs.resolve_asset_graph().asset_check_keys
    gx = [k for k in check_keys if k.name == "great_expectations"]
    dbt_tests = [k for k in check_keys if k.asset_key.path[0] in ("staging", "marts", "release")
                 and k.name not in ("great_expectations", "udi_freshness")]
    assert len(gx) >= 6 and len(dbt_tests) >= 10
    for key in gx + dbt_tests:
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key]).get(key)
        assert record is not None and record.status.value == "SUCCEEDED", key.to_user_string()


class LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name == "href" and value]

    def handle_data(self, data):
        self.text.append(data)


# The Data Docs index lists validation results in a script-filled table: links sit in `_table_row_link_path`.
TABLE_LINK = re.compile(r"_table_row_link_path['\"]:\s*['\"]([^'\"]+)['\"]")


def test_data_docs_html_is_rendered_into_the_data_dir(demo_warehouse):
    from validation.expectations import MART_NAMES

    index = demo_warehouse / "data_docs" / "index.html"
    html = index.read_text(encoding="utf-8")
    page = LinkCollector()
    page.feed(html)
    assert any("Expectation Suites" in text for text in page.text)
    links = {link.split("#")[0] for link in page.links + TABLE_LINK.findall(html)}
    validations = sorted(link for link in links if link.startswith("validations/") and link.endswith(".html"))
    assert validations, "the index links no validation result"
    for link in validations:
        assert (index.parent / link).is_file(), link
    assert {link.split("/")[1] for link in validations} >= set(MART_NAMES)
    result_page = LinkCollector()
    result_page.feed((index.parent / validations[0]).read_text(encoding="utf-8"))
    assert any("Validation" in text for text in result_page.text)


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    def look():
        tables = con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0]
        persons = con.execute("select count(*), sum(hash(person_id)) from marts.persons").fetchone()
        return f"{tables}|{persons[0]}|{persons[1]}"
    print(look(), flush=True)
    sys.stdin.readline()  # hold the published file open while the refresh runs
    print(look(), flush=True)
""")


def test_a_reader_is_undisturbed_by_a_full_refresh_which_publishes_a_new_file(demo_warehouse, tmp_path, run_refresh):
    data = copy_data_dir(demo_warehouse, tmp_path / "data")
    published = data / "warehouse.duckdb"
    old_inode, old_hash = published.stat().st_ino, sha256(published)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        before = reader.stdout.readline().strip()
        assert before and not before.startswith("0|"), reader.stderr.read() if not before else before
        result = run_refresh(data)
        after, err = reader.communicate("done\n", timeout=120)
    finally:
        reader.kill()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert reader.returncode == 0, err
    assert after.strip() == before
    assert published.stat().st_ino != old_inode, "a new file must have been renamed into place"
    assert sha256(data / "warehouse.previous.duckdb") == old_hash
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("select count(*) from marts.persons").fetchone()[0] > 0
    finally:
        con.close()


def add_bad_snapshot(raw: Path, snapshot: str, bad_share: float = 0.5) -> Path:
    """A new UDI folder copied from the newest one, with half of the valid-permit counts garbled."""
    newest = sorted((raw / "udi").iterdir())[-1]
    folder = raw / "udi" / snapshot
    folder.mkdir()
    for source in newest.iterdir():
        target_name = source.name.replace(newest.name, snapshot)
        if not source.name.startswith("gyldige_"):
            (folder / target_name).write_bytes(source.read_bytes())
            continue
        text = source.read_text(encoding="utf-8-sig")
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
        rows = list(csv.reader(text.splitlines(), dialect))
        header, body = rows[0], rows[1:]
        column = [name.strip().lower() for name in header].index("antall")
        for i, row in enumerate(body):
            if i < len(body) * bad_share:
                row[column] = "not a number"
        with (folder / target_name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, dialect).writerows([header] + body)
    return folder


def test_a_failing_blocking_ingest_check_holds_only_its_partition_back(demo_warehouse, tmp_path, run_refresh):
    """A new snapshot failing its blocking check never loaded good: it is left out, the rest is published (exit 3)."""
    data = copy_data_dir(demo_warehouse, tmp_path / "data")
    published_hash = sha256(data / "warehouse.duckdb")
    add_bad_snapshot(data / "raw", "2026-01-05")
    result = run_refresh(data)
    assert result.returncode == 3, result.stdout[-3000:]
    assert sha256(data / "warehouse.duckdb") != published_hash
    held_back = result.stdout[result.stdout.index("published WITH"):]
    assert "udi partition [2026-01-05] held back: left out (never loaded good)" in held_back
    assert "check udi_snapshot:udi_partition_valid [2026-01-05]" in held_back
    [alert] = (data / "alerts").glob("*.json")
    record = json.loads(alert.read_text())
    assert record["alert"] == "partitions_held_back"
    assert "udi_snapshot:udi_partition_valid [2026-01-05]" in record["summary"]
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:  # its rows, loaded into the build before the check failed, were taken out again
        assert con.execute("select count(*) from raw.udi_valid_permits "
                           "where snapshot_date = date '2026-01-05'").fetchone()[0] == 0
        assert con.execute("select count(*) from marts.udi_stock where snapshot_date = date '2026-01-05'").fetchone()[0] == 0
    finally:
        con.close()
    instance = instance_at(data)
    [failed_run] = [r for r in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
                    if r.tags.get("dagster/partition") == "2026-01-05"]
    [failure] = run_failures(instance, failed_run.run_id)[:1]
    assert failure.name == "udi_snapshot:udi_partition_valid"
    assert "quarantine" in failure.reason.lower()
