"""Isolation under `make refresh`: a broken partition is held back at its last good version (or left out if it
never loaded good), the rest is published, and the refresh exits 3 naming it in its output, the release
manifest, `audit.releases` and the alert record.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import PROJECT_ROOT, panel_env, refresh_subprocess

SCALE = "0.1"
UDI_FROM = "2025-07-05"  # four snapshot folders: 2025-07-05 ... 2025-10-05
BROKEN_KNOWN, VALID_NEW, BROKEN_NEW = "2025-09-05", "2025-10-05", "2025-11-05"


def rows_of(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def snapshot_rows(db: Path) -> dict[str, list[tuple]]:
    """Per UDI raw table, its rows without load time, in order; so kept rows can be compared exactly."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: rows_of(con, f"select * exclude (loaded_at) from raw.{table} "
                                    f"where cast(snapshot_date as varchar) = '{BROKEN_KNOWN}' order by all")
                for table in ("udi_applications", "udi_decisions", "udi_valid_permits")}
    finally:
        con.close()


def test_broken_partitions_are_held_back_and_the_rest_is_published(tmp_path):
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "synthetic_panel", "--out", str(data / "raw"), "--scale", SCALE,
                    "--mess", "0", "--udi-from", UDI_FROM, "--seed", "1"],
                   check=True, cwd=PROJECT_ROOT, env=panel_env(data), capture_output=True)
    udi = data / "raw" / "udi"
    later = tmp_path / "later"
    later.mkdir()
    shutil.move(udi / VALID_NEW, later / VALID_NEW)  # delivered after the first publication

    first = refresh_subprocess(data)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    published = data / "warehouse.duckdb"
    good_rows = snapshot_rows(published)
    assert all(good_rows.values())

    shutil.move(later / VALID_NEW, udi / VALID_NEW)  # a valid new snapshot
    (udi / BROKEN_KNOWN / "vedtak_2025.csv").write_text("not;a;udi;file\n1;2\n", encoding="utf-8")  # known, now broken
    (udi / BROKEN_NEW).mkdir()  # new and broken from the start
    (udi / BROKEN_NEW / f"gyldige_{BROKEN_NEW}.csv").write_bytes(b"garbage\n\x00\x01\n")

    second = refresh_subprocess(data)
    assert second.returncode == 3, second.stdout[-3000:] + second.stderr[-3000:]
    summary = second.stdout[second.stdout.index("published WITH"):]
    assert f"[{BROKEN_KNOWN}] held back: last good version" in summary
    assert f"udi/{BROKEN_KNOWN}/vedtak_2025.csv: header does not match" in summary
    assert f"[{BROKEN_NEW}] held back: left out (never loaded good)" in summary
    assert f"udi/{BROKEN_NEW}/gyldige_{BROKEN_NEW}.csv: binary data" in summary

    con = duckdb.connect(str(published), read_only=True)
    try:
        stock = dict(rows_of(con, "select cast(snapshot_date as varchar), count(*) from marts.udi_stock group by 1"))
        accounted = {key for (key,) in rows_of(con, "select distinct partition_key from audit.row_accounting")}
        release_id, held_json = rows_of(con, "select release_id, held_back from audit.releases "
                                             "order by published_at desc, release_id desc limit 1")[0]
    finally:
        con.close()
    assert stock[VALID_NEW] > 0  # the valid new snapshot is published
    assert stock[BROKEN_KNOWN] > 0 and BROKEN_NEW not in stock
    assert BROKEN_KNOWN in accounted and BROKEN_NEW not in accounted
    assert snapshot_rows(published) == good_rows  # exactly the last good version's rows

    manifest = json.loads((data / "releases" / release_id / "manifest.json").read_text(encoding="utf-8"))
    held = {h["partition"]: h for h in manifest["held_back"]}
    assert held == {h["partition"]: h for h in json.loads(held_json)}
    assert set(held) == {BROKEN_KNOWN, BROKEN_NEW}
    assert held[BROKEN_KNOWN]["kept"] == "last good version" and held[BROKEN_KNOWN]["kept_from_release"]
    assert held[BROKEN_NEW]["kept"].startswith("left out") and held[BROKEN_NEW]["kept_from_release"] is None

    alerts = [json.loads(p.read_text(encoding="utf-8")) for p in (data / "alerts").glob("*.json")]
    assert [a["alert"] for a in alerts] == ["partitions_held_back"]
    assert {h["partition"] for h in alerts[0]["held_back"]} == {BROKEN_KNOWN, BROKEN_NEW}
    assert BROKEN_KNOWN in alerts[0]["summary"] and BROKEN_NEW in alerts[0]["summary"]


