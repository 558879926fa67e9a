"""What a build is made of, as checksums, so a refresh can skip what has not changed.

A build is determined by four things: the project's code (Python packages, dbt project, lock file), the
settings that steer it (the pseudonymisation key, `PANEL_*` variables, a codebook override), the data
root's files outside the partitions (`raw/_truth/`, the clerical decisions), and each partition's raw files
(one wave folder, one UDI snapshot folder). `fingerprint()` reduces each to a sha256. The refresh records
the fingerprint it started from in the release it publishes (`audit.releases.build_inputs`, manifest
`build_inputs`) and compares the next one with it:

- everything equal and nothing held back: the published warehouse is current, nothing is rebuilt;
- code, settings and shared files equal: every partition whose files are unchanged (and that was not held
  back) is copied from the published warehouse instead of being ingested again;
- otherwise everything is rebuilt. `PANEL_REFRESH_FULL=1` (`make refresh FULL=1`) always rebuilds everything.

The key enters only as an HMAC of a fixed text, so neither the key nor anything keyed by it is stored.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from panel_ingest import paths

# The project files a build depends on, relative to the project root; caches and dbt's output are not code.
CODE_PATHS = ("panel_ingest", "linkage", "survey_weights", "orchestration", "validation", "panel_report",
              "dbt_project/models", "dbt_project/seeds", "dbt_project/macros", "dbt_project/tests",
              "dbt_project/dbt_project.yml", "dbt_project/profiles.yml", "pyproject.toml", "uv.lock")
IGNORED_PARTS = {"__pycache__", "target", "logs", ".pytest_cache"}
# Settings read by the pipeline that change what it builds (paths and release-keeping do not).
SETTING_VARIABLES = ("PANEL_MIN_CELL", "PANEL_MAX_QUARANTINE_SHARE")
CODEBOOK_OVERRIDE = "PANEL_CODEBOOK_DIR"
FULL_REFRESH = "PANEL_REFRESH_FULL"
# Raw sub-folders whose child folders are partitions: `survey/<wave id>`, `udi/<snapshot date>`.
PARTITION_KINDS = ("survey", "udi")
DECISIONS_FILE = "linkage_decisions.csv"


def full_refresh_requested() -> bool:
    """`PANEL_REFRESH_FULL` set to anything but empty, 0, false or no."""
    return os.environ.get(FULL_REFRESH, "").strip().lower() not in ("", "0", "false", "no")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_digest(files: list[tuple[str, Path]]) -> str:
    """One sha256 over (name, content digest) pairs, in name order: renaming, adding or editing a file changes it."""
    digest = hashlib.sha256()
    for name, path in sorted(files):
        digest.update(f"{name}\0{file_sha256(path)}\n".encode("utf-8"))
    return digest.hexdigest()


def _files_under(root: Path, relative: str) -> list[tuple[str, Path]]:
    base = root / relative
    if base.is_file():
        return [(relative, base)]
    if not base.is_dir():
        return []
    return [(path.relative_to(root).as_posix(), path) for path in base.rglob("*")
            if path.is_file() and not IGNORED_PARTS.intersection(path.relative_to(root).parts)
            and path.suffix != ".pyc"]


def code_digest(root: Path = paths.PROJECT_ROOT) -> str:
    files = [entry for relative in CODE_PATHS for entry in _files_under(root, relative)]
    return tree_digest(files)


def settings_digest(key: bytes) -> str:
    """The key (as an HMAC of a fixed text), the `PANEL_*` settings and a codebook override's files."""
    parts = {"key": hmac.new(key, b"panel build inputs", hashlib.sha256).hexdigest()}
    parts |= {name: os.environ.get(name, "").strip() for name in SETTING_VARIABLES}
    override = os.environ.get(CODEBOOK_OVERRIDE, "").strip()
    parts["codebook_override"] = tree_digest(_files_under(Path(override), ".")) if override else ""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def partition_digests(raw: Path, partitions: dict[str, list[str]]) -> dict[str, str]:
    """`<kind>/<folder>` -> digest of the folder's files, for the partitions a refresh ingests
    ({"survey": waves, "udi": snapshots}; a folder left out today, such as a future-dated snapshot, is
    not one, so its turn to be ingested counts as a change)."""
    return {f"{kind}/{key}": tree_digest(_files_under(raw / kind / key, "."))
            for kind in PARTITION_KINDS for key in partitions.get(kind, [])}


def shared_digest(raw: Path, data_dir: Path) -> str:
    """Raw files outside the partitions (the synthetic truth, anything loose) and the clerical decisions."""
    files = [(f"raw/{name}", path) for name, path in _files_under(raw, ".")
             if name.split("/", 1)[0] not in PARTITION_KINDS]
    decisions = data_dir / DECISIONS_FILE
    if decisions.is_file():
        files.append((DECISIONS_FILE, decisions))
    return tree_digest(files)


def fingerprint(key: bytes, partitions: dict[str, list[str]], raw: Path | None = None,
                data_dir: Path | None = None) -> dict:
    """The build inputs of the data root now: {"code", "settings", "shared", "partitions": {...}}."""
    raw = raw or paths.raw_dir()
    data_dir = data_dir or paths.data_dir()
    return {"code": code_digest(), "settings": settings_digest(key), "shared": shared_digest(raw, data_dir),
            "partitions": partition_digests(raw, partitions)}


def same_build_context(now: dict, published: dict) -> bool:
    """Code, settings and shared files unchanged: unchanged partitions may be reused."""
    return bool(published) and all(now.get(part) == published.get(part) for part in ("code", "settings", "shared"))


def reusable_partitions(now: dict, published: dict, held_back: set[str]) -> set[str]:
    """`<kind>/<key>` of the partitions whose files are unchanged since the published build and which were
    not held back there (a held-back partition's rows are an older version of its files)."""
    if not same_build_context(now, published):
        return set()
    before = published.get("partitions", {})
    return {name for name, digest in now["partitions"].items()
            if before.get(name) == digest and name not in held_back}


def nothing_changed(now: dict, published: dict, held_back: set[str]) -> bool:
    """Same code, settings, shared files and partitions, and nothing held back: the published file is current."""
    return same_build_context(now, published) and not held_back and now["partitions"] == published.get("partitions")


# The fingerprint a refresh started from travels to the publication step beside the build file.
SIDECAR_NAME = "build_inputs.json"


def sidecar_path(build: Path) -> Path:
    return build.with_name(SIDECAR_NAME)


def write_sidecar(build: Path, inputs: dict) -> None:
    sidecar_path(build).write_text(json.dumps(inputs, sort_keys=True), encoding="utf-8")


def take_sidecar(build: Path) -> dict:
    """The fingerprint written for this build, removed once read, so a later build (e.g. a daemon run on
    changed files) never publishes under it; {} when there is none."""
    path = sidecar_path(build)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    finally:
        path.unlink(missing_ok=True)
