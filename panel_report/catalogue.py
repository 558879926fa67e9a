"""`catalogue/index.html`: dbt's documentation site as one static file (`dbt docs generate --static`) for the
published warehouse: every model, seed and source with its columns and descriptions, and the lineage graph.

dbt introspects the database for column types, so it runs against a private copy of the published file: the
published warehouse is never opened for writing. Deciding whether the site must change opens it read-only
for a moment (a reader's shared lock), so a refresh that keeps the site copies nothing (at benchmark scale
100 the copy took half a minute).

The site shows code and schema, not data: when neither the dbt project, the dbt version, this module,
`PANEL_MIN_CELL` nor the published tables' columns changed since the last site was generated, the site is kept (a refresh that
only brings new data saves dbt's start-up, parse and compile of every node).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb

from panel_ingest.paths import DBT_PROJECT_DIR, dbt_executable, dbt_project_files

# The environment variables the dbt project reads that change compiled SQL shown in the site.
SITE_ENVIRONMENT = ("PANEL_MIN_CELL",)
# Beside dbt's target folder: the fingerprint of the inputs the current site was generated from.
FINGERPRINT_FILE = "site_inputs.sha256"

# dbt's saved parse in its target folder, which it reuses while the project files and the profile are unchanged.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"

# Tables analysts use: every one of their columns must carry a description in the catalogue.
DOCUMENTED_SCHEMAS = ("marts", "release")


class CatalogueError(RuntimeError):
    """dbt could not generate the documentation site."""


@dataclass
class CatalogueResult:
    path: Path
    models: int
    undocumented: list[str]  # "schema.table.column" of marts/release columns without a description


def work_dir(out_dir: Path) -> Path:
    """dbt's folder for the catalogue, beside the stages' (`<data root>/dbt_target/catalogue`). It persists, and
    the copy of the published file inside it always has the same path, so dbt's profile does not change between
    refreshes and dbt parses the project partially (about half the time of a full parse)."""
    return out_dir.parent / "dbt_target" / "catalogue"


@contextmanager
def exclusive(out_dir: Path) -> Iterator[None]:
    """One catalogue (or parse ahead of one) at a time per data root (a refresh and the daemon may both render one)."""
    folder = work_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def render_catalogue(published: Path, out_dir: Path, start_dbt: Callable[..., subprocess.Popen] = subprocess.Popen
                     ) -> CatalogueResult:
    """Generate the static docs site from a copy of `published` and write it to `out_dir/index.html`, unless
    the site there was generated from the same inputs (`site_inputs`). `start_dbt` starts the dbt command
    as `subprocess.Popen` would (a refresh passes a dbt process it made ready in advance)."""
    scratch_dir = work_dir(out_dir)
    with exclusive(out_dir):
        fingerprint = site_inputs(published)
        kept = _kept_site(scratch_dir, out_dir, fingerprint)
        if kept is not None:
            return kept
        (scratch_dir / FINGERPRINT_FILE).unlink(missing_ok=True)  # a failed generation leaves no stale claim
        database = scratch_dir / "warehouse.duckdb"
        shutil.copyfile(published, database)
        try:
            result = _generate(database, scratch_dir, out_dir, start_dbt)
            (scratch_dir / FINGERPRINT_FILE).write_text(fingerprint, encoding="utf-8")
            return result
        finally:
            database.unlink(missing_ok=True)  # a copy of the warehouse is not kept beside the catalogue


def site_inputs(database: Path) -> str:
    """sha256 of everything the site is made from: dbt's and dbt-duckdb's versions, this module, every file of
    the dbt project, the environment it reads, and the name, type and comment of every column in `database`."""
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{package}=={metadata.version(package)}\n".encode())
    digest.update(Path(__file__).read_bytes())
    for path in dbt_project_files():
        digest.update(f"\n{path.relative_to(DBT_PROJECT_DIR)}\n".encode())
        digest.update(path.read_bytes())
    for name in SITE_ENVIRONMENT:
        digest.update(f"\n{name}={os.environ.get(name, '')}".encode())
    con = duckdb.connect(str(database), read_only=True)
    try:
        columns = con.execute("""
            select schema_name, table_name, column_index, column_name, data_type, comment
            from duckdb_columns() where database_name = current_database() order by all""").fetchall()
        tables = con.execute("""
            select schema_name, table_name, comment from duckdb_tables() where database_name = current_database()
            union all
            select schema_name, view_name, comment from duckdb_views()
            where database_name = current_database() and not internal order by all""").fetchall()
    finally:
        con.close()
    digest.update(repr((columns, tables)).encode())
    return digest.hexdigest()


def _kept_site(scratch_dir: Path, out_dir: Path, fingerprint: str) -> CatalogueResult | None:
    """The existing site, when it was generated from inputs with this fingerprint and both it and dbt's
    manifest are still there."""
    recorded = scratch_dir / FINGERPRINT_FILE
    page, manifest_path = out_dir / "index.html", scratch_dir / "target" / "manifest.json"
    if not (recorded.exists() and page.exists() and manifest_path.exists()):
        return None
    if recorded.read_text(encoding="utf-8").strip() != fingerprint:
        return None
    os.utime(page)  # current for this publication: a refresh compares the page's time with the published file's
    return _result(page, json.loads(manifest_path.read_text(encoding="utf-8")))


def _result(page: Path, manifest: dict) -> CatalogueResult:
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    return CatalogueResult(page, len(models), undocumented_columns(manifest))


def _dbt_command(verb: list[str], database: Path, scratch_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Command line and environment of a dbt command on the catalogue's copy of the published file."""
    env = {**os.environ, "PANEL_BUILD_DB": str(database), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DO_NOT_TRACK": "1"}
    command = [dbt_executable(), *verb, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(scratch_dir / "target"), "--log-path", str(scratch_dir)]
    return command, env


def parse_ahead_command(out_dir: Path) -> tuple[list[str], dict[str, str], Path] | None:
    """`dbt parse` as the catalogue's generation would parse (same profile, copy path and environment), to run
    ahead of it while nothing else needs the machine, when no parse is saved yet (the first catalogue of a data
    root parses the whole project, about 3 s). Returns (command, environment, folder), or None. Run it under
    `exclusive(out_dir)`; `dbt parse` opens no database."""
    scratch_dir = work_dir(out_dir)
    if (scratch_dir / "target" / PARTIAL_PARSE_FILE).exists():
        return None
    command, env = _dbt_command(["parse"], scratch_dir / "warehouse.duckdb", scratch_dir)
    return command, env, DBT_PROJECT_DIR


def _generate(database: Path, scratch_dir: Path, out_dir: Path,
              start_dbt: Callable[..., subprocess.Popen] = subprocess.Popen) -> CatalogueResult:
    """`dbt docs generate --static` against `database`, its page made offline-safe into `out_dir/index.html`."""
    target = scratch_dir / "target"
    # Tests are not compiled: the site shows their names beside the columns, never their SQL, and compiling the
    # ~200 of them was a third of the generation (the catalogue of models, seeds and sources is the same).
    command, env = _dbt_command(["docs", "generate", "--static", "--exclude", "resource_type:test resource_type:unit_test"],
                                database, scratch_dir)
    process = start_dbt(command, env=env, cwd=DBT_PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with process:
        output = process.communicate()[0].decode("utf-8", errors="replace")
    static = target / "static_index.html"
    if process.returncode != 0 or not static.exists():
        raise CatalogueError(f"`dbt docs generate --static` failed (exit {process.returncode}):\n" + output[-3000:])
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    destination = out_dir / "index.html"
    temporary = destination.with_suffix(".html.tmp")
    temporary.write_text(offline_fixes(static.read_text(encoding="utf-8")), encoding="utf-8")
    os.replace(temporary, destination)
    return _result(destination, manifest)


# dbt's page loads two things that fail from a file: a favicon whose path is a webpack placeholder, and SVG
# icons whose href is an Angular expression the browser fetches before Angular fills it in.
OFFLINE_FIXES = (
    ("<link rel=\"shortcut icon\" href=\"${require('./assets/favicons/favicon.ico')}\"/>", '<link rel="icon" href="data:,"/>'),
    ('<use xlink:href="{{ getIcon(', '<use ng-attr-xlink:href="{{ getIcon('),
)


def offline_fixes(page: str) -> str:
    """dbt's static page with the requests that cannot work offline removed."""
    for broken, fixed in OFFLINE_FIXES:
        page = page.replace(broken, fixed)
    return page


def undocumented_columns(manifest: dict) -> list[str]:
    """Every published analysis table or column (marts, release) whose description is empty."""
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("schema") not in DOCUMENTED_SCHEMAS:
            continue
        relation = f"{node['schema']}.{node.get('alias') or node['name']}"
        if not (node.get("description") or "").strip():
            missing.append(relation)
        missing += [f"{relation}.{name}" for name, column in node.get("columns", {}).items()
                    if not (column.get("description") or "").strip()]
    return missing
