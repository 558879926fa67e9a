"""Reproducible releases: which data and code produced a published warehouse, and every recent one kept.

Each publication gets a release id and a manifest (code version, tool versions, every raw file's sha256,
row counts, check results). The manifest goes into the published file itself, as the newest row of
`audit.releases` (which carries every earlier publication's row too), and beside it as
`releases/<release_id>/manifest.json`, next to a copy of the file and its exports. The last
`PANEL_KEEP_RELEASES` (default 5) release folders are kept; any of them can be put back.

    python -m orchestration.releases            # list the kept releases (make releases)
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from orchestration.build_inputs import file_sha256
from orchestration.holdback import held_back_partitions
from panel_ingest import paths

KEEP_ENV = "PANEL_KEEP_RELEASES"
DEFAULT_KEEP = 5
MANIFEST_NAME = "manifest.json"
WAREHOUSE_NAME = "warehouse.duckdb"
TRUTH_FOLDER = "_truth"  # the generator's answer key: hashed like any file, but marked
COUNTED_SCHEMAS = ("marts", "release", "audit")
TOOLS = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "pandera", "splink", "great-expectations",
         "pandas", "pyarrow", "pyreadstat")

RELEASES_DDL = """
create table if not exists audit.releases (
    release_id varchar not null,
    published_at timestamp not null,
    code_version varchar not null,
    tool_versions varchar not null,
    input_files varchar not null,
    row_counts varchar not null,
    checks varchar not null,
    n_input_files integer not null,
    n_checks_failed integer not null,
    held_back varchar not null,
    build_inputs varchar not null
)"""
RELEASE_COLUMNS = ("release_id", "published_at", "code_version", "tool_versions", "input_files", "row_counts",
                   "checks", "n_input_files", "n_checks_failed", "held_back", "build_inputs")
COLUMN_COMMENTS = {
    "release_id": "Id of the publication (UTC time it was published, YYYYMMDDTHHMMSSZ); its folder under releases/.",
    "published_at": "When the file was published (UTC).",
    "code_version": "Git commit of the code that built it, with -dirty when the working tree had changes.",
    "tool_versions": "JSON: Python and the versions of the libraries that built it.",
    "input_files": "JSON: every raw file read (path relative to raw/, sha256, bytes; truth=true for _truth/).",
    "row_counts": "JSON: rows per marts, release and audit table (schema.table).",
    "checks": "JSON: the asset checks of the publishing run (asset:check, passed, severity).",
    "n_input_files": "Number of raw files in input_files.",
    "n_checks_failed": "Checks of the publishing run that did not pass (WARN severity; an ERROR blocks publication).",
    "held_back": "JSON: broken partitions held back at their last good version or left out (kind, key, reason, kept); [] when none.",
    "build_inputs": "JSON: sha256 of the code, settings, shared files and each partition the refresh started from "
                    "(orchestration.build_inputs), so the next refresh skips what has not changed; {} when unknown.",
}


class ReleaseError(RuntimeError):
    """A release that does not exist, or a release folder that is incomplete."""


@dataclass(frozen=True)
class Release:
    release_id: str
    folder: Path
    manifest: dict

    @property
    def warehouse(self) -> Path:
        return self.folder / WAREHOUSE_NAME


def keep_count() -> int:
    """How many release folders to keep (`PANEL_KEEP_RELEASES`, at least 1)."""
    value = os.environ.get(KEEP_ENV, "").strip()
    if not value:
        return DEFAULT_KEEP
    if not value.isdigit() or int(value) < 1:
        raise ReleaseError(f"{KEEP_ENV} must be a whole number of at least 1")
    return int(value)


def code_version(root: Path = paths.PROJECT_ROOT) -> str:
    """The git commit of the code, `-dirty` if tracked or new files differ from it; a plain word without git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout, or git is not installed)"
    return f"{commit}-dirty" if dirty else commit


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def input_files(raw: Path) -> list[dict]:
    """Every file under raw/ with its sha256 (path relative to raw/, sorted), `_truth/` files marked."""
    files = []
    for path in sorted(p for p in Path(raw).rglob("*") if p.is_file()):
        relative = path.relative_to(raw).as_posix()
        entry = {"path": relative, "sha256": file_sha256(path), "bytes": path.stat().st_size}
        if relative.split("/", 1)[0] == TRUTH_FOLDER:
            entry["truth"] = True
        files.append(entry)
    return files


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
        f"and schema_name in {COUNTED_SCHEMAS} and not (schema_name = 'audit' and table_name = 'releases') "
        "order by 1, 2").fetchall()
    return {f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables}


