"""Write-audit-publish: put a fully checked build file in place of the published warehouse, atomically.

Readers holding the published file open keep the inode they opened (POSIX rename semantics), so a
refresh never disturbs them and they never block it. At every moment `warehouse.duckdb` exists and is
a complete, checked file; the file it replaces is kept as `warehouse.previous.duckdb`.

The published file is in DuckDB storage version `PUBLISHED_STORAGE_VERSION`, which every DuckDB 1.x client
(R, JDBC/DBeaver, BI tools) reads, whatever version built it. A refresh creates its build file in that
version (`create_build_file`: DuckDB keeps a file's version whoever writes to it later), so publishing
copies the file's bytes; a build file in another version (made by another path) is converted. Every
publication is also a release (orchestration.releases): its manifest goes into `audit.releases`, and a copy
of the file, the manifest and the exports (orchestration.exports) go into `releases/<release_id>/`.

    python -m orchestration.publish --restore                 # put the last good warehouse back
    python -m orchestration.publish --restore --release <id>  # put a kept release back
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration import exports, releases
from orchestration.build_inputs import take_sidecar
from panel_ingest import paths

# DuckDB 1.0 introduced the stable storage format (version 64) that every later 1.x release reads; DuckDB
# 2.0 writes its own newer format unless told otherwise, which 1.x clients refuse.
PUBLISHED_STORAGE_VERSION = "v1.0.0"
STAGING_PREFIXES = (".warehouse.publishing-", ".warehouse.previous-", ".warehouse.restoring-")

# What duckdb_databases() tags a file with that DuckDB PUBLISHED_STORAGE_VERSION and every later client read.
PUBLISHED_STORAGE_TAG = PUBLISHED_STORAGE_VERSION + "+"

# Schemas a publishable file must contain (docs/contracts/warehouse.md).
REQUIRED_SCHEMAS = ("marts", "release", "audit")


class PublishError(RuntimeError):
    """The build file is not fit to publish, or there is nothing to restore."""


@dataclass(frozen=True)
class PublishResult:
    published: Path
    previous: Path | None
    tables: int
    size_bytes: int
    release_id: str | None = None
    release_dir: Path | None = None
    pruned: tuple[str, ...] = ()


def checkpoint(db_path: Path) -> None:
    """Fold the write-ahead log into the file so a byte copy of it is complete."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise PublishError(f"{wal} still holds un-checkpointed changes; is another process writing the build file?")


def audit_copy(db_path: Path) -> int:
    """Open the copy read-only and confirm it holds the contract schemas; returns its table count."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        schemas = {row[0] for row in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
        missing = [s for s in REQUIRED_SCHEMAS if s not in schemas]
        if missing:
            raise PublishError(f"refusing to publish {db_path}: schemas {missing} have no tables")
        return con.execute("select count(*) from duckdb_tables()").fetchone()[0]
    finally:
        con.close()


def create_build_file(db_path: Path) -> None:
    """Create an empty database file at `db_path` in PUBLISHED_STORAGE_VERSION. Converting a finished build
    into that version cost a second per 30 MB (13 s at scale 100); copying its bytes, 1 s."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(db_path), config={"storage_compatibility_version": PUBLISHED_STORAGE_VERSION}).close()


