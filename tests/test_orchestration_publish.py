"""Write-audit-publish: atomic replacement, previous file kept, readers undisturbed, restore."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from orchestration import publish
from orchestration.publish import PublishError, publish_build, restore_previous


def make_warehouse(path: Path, label: str) -> None:
    """A minimal file with the contract schemas and a label to tell versions apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for schema in ("marts", "release", "audit"):
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {schema}.version as select '{label}' as label")
    con.close()


def label_of(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select label from marts.version").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_first_publication_has_no_previous(data):
    make_warehouse(data / "build" / "warehouse.duckdb", "v1")
    result = publish_build()
    assert label_of(data / "warehouse.duckdb") == "v1"
    assert result.previous is None and not (data / "warehouse.previous.duckdb").exists()
    assert result.tables == 3


def test_second_publication_keeps_the_first_as_previous(data):
    make_warehouse(data / "build" / "warehouse.duckdb", "v1")
    publish_build()
    make_warehouse(data / "build" / "warehouse.duckdb", "v2")
    result = publish_build()
    assert label_of(data / "warehouse.duckdb") == "v2"
    assert label_of(data / "warehouse.previous.duckdb") == "v1"
    assert result.previous == data / "warehouse.previous.duckdb"
    assert sorted(p.name for p in data.iterdir() if p.is_file()) == ["warehouse.duckdb", "warehouse.previous.duckdb"]


def test_a_build_without_the_contract_schemas_is_not_published(data):
    make_warehouse(data / "build" / "warehouse.duckdb", "v1")
    publish_build()
    before = (data / "warehouse.duckdb").read_bytes()
    con = duckdb.connect(str(data / "build" / "warehouse.duckdb"))
    con.execute("drop table marts.version")
    con.close()
    with pytest.raises(PublishError, match="marts"):
        publish_build()
    assert (data / "warehouse.duckdb").read_bytes() == before
    assert not [p for p in data.iterdir() if p.name.startswith(".warehouse")], "temporary copy left behind"


def test_a_failed_copy_leaves_the_published_file_untouched(data, monkeypatch):
    make_warehouse(data / "build" / "warehouse.duckdb", "v1")
    publish_build()
    before = (data / "warehouse.duckdb").read_bytes()
    make_warehouse(data / "build" / "warehouse.duckdb", "v2")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.releases.shutil, "copyfile", disk_full)  # copying the release's own file
    with pytest.raises(OSError):
        publish_build()
    assert (data / "warehouse.duckdb").read_bytes() == before
    assert not [p for p in data.iterdir() if p.name.startswith(".warehouse")]
    assert [p.name for p in (data / "releases").iterdir()] == [publish.releases.published_release_id()]


def test_restore_puts_the_previous_file_back(data):
    make_warehouse(data / "build" / "warehouse.duckdb", "v1")
    publish_build()
    make_warehouse(data / "build" / "warehouse.duckdb", "v2")
    publish_build()
    restore_previous()
    assert label_of(data / "warehouse.duckdb") == "v1"
    assert label_of(data / "warehouse.previous.duckdb") == "v1"


def test_restore_cli_without_previous_explains(data):
    result = subprocess.run([sys.executable, "-m", "orchestration.publish", "--restore"], capture_output=True,
                            text=True, env={**os.environ, "PANEL_DATA_DIR": str(data)}, cwd=Path(__file__).parent.parent)
    assert result.returncode == 1
    assert "nothing to restore" in result.stderr


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select label from marts.version").fetchone()[0], flush=True)
    sys.stdin.readline()  # hold the file open until the test has published a new one
    print(con.execute("select label from marts.version").fetchone()[0], flush=True)
""")


def test_a_reader_holding_the_published_file_is_undisturbed(data):
    make_warehouse(data / "build" / "warehouse.duckdb", "v1")
    publish_build()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(data / "warehouse.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "v1"
        make_warehouse(data / "build" / "warehouse.duckdb", "v2")
        publish_build()  # would raise on a lock conflict
        out, err = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    assert out.strip() == "v1"
    assert label_of(data / "warehouse.duckdb") == "v2"
