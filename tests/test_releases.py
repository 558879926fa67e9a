"""Reproducible releases: the manifest in `audit.releases` and beside the file, kept releases, restore by id,
the DuckDB 1.x storage format, and the Parquet/Stata/SPSS exports with their labels."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest

from orchestration import exports, releases
from orchestration.publish import (PublishError, create_build_file, publish_build, restore_previous, restore_release,
                                   storage_version)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def make_build(data: Path, label: str, n_rows: int, fresh: bool = True) -> None:
    """A small build with the contract schemas, a mart of `n_rows` rows and a labelled release table, in a new
    file (DuckDB's own format) when `fresh`, else in the (empty) file already there."""
    build = data / "build" / "warehouse.duckdb"
    build.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        build.unlink(missing_ok=True)
    con = duckdb.connect(str(build))
    for schema in ("marts", "release", "audit"):
        con.execute(f"create schema {schema}")
    con.execute(f"create table marts.version as select '{label}' as label")
    con.execute(f"create table marts.persons as select 'p' || range as person_id, 1990 + range as birth_year, "
                f"range % 2 = 0 as children_in_norway_first, date '2022-03-01' + range::int as arrival_date "
                f"from range({n_rows})")
    con.execute("create table release.aspiration_by_wave as select * from (values "
                "('w1_2022', 'coarse', 'return_asap', 12, false, 0.4), "
                "('w1_2022', 'coarse', 'stay_norway', null, true, null), "
                "('w1_2022', 'coarse', 'undecided', 18, false, 0.6)) "
                "t(wave_id, scale, aspiration, n, n_suppressed, share)")
    con.execute("comment on column release.aspiration_by_wave.aspiration is 'Aspiration on the row''s scale.'")
    con.execute("comment on column release.aspiration_by_wave.n is 'Respondents giving this answer. NULL where suppressed.'")
    con.execute("create table audit.row_accounting as select 'survey/w1_2022/responses.csv' as source_file, "
                f"{n_rows} as rows_in, {n_rows} as rows_loaded, 0 as rows_quarantined")
    con.close()


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(releases.KEEP_ENV, raising=False)
    raw = tmp_path / "raw"
    (raw / "survey" / "w1_2022").mkdir(parents=True)
    (raw / "survey" / "w1_2022" / "responses.csv").write_text("svar_id\n1\n", encoding="utf-8")
    (raw / "_truth").mkdir()
    (raw / "_truth" / "persons.csv").write_text("person\n", encoding="utf-8")
    return tmp_path


def manifest_rows(path: Path) -> list[dict]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        frame = con.execute("select * from audit.releases order by published_at, release_id").df()
    finally:
        con.close()
    return frame.to_dict("records")


def test_every_publication_records_its_manifest_in_the_file_and_beside_it(data):
    make_build(data, "v1", 3)
    result = publish_build(checks=[{"check": "persons:ok", "passed": True, "severity": "ERROR"}])
    rows = manifest_rows(data / "warehouse.duckdb")
    assert [row["release_id"] for row in rows] == [result.release_id]
    row = rows[0]
    assert row["code_version"] == releases.code_version() and row["code_version"] != ""
    tools = json.loads(row["tool_versions"])
    assert {"python", "dagster", "dbt-core", "dbt-duckdb", "duckdb", "pandera", "splink"} <= set(tools)
    files = {entry["path"]: entry for entry in json.loads(row["input_files"])}
    responses = data / "raw" / "survey" / "w1_2022" / "responses.csv"
    assert files["survey/w1_2022/responses.csv"]["sha256"] == hashlib.sha256(responses.read_bytes()).hexdigest()
    assert files["_truth/persons.csv"]["truth"] is True and "truth" not in files["survey/w1_2022/responses.csv"]
    assert json.loads(row["row_counts"]) == {"audit.row_accounting": 1, "marts.persons": 3, "marts.version": 1,
                                             "release.aspiration_by_wave": 3}
    assert json.loads(row["checks"]) == [{"check": "persons:ok", "passed": True, "severity": "ERROR"}]
    manifest = json.loads((data / "releases" / result.release_id / "manifest.json").read_text())
    assert manifest["release_id"] == result.release_id and manifest["row_counts"]["marts.persons"] == 3


def test_the_history_of_releases_carries_over_and_old_releases_are_pruned(data, monkeypatch):
    monkeypatch.setenv(releases.KEEP_ENV, "2")
    ids = []
    for n in range(1, 4):
        make_build(data, f"v{n}", n)
        ids.append(publish_build().release_id)
    assert len(set(ids)) == 3
    assert [row["release_id"] for row in manifest_rows(data / "warehouse.duckdb")] == ids
    assert [row["release_id"] for row in manifest_rows(data / "releases" / ids[1] / "warehouse.duckdb")] == ids[:2]
    assert sorted(p.name for p in (data / "releases").iterdir()) == sorted(ids[1:])
    listing = subprocess.run([sys.executable, "-m", "orchestration.releases"], capture_output=True, text=True,
                             cwd=PROJECT_ROOT, env={**os.environ, "PANEL_DATA_DIR": str(data)}, timeout=300)
    assert listing.returncode == 0, listing.stderr
    # Ids made in the same second differ only by a suffix ("…Z" and "…Z-2"), so compare whole first words.
    listed = [line.split()[0] for line in listing.stdout.splitlines()[1:] if line.strip()]
    assert listed == ids[1:] and f"{ids[2]} (published)" in listing.stdout


def test_restoring_an_older_release_brings_back_the_marts_of_its_manifest(data):
    ids = []
    for n in (4, 7, 9):
        make_build(data, f"v{n}", n)
        ids.append(publish_build().release_id)
    result = subprocess.run([sys.executable, "-m", "orchestration.publish", "--restore", "--release", ids[0]],
                            capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env={**os.environ, "PANEL_DATA_DIR": str(data)}, timeout=300)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((data / "releases" / ids[0] / "manifest.json").read_text())
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        for table, count in manifest["row_counts"].items():
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == count, table
        assert con.execute("select label from marts.version").fetchone()[0] == "v4"
        assert con.execute("select max(release_id) from audit.releases").fetchone()[0] == ids[0]
    finally:
        con.close()
    assert releases.published_release_id() == ids[0]
    # the file it replaced is kept as previous, and the exports follow the restored release
    assert manifest_rows(data / "warehouse.previous.duckdb")[-1]["release_id"] == ids[2]
    assert len(pd.read_parquet(data / "exports" / "parquet" / "marts" / "persons.parquet")) == 4
    # the next publication still carries the whole history, the restored release's later ones included
    make_build(data, "v10", 10)
    latest = publish_build().release_id
    assert [row["release_id"] for row in manifest_rows(data / "warehouse.duckdb")] == [*ids, latest]


def test_restoring_an_unknown_release_names_the_kept_ones(data):
    make_build(data, "v1", 1)
    kept = publish_build().release_id
    with pytest.raises(PublishError, match=kept):
        restore_release("19990101T000000Z")


def test_a_build_in_duckdb_2s_own_format_is_published_converted_to_the_duckdb_1x_format(data):
    make_build(data, "v1", 2)
    assert storage_version(data / "build" / "warehouse.duckdb") != "v1.0.0+"
    publish_build()
    assert storage_version(data / "warehouse.duckdb") == "v1.0.0+"
    assert read_with_duckdb1(data / "warehouse.duckdb")["marts.persons"] == 2


def test_a_build_created_in_the_duckdb_1x_format_stays_in_it_and_is_published_as_it_is(data):
    """A refresh creates its build file with create_build_file: DuckDB 2 keeps writing that file in the 1.x
    format, so publishing copies its bytes instead of converting it."""
    create_build_file(data / "build" / "warehouse.duckdb")
    make_build(data, "v1", 3, fresh=False)
    assert storage_version(data / "build" / "warehouse.duckdb") == "v1.0.0+"
    publish_build()
    assert storage_version(data / "warehouse.duckdb") == "v1.0.0+"
    counts = read_with_duckdb1(data / "warehouse.duckdb")
    assert counts["marts.persons"] == 3 and counts["audit.releases"] == 1


def test_publishing_a_build_in_the_1x_format_copies_it_and_converts_nothing(data, monkeypatch):
    from orchestration import publish

    create_build_file(data / "build" / "warehouse.duckdb")
    make_build(data, "v1", 3, fresh=False)
    monkeypatch.setattr(publish, "_convert_synced", lambda *args: pytest.fail("converted a build already in 1.x"))
    publish_build()
    make_build(data, "v2", 4)  # DuckDB 2's own format: this one must be converted
    with pytest.raises(pytest.fail.Exception, match="converted"):
        publish_build()


def test_code_version_degrades_without_git(tmp_path):
    assert releases.code_version(tmp_path).startswith("unknown")


def test_exports_read_back_with_their_labels(data):
    make_build(data, "v1", 5)
    result = publish_build()
    for folder in (result.release_dir / "exports", data / "exports"):
        persons = pd.read_parquet(folder / "parquet" / "marts" / "persons.parquet")
        assert len(persons) == 5 and list(persons.columns)[:2] == ["person_id", "birth_year"]
        assert len(pd.read_parquet(folder / "parquet" / "release" / "aspiration_by_wave.parquet")) == 3
        for reader, name in ((pyreadstat.read_dta, "stata/aspiration_by_wave.dta"),
                             (pyreadstat.read_sav, "spss/aspiration_by_wave.sav")):
            frame, meta = reader(str(folder / name))
            labels = dict(zip(meta.column_names, meta.column_labels))
            assert labels["aspiration"] == "Aspiration on the row's scale."
            assert labels["n"] == "Respondents giving this answer. NULL where suppressed."
            aspiration_words = meta.variable_value_labels["aspiration"]
            assert aspiration_words[1] == "return as soon as the war ends"  # the aspiration seed's label
            assert [aspiration_words[code] for code in frame["aspiration"]] == [
                "return as soon as the war ends", "stay in Norway",
                "undecided (any answer but return as soon as possible or stay in Norway)"]
            assert meta.variable_value_labels["scale"][int(frame["scale"][0])] == "coarse"
            assert meta.variable_value_labels["n_suppressed"] == {0: "no", 1: "yes"}
            assert frame["n"].isna().tolist() == [False, True, False]  # a suppressed count stays missing


DUCKDB1_PYTHON = PROJECT_ROOT / ".tools" / "duckdb1" / "bin" / "python"
READ_EVERY_TABLE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = con.execute("select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'release', 'audit') order by 1, 2").fetchall()
for schema, table in tables:
    rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
    print(f"{schema}.{table} {len(rows)}")
print("client", duckdb.__version__)
"""


def read_with_duckdb1(path: Path) -> dict[str, int]:
    """Every marts/release/audit table of `path` read by the DuckDB 1.x client: {schema.table: rows}."""
    assert DUCKDB1_PYTHON.exists(), "the DuckDB 1.x client is missing: make test installs it (.tools/duckdb1)"
    result = subprocess.run([str(DUCKDB1_PYTHON), "-c", READ_EVERY_TABLE, str(path)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("client 1."), lines[-1]
    return {name: int(count) for name, count in (line.split() for line in lines[:-1])}


def test_a_duckdb_1x_client_reads_every_table_of_the_published_file(data):
    make_build(data, "v1", 6)
    publish_build()
    counts = read_with_duckdb1(data / "warehouse.duckdb")
    assert counts["marts.persons"] == 6 and counts["release.aspiration_by_wave"] == 3
    assert counts["audit.releases"] == 1


def test_a_duckdb_1x_client_reads_every_mart_of_the_demo_warehouse(demo_warehouse):
    published = demo_warehouse / "warehouse.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    try:
        names = [f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'release', 'audit')").fetchall()]
        exact = {name: con.execute(f"select count(*) from {name}").fetchone()[0] for name in names}
    finally:
        con.close()
    assert {"marts.persons", "marts.panel_tracking", "marts.aspiration_by_wave", "release.attrition"} <= set(exact)
    assert read_with_duckdb1(published) == exact


def test_the_demo_release_exports_carry_labels_from_comments_and_vocabularies(demo_warehouse):
    exports_dir = demo_warehouse / "exports"
    con = duckdb.connect(str(demo_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        release_tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'release' order by 1").fetchall()]
        mart_tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        outcomes = con.execute("select outcome_to, count(*) from release.aspiration_transitions group by 1").fetchall()
    finally:
        con.close()
    assert sorted(p.stem for p in (exports_dir / "parquet" / "marts").glob("*.parquet")) == mart_tables
    for table in release_tables:
        parquet = pd.read_parquet(exports_dir / "parquet" / "release" / f"{table}.parquet")
        for reader, name in ((pyreadstat.read_dta, f"stata/{table}.dta"), (pyreadstat.read_sav, f"spss/{table}.sav")):
            frame, meta = reader(str(exports_dir / name))
            assert len(frame) == len(parquet) and list(frame.columns) == list(parquet.columns)
            assert all(meta.column_labels), f"{name}: every variable has a label"
    # outcome_to is numbered in its vocabulary's order, each number labelled with its words
    vocabulary = exports.vocabularies()[("aspiration_transitions", "outcome_to")]
    frame, meta = pyreadstat.read_sav(str(exports_dir / "spss" / "aspiration_transitions.sav"))
    assert sorted(meta.variable_value_labels["outcome_to"]) == list(range(1, len(vocabulary) + 1))
    decoded = frame["outcome_to"].map(lambda code: vocabulary[int(code) - 1]).value_counts().to_dict()
    assert decoded == dict(outcomes)
    assert meta.variable_value_labels["outcome_to"][vocabulary.index("left_to_ukraine") + 1] == "left Norway for Ukraine"


def test_plain_restore_brings_back_the_previous_release_with_its_exports(data):
    make_build(data, "v1", 2)
    first = publish_build().release_id
    make_build(data, "v2", 8)
    publish_build()
    restore_previous()
    assert releases.published_release_id() == first
    assert len(pd.read_parquet(data / "exports" / "parquet" / "marts" / "persons.parquet")) == 2