def storage_version(db_path: Path) -> str:
    """The storage version DuckDB reports for a file (e.g. `v1.0.0+`)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_quoted(db_path)}' as probe (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'probe'").fetchone()[0]
        return (tags or {}).get("storage_version", "unknown")
    finally:
        con.close()


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")  # ATTACH takes no parameters; a data root may hold a quote


def _convert_synced(source: Path, folder: Path, prefix: str) -> Path:
    """Copy every schema, table, view and comment of `source` into a new file in `folder` written in
    `PUBLISHED_STORAGE_VERSION` (same file system as the published file, so its rename is atomic)."""
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".duckdb", dir=folder)
    os.close(handle)
    target = Path(name)
    target.unlink()  # DuckDB creates the file itself
    try:
        con = duckdb.connect()
        try:
            # views name their tables with the file's own catalog ("warehouse"."marts"...): attach the
            # source under that name so they bind, and the published file (also warehouse.duckdb) resolves them
            catalog = source.stem
            con.execute(f"attach '{_quoted(source)}' as \"{catalog}\" (read_only)")
            con.execute(f"attach '{_quoted(target)}' as build_copy_target (storage_version '{PUBLISHED_STORAGE_VERSION}')")
            con.execute(f'copy from database "{catalog}" to build_copy_target')
            con.execute("detach build_copy_target")
        finally:
            con.close()
        with open(target, "rb+") as copy:
            os.fsync(copy.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        raise
    return target


def _stage_in_published_version(build: Path, folder: Path, prefix: str) -> Path:
    """A synced copy of the checkpointed `build` in `folder`, in PUBLISHED_STORAGE_VERSION: its bytes when it
    is in that version already (create_build_file), else converted."""
    if storage_version(build) == PUBLISHED_STORAGE_TAG:
        return _copy_synced(build, folder, prefix)
    return _convert_synced(build, folder, prefix)


def _copy_synced(source: Path, folder: Path, prefix: str) -> Path:
    """Copy `source` to a new temporary file in `folder` (same file system, so rename is atomic) and fsync it."""
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".duckdb", dir=folder)
    try:
        with open(source, "rb") as src, os.fdopen(handle, "wb") as dst:
            shutil.copyfileobj(src, dst, length=16 * 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_as_previous(published: Path, previous: Path) -> None:
    """Make `previous` a second name for the current published file, without touching `published`."""
    handle, name = tempfile.mkstemp(prefix=".warehouse.previous-", suffix=".duckdb", dir=published.parent)
    os.close(handle)
    staged = Path(name)
    staged.unlink()
    try:
        os.link(published, staged)  # same inode: instant, and the published name never disappears
    except OSError:
        staged = _copy_synced(published, published.parent, ".warehouse.previous-")
    os.replace(staged, previous)


def publish_build(build: Path | None = None, published: Path | None = None,
                  previous: Path | None = None, checks: list[dict] | None = None) -> PublishResult:
    """Checkpoint `build`, copy it (in the 1.x storage format) beside `published` and audit the copy, record
    the release in it, keep it with its exports under `releases/`, keep the old file, then rename into place.

    `checks` are the asset check results of the publishing run, recorded in the manifest.
    """
    build = build or paths.build_db_path()
    published = published or paths.published_db_path()
    previous = previous or paths.previous_db_path()
    if not build.exists():
        raise PublishError(f"no build file at {build}: run a refresh first")
    published.parent.mkdir(parents=True, exist_ok=True)
    checkpoint(build)
    staged = _stage_in_published_version(build, published.parent, STAGING_PREFIXES[0])
    building = None
    try:
        tables = audit_copy(staged)
        manifest = releases.write_manifest(staged, published, checks, build_inputs=take_sidecar(build))
        building = releases.stage_release(staged, manifest)
        exports.export_release(staged, building / "exports")
        kept = None
        if published.exists():
            _keep_as_previous(published, previous)
            kept = previous
        os.replace(staged, published)
    except BaseException:
        staged.unlink(missing_ok=True)
        if building is not None:
            shutil.rmtree(building, ignore_errors=True)
        raise
    _sync_dir(published.parent)
    release_dir = releases.finish_release(building, manifest)
    exports.install_latest(release_dir / "exports")
    pruned = tuple(releases.prune_releases())
    return PublishResult(published=published, previous=kept, tables=tables, size_bytes=published.stat().st_size,
                         release_id=manifest["release_id"], release_dir=release_dir, pruned=pruned)


def _put_in_place(source: Path, published: Path) -> None:
    staged = _copy_synced(source, published.parent, STAGING_PREFIXES[2])
    try:
        staged.chmod(0o644)  # a release's own copy is read-only; the published file is a normal file
        os.replace(staged, published)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _sync_dir(published.parent)


def restore_previous(published: Path | None = None, previous: Path | None = None) -> Path:
    """Put the last good warehouse back in place (atomically); the previous file stays as it is."""
    published = published or paths.published_db_path()
    previous = previous or paths.previous_db_path()
    if not previous.exists():
        raise PublishError(f"nothing to restore: {previous} does not exist")
    release_id = releases.published_release_id(previous)
    _put_in_place(previous, published)
    kept = {release.release_id: release for release in releases.kept_releases()}
    if release_id in kept and (kept[release_id].folder / "exports").is_dir():
        exports.install_latest(kept[release_id].folder / "exports")  # the exports follow the file
    return published


def restore_release(release_id: str, published: Path | None = None, previous: Path | None = None) -> Path:
    """Put a kept release back in place (atomically), with its exports; the file it replaces becomes previous."""
    published = published or paths.published_db_path()
    previous = previous or paths.previous_db_path()
    try:
        release = releases.find_release(release_id)
    except releases.ReleaseError as error:
        raise PublishError(str(error)) from None
    if published.exists():
        _keep_as_previous(published, previous)
    _put_in_place(release.warehouse, published)
    if (release.folder / "exports").is_dir():
        exports.install_latest(release.folder / "exports")
    return published


def remove_stale_staging(folder: Path | None = None) -> list[Path]:
    """Delete temporary files a killed publication or restore left beside the published file."""
    folder = folder or paths.data_dir()
    stale = [p for p in folder.glob(".warehouse.*") if p.name.startswith(STAGING_PREFIXES)] if folder.is_dir() else []
    stale += [p for p in (releases.releases_dir().glob(".building-*") if releases.releases_dir().is_dir() else [])]
    stale += [p for name in (".exports.new", ".exports.old") if (p := folder / name).exists()]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def main(argv: list[str] | None = None) -> int:
    """CLI: `--restore` puts warehouse.previous.duckdb back; `--restore --release <id>` a kept release.

    Publishing has no CLI on purpose: only a refresh whose blocking checks all passed publishes.
    """
    parser = argparse.ArgumentParser(prog="python -m orchestration.publish", description=__doc__.split("\n")[0])
    parser.add_argument("--restore", action="store_true", required=True, help="put the last good warehouse back")
    parser.add_argument("--release", default="", help="a release id (make releases lists them); default: previous")
    args = parser.parse_args(argv)
    try:
        if args.release.strip():
            print(f"restored {restore_release(args.release.strip())} from release {args.release.strip()}")
        else:
            print(f"restored {restore_previous()} from {paths.previous_db_path()}")
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
