"""The one dbt project, with its manifest kept in step with the model files."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster._utils import run_with_concurrent_update_guard

from panel_ingest.paths import DBT_PROJECT_DIR

# The files a manifest is parsed from; if any is newer than the manifest, it is parsed again.
PARSED_FOLDERS = ("models", "seeds", "macros", "tests", "snapshots")
PARSED_FILES = ("dbt_project.yml", "profiles.yml")

def dbt_executable() -> str:
    """The `dbt` next to this Python (the project's venv), so nothing depends on an activated PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, target_path=Path("target"))


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """True when there is no manifest or a project file changed after it was written."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    written = manifest.stat().st_mtime
    sources = [project.project_dir / name for name in PARSED_FILES]
    for folder in PARSED_FOLDERS:
        sources += [p for p in (project.project_dir / folder).rglob("*") if p.is_file()]
    return any(p.exists() and p.stat().st_mtime > written for p in sources)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Run `dbt parse` when the manifest is missing or stale; returns the manifest path."""
    if manifest_is_stale(project):
        run_with_concurrent_update_guard(project.manifest_path, _parse, project=project)
    return project.manifest_path


def _parse(project: DbtProject) -> None:
    cli = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    cli.cli(["parse", "--quiet"], target_path=project.target_path).wait()
