"""The catalogue (dbt's docs site) is generated again only when what it shows changed: the dbt project, the
published tables' columns, dbt's version or the environment the SQL reads. dbt itself is replaced by a
recorder here; the real generation runs in every end-to-end refresh and the browser test."""
from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from panel_report import catalogue


class Generations(list):
    """Each generation's database; `starters` holds how each was to start dbt."""


@pytest.fixture
def generations(monkeypatch) -> list[Path]:
    """Every call of dbt's generation, which writes a page and a manifest as dbt would."""
    calls = Generations()
    starters: list = []  # how each generation was to start dbt

    def fake_generate(database: Path, scratch_dir: Path, out_dir: Path, start_dbt) -> catalogue.CatalogueResult:
        calls.append(database)
        starters.append(start_dbt)
        manifest = {"nodes": {
            "model.p.attrition": {"resource_type": "model", "schema": "marts", "name": "attrition",
                                  "description": "", "columns": {"n": {"description": "count"}}},
            "test.p.t": {"resource_type": "test"},
        }}
        (scratch_dir / "target").mkdir(parents=True, exist_ok=True)
        (scratch_dir / "target" / "manifest.json").write_text(json.dumps(manifest))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "index.html").write_text(f"site {len(calls)}")
        return catalogue._result(out_dir / "index.html", manifest)

    monkeypatch.setattr(catalogue, "_generate", fake_generate)
    calls.starters = starters
    return calls


def published(path: Path, extra_column: bool = False, rows: int = 3) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.attrition as select range as n from range(?)", [rows])
    if extra_column:
        con.execute("alter table marts.attrition add column share double")
    con.execute("comment on table marts.attrition is 'Attrition.'")
    con.close()
    return path


def test_the_site_is_kept_when_only_the_data_changed_and_generated_again_when_its_columns_change(
        tmp_path, generations):
    out = tmp_path / "catalogue"
    first = catalogue.render_catalogue(published(tmp_path / "warehouse.duckdb"), out)
    assert len(generations) == 1
    assert (first.models, first.undocumented) == (1, ["marts.attrition"])

    # new rows, same columns: the page and what it reports are the last generation's, dated now
    os.utime(out / "index.html", (1_000, 1_000))
    kept = catalogue.render_catalogue(published(tmp_path / "warehouse.duckdb", rows=50), out)
    assert len(generations) == 1
    assert (out / "index.html").stat().st_mtime >= (tmp_path / "warehouse.duckdb").stat().st_mtime
    assert (kept.path, kept.models, kept.undocumented) == (first.path, 1, ["marts.attrition"])
    assert (out / "index.html").read_text() == "site 1"

    # a new column is shown by the site: generated again
    catalogue.render_catalogue(published(tmp_path / "warehouse.duckdb", extra_column=True), out)
    assert len(generations) == 2
    assert (out / "index.html").read_text() == "site 2"
    # the private copy of the warehouse is never left beside the catalogue
    assert not (catalogue.work_dir(out) / "warehouse.duckdb").exists()


def test_the_site_is_generated_again_when_the_environment_or_a_lost_page_says_so(tmp_path, generations,
                                                                                   monkeypatch):
    out = tmp_path / "catalogue"
    database = published(tmp_path / "warehouse.duckdb")
    catalogue.render_catalogue(database, out)
    monkeypatch.setenv("PANEL_MIN_CELL", "97")  # compiled release SQL shown in the site changes
    catalogue.render_catalogue(database, out)
    assert len(generations) == 2
    (out / "index.html").unlink()
    catalogue.render_catalogue(database, out)
    assert len(generations) == 3


def test_a_failed_generation_leaves_no_claim_that_the_site_is_current(tmp_path, generations, monkeypatch):
    out = tmp_path / "catalogue"
    database = published(tmp_path / "warehouse.duckdb")
    catalogue.render_catalogue(database, out)
    published(database, extra_column=True)

    def failing(database: Path, scratch_dir: Path, out_dir: Path, start_dbt):
        raise catalogue.CatalogueError("dbt failed")

    with monkeypatch.context() as patch:
        patch.setattr(catalogue, "_generate", failing)
        with pytest.raises(catalogue.CatalogueError):
            catalogue.render_catalogue(database, out)
    # the columns did not change since the failure, yet the old page is not taken for current
    catalogue.render_catalogue(database, out)
    assert len(generations) == 2


def test_the_inputs_fingerprint_covers_every_dbt_project_file(tmp_path):
    database = published(tmp_path / "warehouse.duckdb")
    files = [path.relative_to(catalogue.DBT_PROJECT_DIR).parts[0] for path in catalogue.dbt_project_files()]
    assert {"models", "seeds", "macros", "tests", "dbt_project.yml", "profiles.yml"} <= set(files)
    assert catalogue.site_inputs(database) == catalogue.site_inputs(database)
    assert catalogue.site_inputs(database) != catalogue.site_inputs(published(database, extra_column=True))


def test_a_kept_site_copies_nothing_and_leaves_the_published_file_as_it_was(tmp_path, generations, monkeypatch):
    out, warehouse = tmp_path / "catalogue", published(tmp_path / "warehouse.duckdb")
    catalogue.render_catalogue(warehouse, out)
    before = (warehouse.stat().st_mtime_ns, warehouse.read_bytes())

    def no_copy(*args, **kwargs):
        raise AssertionError("the published file was copied although the site is kept")

    monkeypatch.setattr(catalogue.shutil, "copyfile", no_copy)
    catalogue.render_catalogue(warehouse, out)
    assert len(generations) == 1
    assert (warehouse.stat().st_mtime_ns, warehouse.read_bytes()) == before
    assert generations[0] != warehouse, "dbt is pointed at a private copy, never at the published file"


def test_dbt_is_started_the_way_the_caller_asks(tmp_path, generations):
    # a refresh passes the `popen` of a dbt process it made ready in advance (orchestration.warm_dbt)
    def start_dbt(*args, **kwargs):
        raise AssertionError("only handed over here: the recorder stands in for dbt")

    catalogue.render_catalogue(published(tmp_path / "warehouse.duckdb"), tmp_path / "catalogue", start_dbt)
    assert generations.starters == [start_dbt]
