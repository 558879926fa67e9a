"""Write-audit-publish: put a fully checked build file in place of the published warehouse, atomically.

Readers holding the published file open keep the inode they opened (POSIX rename semantics), so a
refresh never disturbs them and they never block it. At every moment `warehouse.duckdb` exists and is
a complete, checked file; the file it replaces is kept as `warehouse.previous.duckdb`.

    python -m orchestration.publish --restore   # put the last good warehouse back
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

from panel_ingest import paths

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
                  previous: Path | None = None) -> PublishResult:
    """Checkpoint `build`, copy and audit it beside `published`, keep the old file, then rename into place."""
    build = build or paths.build_db_path()
    published = published or paths.published_db_path()
    previous = previous or paths.previous_db_path()
    if not build.exists():
        raise PublishError(f"no build file at {build}: run a refresh first")
    published.parent.mkdir(parents=True, exist_ok=True)
    checkpoint(build)
    staged = _copy_synced(build, published.parent, ".warehouse.publishing-")
    try:
        tables = audit_copy(staged)
        kept = None
        if published.exists():
            _keep_as_previous(published, previous)
            kept = previous
        os.replace(staged, published)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _sync_dir(published.parent)
    return PublishResult(published=published, previous=kept, tables=tables, size_bytes=published.stat().st_size)


def restore_previous(published: Path | None = None, previous: Path | None = None) -> Path:
    """Put the last good warehouse back in place (atomically); the previous file stays as it is."""
    published = published or paths.published_db_path()
    previous = previous or paths.previous_db_path()
    if not previous.exists():
        raise PublishError(f"nothing to restore: {previous} does not exist")
    staged = _copy_synced(previous, published.parent, ".warehouse.restoring-")
    try:
        os.replace(staged, published)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _sync_dir(published.parent)
    return published


def main(argv: list[str] | None = None) -> int:
    """CLI: `--restore` puts warehouse.previous.duckdb back.

    Publishing has no CLI on purpose: only a refresh whose blocking checks all passed publishes.
    """
    parser = argparse.ArgumentParser(prog="python -m orchestration.publish", description=__doc__.split("\n")[0])
    parser.add_argument("--restore", action="store_true", required=True, help="put the last good warehouse back")
    parser.parse_args(argv)
    try:
        print(f"restored {restore_previous()} from {paths.previous_db_path()}")
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
