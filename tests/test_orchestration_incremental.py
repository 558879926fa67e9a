"""A refresh skips what has not changed (orchestration.build_inputs): nothing at all when no input changed,
and every unchanged partition when only some did, with the same published content as a full rebuild."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration import build_inputs
from tests.conftest import copy_data_dir, generate_raw, refresh_subprocess
from tests.warehouse_content import catalogue, content_fingerprints

KEY = b"a-test-key-0123456789"


# ---- the fingerprint --------------------------------------------------------------------------------------

@pytest.fixture
def raw(tmp_path) -> Path:
    for folder, name, text in (("survey/w1_2022", "responses.csv", "a;b\n1;2\n"),
                               ("survey/w2_2023", "responses.csv", "a;b\n3;4\n"),
                               ("udi/2025-01-05", "applications.csv", "x\n1\n"),
                               ("_truth", "persons.csv", "p\n1\n")):
        (tmp_path / "raw" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "raw" / folder / name).write_text(text)
    return tmp_path / "raw"


PARTITIONS = {"survey": ["w1_2022", "w2_2023"], "udi": ["2025-01-05"]}


def take(raw: Path, key: bytes = KEY, partitions: dict = PARTITIONS) -> dict:
    return build_inputs.fingerprint(key, partitions, raw=raw, data_dir=raw.parent)


def test_an_edited_file_changes_only_its_partition(raw):
    before = take(raw)
    (raw / "survey/w2_2023/responses.csv").write_text("a;b\n3;5\n")
    after = take(raw)
    assert [name for name in before["partitions"] if before["partitions"][name] != after["partitions"][name]] \
        == ["survey/w2_2023"]
    assert build_inputs.reusable_partitions(after, before, set()) == {"survey/w1_2022", "udi/2025-01-05"}
    assert not build_inputs.nothing_changed(after, before, set())


def test_a_renamed_or_added_file_is_a_change(raw):
    before = take(raw)
    (raw / "udi/2025-01-05/applications.csv").rename(raw / "udi/2025-01-05/applications_v2.csv")
    renamed = take(raw)
    assert renamed["partitions"]["udi/2025-01-05"] != before["partitions"]["udi/2025-01-05"]
    (raw / "udi/2025-01-05/decisions.csv").write_text("y\n")
    assert take(raw)["partitions"]["udi/2025-01-05"] != renamed["partitions"]["udi/2025-01-05"]


def test_same_inputs_mean_nothing_changed_unless_something_was_held_back(raw):
    before, now = take(raw), take(raw)
    assert build_inputs.nothing_changed(now, before, set())
    assert not build_inputs.nothing_changed(now, before, {"udi/2025-01-05"})
    assert build_inputs.reusable_partitions(now, before, {"udi/2025-01-05"}) == {"survey/w1_2022", "survey/w2_2023"}


def test_a_partition_seen_for_the_first_time_is_a_change(raw):
    """A future-dated snapshot left out yesterday is ingested once its date has come."""
    before = take(raw, partitions={"survey": PARTITIONS["survey"], "udi": []})
    assert not build_inputs.nothing_changed(take(raw), before, set())


@pytest.mark.parametrize("change", ["key", "setting", "truth", "decisions", "codebook"])
def test_what_every_partition_depends_on_changes_everything(raw, monkeypatch, tmp_path, change):
    monkeypatch.delenv("PANEL_MIN_CELL", raising=False)
    monkeypatch.delenv("PANEL_CODEBOOK_DIR", raising=False)
    before = take(raw)
    key = KEY
    if change == "key":
        key = b"another-key-0123456789"
    elif change == "setting":
        monkeypatch.setenv("PANEL_MIN_CELL", "11")
    elif change == "truth":
        (raw / "_truth/persons.csv").write_text("p\n2\n")
    elif change == "decisions":
        (raw.parent / "linkage_decisions.csv").write_text("left,right,decision\n")
    else:
        (tmp_path / "codebook").mkdir()
        (tmp_path / "codebook" / "concepts.csv").write_text("c\n")
        monkeypatch.setenv("PANEL_CODEBOOK_DIR", str(tmp_path / "codebook"))
    after = take(raw, key)
    assert after["partitions"] == before["partitions"]
    assert build_inputs.reusable_partitions(after, before, set()) == set()
    assert not build_inputs.nothing_changed(after, before, set())


def test_no_record_of_the_published_build_reuses_nothing(raw):
    assert build_inputs.reusable_partitions(take(raw), {}, set()) == set()
    assert not build_inputs.nothing_changed(take(raw), {}, set())


def test_the_key_is_not_in_the_fingerprint(raw):
    assert KEY.decode() not in json.dumps(take(raw))


def test_the_code_digest_follows_the_project_files():
    assert build_inputs.code_digest() == build_inputs.code_digest()
    assert len(build_inputs.code_digest()) == 64


@pytest.mark.parametrize("value, full", [("", False), ("0", False), ("no", False), ("1", True), ("yes", True)])
def test_full_refresh_flag(monkeypatch, value, full):
    monkeypatch.setenv(build_inputs.FULL_REFRESH, value)
    assert build_inputs.full_refresh_requested() is full


def test_the_sidecar_is_read_once(tmp_path):
    build = tmp_path / "warehouse.duckdb"
    build_inputs.write_sidecar(build, {"code": "c"})
    assert build_inputs.take_sidecar(build) == {"code": "c"}
    assert build_inputs.take_sidecar(build) == {}


def test_a_report_older_than_the_published_file_is_a_reason_to_rebuild(tmp_path, monkeypatch):
    """A step after the publication (report, catalogue) failed last time: skipping would leave it stale."""
    import os

    from orchestration.refresh import published_outputs_current

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    published = tmp_path / "warehouse.duckdb"
    outputs = [tmp_path / "report" / "index.html", tmp_path / "catalogue" / "index.html"]
    assert not published_outputs_current()
    published.write_bytes(b"")
    for output in outputs:
        output.parent.mkdir()
        output.write_text("<html></html>")
    assert published_outputs_current()
    os.utime(outputs[0], (published.stat().st_mtime - 60, published.stat().st_mtime - 60))
    assert not published_outputs_current()


# ---- end to end -------------------------------------------------------------------------------------------

def newest_release(data_dir: Path) -> tuple[str, dict]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        release_id, inputs = con.execute("select release_id, build_inputs from audit.releases "
                                         "order by published_at desc, release_id desc limit 1").fetchone()
        return release_id, json.loads(inputs)
    finally:
        con.close()


WEIGHTS_COPIED = "weights: inputs as published (same digest): copied from the published warehouse"


def newest_log(data_dir: Path) -> str:
    """Dagster's and dbt's own output of the newest refresh (where the steps' log lines go)."""
    return sorted((data_dir / "logs").glob("refresh-*.log"))[-1].read_text(encoding="utf-8")


def incremental(data_dir: Path):
    return refresh_subprocess(data_dir, PANEL_REFRESH_FULL="")


@pytest.fixture(scope="module")
def first_publication(tmp_path_factory):
    """Scale-0.1 data without its newest UDI snapshot, refreshed and published."""
    data_dir = tmp_path_factory.mktemp("incremental") / "data"
    raw = generate_raw(data_dir, scale="0.1", seed="5")
    newest = sorted((raw / "udi").iterdir())[-1]
    aside = data_dir.parent / "newest_snapshot"
    shutil.move(str(newest), aside / newest.name)
    result = incremental(data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return data_dir, aside / newest.name


@pytest.mark.end_to_end
def test_a_refresh_with_nothing_changed_rebuilds_nothing(first_publication):
    data_dir, _ = first_publication
    release_before, inputs = newest_release(data_dir)
    assert set(inputs) == {"code", "settings", "shared", "partitions"} and inputs["partitions"]
    published = data_dir / "warehouse.duckdb"
    stat_before = published.stat()
    result = incremental(data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"nothing changed since release {release_before}" in result.stdout
    assert newest_release(data_dir)[0] == release_before
    assert (published.stat().st_ino, published.stat().st_mtime_ns) == (stat_before.st_ino, stat_before.st_mtime_ns)


@pytest.mark.end_to_end
def test_a_new_snapshot_reuses_every_unchanged_partition_and_publishes_what_a_full_rebuild_would(
        first_publication, tmp_path):
    data_dir, newest = first_publication
    release_before, inputs_before = newest_release(data_dir)
    shutil.copytree(newest, data_dir / "raw" / "udi" / newest.name)
    full = copy_data_dir(data_dir, tmp_path / "full")

    result = incremental(data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    unchanged = len(inputs_before["partitions"])
    assert f"reused {unchanged} unchanged partition(s)" in result.stdout
    assert "copied what only unchanged sources feed from the published warehouse" in result.stdout, \
        "every wave is as published: linkage and the survey staging are copied, not rebuilt"
    assert "survey_weights came out as published: copied what only it and unchanged sources feed" in result.stdout, \
        "each wave rakes to the snapshot nearest its field period, so the newest snapshot leaves the weights as they " \
        "were: the survey marts are copied too"
    assert WEIGHTS_COPIED in newest_log(data_dir), "the weights' inputs are as published: copied, not computed"
    release_after, inputs_after = newest_release(data_dir)
    assert release_after != release_before
    assert set(inputs_after["partitions"]) - set(inputs_before["partitions"]) == {f"udi/{newest.name}"}

    assert_published_what_a_full_rebuild_would(data_dir, full)


def assert_published_what_a_full_rebuild_would(data_dir: Path, full: Path) -> None:
    """`full` (a copy of the raw data before the incremental refresh of `data_dir`) rebuilt with
    PANEL_REFRESH_FULL=1 publishes the same content, comments and constraints."""
    rebuilt = refresh_subprocess(full, PANEL_REFRESH_FULL="1")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    assert "reused" not in rebuilt.stdout
    incremental_content = content_fingerprints(data_dir / "warehouse.duckdb")
    full_content = content_fingerprints(full / "warehouse.duckdb")
    assert {name for name in full_content if incremental_content.get(name) != full_content[name]} == set()
    assert incremental_content.keys() == full_content.keys()
    assert_same_catalogue(data_dir / "warehouse.duckdb", full / "warehouse.duckdb")


def assert_same_catalogue(incremental_file: Path, full_file: Path) -> None:
    """Copied relations keep their kind, comments, column types and constraints."""
    incremental_catalogue, full_catalogue = catalogue(incremental_file), catalogue(full_file)
    assert {name for name in full_catalogue.keys() | incremental_catalogue.keys()
            if incremental_catalogue.get(name) != full_catalogue.get(name)} == set()


@pytest.mark.end_to_end
def test_a_changed_wave_copies_the_udi_side_and_publishes_what_a_full_rebuild_would(first_publication, tmp_path):
    data_dir = copy_data_dir(first_publication[0], tmp_path / "changed")
    _, inputs_before = newest_release(data_dir)
    wave = sorted((data_dir / "raw" / "survey").iterdir())[0]
    responses = wave / "responses.csv"
    assert responses.exists(), "the generator writes the first wave as CSV"
    lines = responses.read_bytes().splitlines(keepends=True)
    responses.write_bytes(b"".join(lines[:-1]))  # the provider re-delivers the wave without its last respondent
    full = copy_data_dir(data_dir, tmp_path / "full")

    result = incremental(data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"reused {len(inputs_before['partitions']) - 1} unchanged partition(s)" in result.stdout
    assert "copied what only unchanged sources feed from the published warehouse" in result.stdout
    assert "survey_weights came out as published" not in result.stdout, "a changed wave changes who is weighted: no run of the weights on their own, nothing copied past them"

    assert_published_what_a_full_rebuild_would(data_dir, full)


@pytest.mark.end_to_end
def test_a_corrected_snapshot_that_a_wave_rakes_to_rebuilds_the_weighted_marts_as_a_full_rebuild_would(
        first_publication, tmp_path):
    """Every wave as published, but the weights come out changed: nothing past them may be copied."""
    data_dir = copy_data_dir(first_publication[0], tmp_path / "corrected")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        raked_to = con.execute("SELECT min(snapshot_date)::VARCHAR FROM weights.raking_margins").fetchone()[0]
    permits = data_dir / "raw" / "udi" / raked_to / f"gyldige_{raked_to}.csv"
    # UDI re-delivers the snapshot with one adult count corrected (the weights rake adults): the targets move
    lines = permits.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines[1:], start=1)
               if line.split(";")[2].startswith("18") and permit_count(line).isdigit())
    cells = lines[row].rstrip("\r\n").split(";")[:-1]
    ending = lines[row][len(lines[row].rstrip("\r\n")):]
    lines[row] = ";".join([*cells, str(int(permit_count(lines[row])) + 7)]) + ending
    permits.write_text("".join(lines), encoding="utf-8")
    full = copy_data_dir(data_dir, tmp_path / "full")

    result = incremental(data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "copied what only unchanged sources feed from the published warehouse" in result.stdout
    assert "survey_weights changed: building everything it feeds" in result.stdout
    assert "survey_weights came out as published" not in result.stdout
    assert WEIGHTS_COPIED not in newest_log(data_dir)

    assert_published_what_a_full_rebuild_would(data_dir, full)


def permit_count(line: str) -> str:
    """The count of a line of a valid-permits file, without UDI's thousands separators."""
    return line.rstrip("\r\n").split(";")[-1].replace(" ", "").replace("\u00a0", "")