def test_reusing_unchanged_partitions_copies_each_published_one_once_and_skips_those_it_lacks(tmp_path):
    from orchestration.holdback import reuse_published
    from panel_ingest.raw_tables import ensure_raw_tables

    published, build = tmp_path / "warehouse.duckdb", tmp_path / "build.duckdb"
    con = duckdb.connect(str(published))
    ensure_raw_tables(con)
    for day, rows in (("2025-08-05", 2), ("2025-09-05", 1)):
        source = f"udi/{day}/gyldige_{day}.csv"
        con.executemany("insert into raw.udi_valid_permits (snapshot_date, source_file, row_number, antall) "
                        "values (?, ?, ?, 'published')", [(day, source, n) for n in range(1, rows + 1)])
        con.execute("insert into audit.row_accounting (source_file, partition_key, rows_in) values (?, ?, ?)",
                    [source, day, rows])
    con.close()
    con = duckdb.connect(str(build))
    ensure_raw_tables(con)
    con.execute("insert into raw.udi_valid_permits (snapshot_date, source_file, row_number, antall) "
                "values ('2025-09-05', 'udi/2025-09-05/gyldige_2025-09-05.csv', 1, 'stale')")
    con.close()

    reused = reuse_published(build, published, "udi", ["2025-08-05", "2025-09-05", "2025-10-05"])
    assert reused == ["2025-08-05", "2025-09-05"]  # 2025-10-05 is not in the published file: ingest it
    assert reuse_published(build, published, "udi", []) == []
    con = duckdb.connect(str(build))
    try:
        assert rows_of(con, "select cast(snapshot_date as varchar), count(*), min(antall) from raw.udi_valid_permits "
                            "group by 1 order by 1") == [("2025-08-05", 2, "published"), ("2025-09-05", 1, "published")]
        assert rows_of(con, "select partition_key, rows_in from audit.row_accounting order by 1") == [
            ("2025-08-05", 2), ("2025-09-05", 1)]
    finally:
        con.close()


def test_hold_back_keeps_the_published_rows_replaces_bad_ones_and_is_cleared_when_good(tmp_path):
    from orchestration.holdback import clear_held_back, held_back_partitions, hold_back
    from panel_ingest.raw_tables import ensure_raw_tables

    published, build = tmp_path / "warehouse.duckdb", tmp_path / "build.duckdb"
    for path, value in ((published, "good"), (build, "bad")):
        con = duckdb.connect(str(path))
        ensure_raw_tables(con)
        con.execute("insert into raw.udi_valid_permits (snapshot_date, source_file, row_number, antall) "
                    "values ('2025-09-05', 'udi/2025-09-05/gyldige_2025-09-05.csv', 1, ?), "
                    "('2025-08-05', 'udi/2025-08-05/gyldige_2025-08-05.csv', 1, 'other')", [value])
        con.execute("insert into audit.row_accounting (source_file, partition_key, rows_in) "
                    "values ('udi/2025-09-05/gyldige_2025-09-05.csv', '2025-09-05', 1)")
        con.close()

    kept = hold_back(build, published, "udi", "2025-09-05", "check udi_snapshot:udi_partition_valid: bad", "R1")
    left_out = hold_back(build, published, "udi", "2025-10-05", "step udi_snapshot: unreadable", "R1")
    assert (kept.kept, kept.kept_from_release) == ("last good version", "R1")
    assert (left_out.kept, left_out.kept_from_release) == ("left out (never loaded good)", None)
    con = duckdb.connect(str(build))
    try:
        assert rows_of(con, "select cast(snapshot_date as varchar), antall from raw.udi_valid_permits order by 1") == [
            ("2025-08-05", "other"), ("2025-09-05", "good")]  # other partitions untouched
        assert rows_of(con, "select count(*) from audit.row_accounting") == [(1,)]  # replaced, not doubled
        assert [h["partition"] for h in held_back_partitions(con)] == ["2025-09-05", "2025-10-05"]
        clear_held_back(con, "udi", "2025-09-05")
        assert [h["partition"] for h in held_back_partitions(con)] == ["2025-10-05"]
    finally:
        con.close()


def test_partitions_are_reused_and_held_back_again_and_again_while_the_refresh_keeps_the_build_file_open(tmp_path):
    # DuckDB shares a file's database among a process's connections, attached databases included: each of these
    # must detach what it attached, and the file must be free for dbt's process once the refresh lets it go
    from orchestration.holdback import hold_back, reuse_published
    from orchestration.refresh import build_file_kept_open
    from panel_ingest.raw_tables import ensure_raw_tables

    published, build = tmp_path / "warehouse.duckdb", tmp_path / "build.duckdb"
    for path in (published, build):
        con = duckdb.connect(str(path))
        ensure_raw_tables(con)
        con.execute("insert into raw.udi_valid_permits (snapshot_date, source_file, row_number, antall) "
                    "values ('2025-08-05', 'udi/2025-08-05/gyldige_2025-08-05.csv', 1, ?)", [path.stem])
        con.close()

    with build_file_kept_open(build):
        assert reuse_published(build, published, "udi", ["2025-08-05"]) == ["2025-08-05"]
        kept = hold_back(build, published, "udi", "2025-08-05", "check udi_snapshot:udi_partition_valid: bad", "R1")
        left_out = hold_back(build, published, "udi", "2025-10-05", "step udi_snapshot: unreadable", "R1")
        assert reuse_published(build, published, "udi", ["2025-08-05"]) == ["2025-08-05"]
    assert (kept.kept, left_out.kept) == ("last good version", "left out (never loaded good)")
    writer = subprocess.run([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                             "print(con.execute('select antall from raw.udi_valid_permits').fetchall())", str(build)],
                            capture_output=True, text=True, timeout=60)
    assert writer.returncode == 0, writer.stderr  # the refresh's connection is closed: another process may write
    assert writer.stdout.strip() == "[('warehouse',)]"