def new_release_id(taken: set[str], now: datetime) -> str:
    """UTC publication time to the second; a suffix only if two publications share a second."""
    base = now.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def releases_dir() -> Path:
    return paths.data_dir() / "releases"


def kept_releases(folder: Path | None = None) -> list[Release]:
    """Complete release folders (with file and manifest), oldest first."""
    folder = folder or releases_dir()
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        manifest = entry / MANIFEST_NAME
        if entry.is_dir() and not entry.name.startswith(".") and manifest.is_file() and (entry / WAREHOUSE_NAME).is_file():
            found.append(Release(entry.name, entry, json.loads(manifest.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda r: (r.manifest.get("published_at", ""), r.release_id))


def _history(published: Path, folder: Path) -> list[dict]:
    """Manifest rows of earlier publications: those in the published file plus any kept folder's manifest."""
    rows: dict[str, dict] = {}
    if published.exists():
        try:
            con = duckdb.connect(str(published), read_only=True)
        except duckdb.Error:
            con = None  # held open for writing by someone else: the kept manifests still give the history
        if con is not None:
            try:
                exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'audit' "
                                     "and table_name = 'releases'").fetchone()[0]
                if exists:
                    present = {name for (name,) in con.execute(
                        "select column_name from duckdb_columns() where schema_name = 'audit' "
                        "and table_name = 'releases'").fetchall()}
                    columns = [c for c in RELEASE_COLUMNS if c in present]  # older files lack held_back
                    frame = con.execute(f"select {', '.join(columns)} from audit.releases").fetchall()
                    for values in frame:
                        row = {"held_back": "[]", "build_inputs": "{}", **dict(zip(columns, values))}
                        row["published_at"] = row["published_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
                        rows[row["release_id"]] = row
            finally:
                con.close()
    for release in kept_releases(folder):
        rows.setdefault(release.release_id, manifest_row(release.manifest))
    return sorted(rows.values(), key=lambda r: (r["published_at"], r["release_id"]))


def manifest_row(manifest: dict) -> dict:
    """The manifest as one `audit.releases` row (JSON parts as text)."""
    return {
        "release_id": manifest["release_id"],
        "published_at": manifest["published_at"],
        "code_version": manifest["code_version"],
        "tool_versions": json.dumps(manifest["tool_versions"], sort_keys=True),
        "input_files": json.dumps(manifest["input_files"], sort_keys=True),
        "row_counts": json.dumps(manifest["row_counts"], sort_keys=True),
        "checks": json.dumps(manifest["checks"], sort_keys=True),
        "n_input_files": len(manifest["input_files"]),
        "n_checks_failed": sum(1 for check in manifest["checks"] if not check.get("passed", True)),
        "held_back": json.dumps(manifest.get("held_back", []), sort_keys=True),
        "build_inputs": json.dumps(manifest.get("build_inputs", {}), sort_keys=True),
    }


def write_manifest(staged: Path, published: Path, checks: list[dict] | None = None,
                   raw: Path | None = None, folder: Path | None = None, build_inputs: dict | None = None) -> dict:
    """Describe the staged file and record it (with every earlier publication) in its `audit.releases`;
    `build_inputs` is the fingerprint the refresh started from (orchestration.build_inputs), if known."""
    folder = folder or releases_dir()
    history = _history(published, folder)
    now = datetime.now(timezone.utc)
    taken = {row["release_id"] for row in history} | {r.release_id for r in kept_releases(folder)}
    con = duckdb.connect(str(staged))
    try:
        manifest = {
            "release_id": new_release_id(taken, now),
            "published_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "code_version": code_version(),
            "tool_versions": tool_versions(),
            "input_files": input_files(raw or paths.raw_dir()),
            "row_counts": row_counts(con),
            "checks": sorted(checks or [], key=lambda c: c.get("check", "")),
            "held_back": held_back_partitions(con),
            "build_inputs": build_inputs or {},
        }
        con.execute("create schema if not exists audit")
        con.execute("drop table if exists audit.releases")  # rebuilt from the full history, whatever the build held
        con.execute(RELEASES_DDL)
        con.execute("comment on table audit.releases is 'One row per publication of this warehouse, newest last: "
                    "the code, tools, raw files and checks that produced it (manifest.json in its release folder).'")
        for column, comment in COLUMN_COMMENTS.items():
            con.execute(f"comment on column audit.releases.{column} is '{comment}'")
        placeholders = ", ".join("?" for _ in RELEASE_COLUMNS)
        for row in [*history, manifest_row(manifest)]:
            con.execute(f"insert into audit.releases values ({placeholders})",
                        [row[c] if c != "published_at" else row[c].replace("T", " ").rstrip("Z")
                         for c in RELEASE_COLUMNS])
        con.execute("checkpoint")
    finally:
        con.close()
    return manifest


def stage_release(staged: Path, manifest: dict, folder: Path | None = None) -> Path:
    """Copy the staged file and its manifest into `releases/.building-<release_id>/`; `finish_release` names it
    once the file is published, so a publication killed half-way leaves no release that was never published."""
    folder = folder or releases_dir()
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / f".building-{manifest['release_id']}"
    if building.exists():
        _remove_tree(building)
    building.mkdir()
    try:
        shutil.copyfile(staged, building / WAREHOUSE_NAME)
        (building / WAREHOUSE_NAME).chmod(0o444)  # a release is a record: nothing writes into it
        (building / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    except BaseException:
        _remove_tree(building)
        raise
    return building


def finish_release(building: Path, manifest: dict) -> Path:
    target = building.with_name(manifest["release_id"])
    os.replace(building, target)
    return target


def prune_releases(keep: int | None = None, folder: Path | None = None) -> list[str]:
    """Delete all but the newest `keep` release folders; returns the ids deleted."""
    keep = keep or keep_count()
    releases = kept_releases(folder)
    dropped = releases[:-keep] if len(releases) > keep else []
    for release in dropped:
        _remove_tree(release.folder)
    return [release.release_id for release in dropped]


def _remove_tree(folder: Path) -> None:
    for path in folder.rglob("*"):  # files are read-only on purpose; the folder is ours to delete
        if path.is_file():
            path.chmod(0o644)
    shutil.rmtree(folder)


def find_release(release_id: str, folder: Path | None = None) -> Release:
    for release in kept_releases(folder):
        if release.release_id == release_id:
            return release
    known = ", ".join(r.release_id for r in kept_releases(folder)) or "none"
    raise ReleaseError(f"no release {release_id!r} under {folder or releases_dir()} (kept: {known})")


def describe(release: Release, published_id: str | None) -> str:
    manifest = release.manifest
    marts = sum(v for k, v in manifest.get("row_counts", {}).items() if k.startswith("marts."))
    mark = " (published)" if release.release_id == published_id else ""
    return (f"{release.release_id}{mark}  published {manifest.get('published_at')}  code {manifest.get('code_version', '?')[:19]}"
            f"  {len(manifest.get('input_files', []))} raw files  {marts} mart rows")


def published_build_inputs(published: Path | None = None) -> tuple[dict, set[str]]:
    """The build inputs recorded by the published file's release, and its held-back partitions as
    `<kind>/<key>`; ({}, set()) when there is no published file or it predates the record."""
    published = published or paths.published_db_path()
    if not published.exists():
        return {}, set()
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error:
        return {}, set()
    try:
        inputs, held = con.execute("select build_inputs, held_back from audit.releases "
                                   "order by published_at desc, release_id desc limit 1").fetchone()
        held_back = {f"{h['kind']}/{h['partition']}" for h in json.loads(held)}
        return json.loads(inputs), held_back
    except (duckdb.Error, TypeError, ValueError, KeyError):
        return {}, set()
    finally:
        con.close()


def published_release_id(published: Path | None = None) -> str | None:
    """The release id of the file now published (its newest `audit.releases` row), if it has one."""
    published = published or paths.published_db_path()
    if not published.exists():
        return None
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("select release_id from audit.releases order by published_at desc, release_id desc "
                           "limit 1").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    releases = kept_releases()
    if not releases:
        print(f"no release kept under {releases_dir()} yet: run make refresh", file=sys.stderr)
        return 1
    current = published_release_id()
    print(f"releases under {releases_dir()} (oldest first; make restore RELEASE=<id> puts one back):")
    for release in releases:
        print("  " + describe(release, current))
    return 0


if __name__ == "__main__":
    sys.exit(main())