def test_every_new_build_has_an_empty_held_back_table_whether_or_not_a_partition_is_ingested(tmp_path, monkeypatch):
    """A build that reuses every partition ingests nothing; its tables must still be those of any other build
    (analysts query audit.held_back_partitions, and a table that comes and goes regenerated the catalogue)."""
    from orchestration.refresh import start_fresh_build

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path / "data"))
    build = tmp_path / "data" / "build" / "warehouse.duckdb"
    start_fresh_build(build)
    con = duckdb.connect(str(build), read_only=True)
    try:
        assert rows_of(con, "select count(*) from audit.held_back_partitions") == [(0,)]
        assert rows_of(con, "select comment from duckdb_tables() where table_name = 'held_back_partitions'")[0][0]
    finally:
        con.close()


def test_a_new_build_file_is_in_the_published_storage_version_whoever_creates_it(tmp_path, monkeypatch):
    """The refresh (start_fresh_build) and a daemon run's first writer (BuildDatabase) create the build file in
    the DuckDB 1.x storage version, so its publication is a byte copy (orchestration.publish)."""
    from orchestration.defs.resources import BuildDatabase
    from orchestration.publish import PUBLISHED_STORAGE_TAG, storage_version
    from orchestration.refresh import start_fresh_build

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path / "data"))
    build = tmp_path / "data" / "build" / "warehouse.duckdb"
    start_fresh_build(build)
    assert storage_version(build) == PUBLISHED_STORAGE_TAG
    build.unlink()
    with BuildDatabase().connect() as con:
        con.execute("create table t as select 1 as x")
    assert storage_version(build) == PUBLISHED_STORAGE_TAG


def test_a_fatal_duckdb_error_while_ingesting_costs_only_its_partition(tmp_path, monkeypatch):
    """A fatal DuckDB error (here a real one: a checkpoint aborted by DuckDB's own test switch) invalidates the
    database every connection of the process shares, the one the refresh keeps open included: the partition is
    held back, and the file is reopened so that the partitions after it are ingested (they failed too before)."""
    import dagster as dg

    from conftest import TEST_HMAC_KEY, generate_raw
    from orchestration import refresh
    from panel_ingest import udi

    data = tmp_path / "data"
    generate_raw(data, scale="0.1", seed="5")
    monkeypatch.setenv("PANEL_DATA_DIR", str(data))
    monkeypatch.setenv("PANEL_HMAC_KEY", TEST_HMAC_KEY)
    from orchestration.definitions import defs

    snapshots = sorted(folder.name for folder in (data / "raw" / "udi").iterdir())[:3]
    doomed = snapshots[1]
    replace_partition = udi.replace_partition

    def fatal_for_one(con, load):
        if load.key == doomed:
            con.execute("SET debug_checkpoint_abort = 'before_header'")
            con.execute("CHECKPOINT")
        replace_partition(con, load)

    monkeypatch.setattr(udi, "replace_partition", fatal_for_one)
    build = data / "build" / "warehouse.duckdb"
    refresh.start_fresh_build(build)
    lines, result = [], refresh.RefreshResult()
    with dg.instance_for_test() as instance, refresh.build_file_kept_open(build) as kept:
        refresh.register_partitions(instance, data / "raw")
        refresh._ingest(defs, instance, [], snapshots, lines.append, set(), result, kept)
        assert not kept.reopen_if_invalidated()  # healthy again
    assert [(h.partition, h.kept) for h in result.held_back] == [(doomed, "left out (never loaded good)")]
    assert "FATAL" in result.held_back[0].reason or "fatal" in result.held_back[0].reason.lower()
    assert any("reopened the build file after a fatal DuckDB error" in line and doomed in line for line in lines)
    con = duckdb.connect(str(build), read_only=True)
    try:
        loaded = rows_of(con, "select distinct cast(snapshot_date as varchar) from raw.udi_valid_permits order by 1")
        assert loaded == [(key,) for key in snapshots if key != doomed]
        assert rows_of(con, "select partition_key from audit.held_back_partitions") == [(doomed,)]
    finally:
        con.close()
