"""Where the warehouse reads and writes, all under one data root (`PANEL_DATA_DIR`, default `data/`)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
CODEBOOK_DIR = DBT_PROJECT_DIR / "seeds" / "codebook"
REFERENCE_DIR = DBT_PROJECT_DIR / "seeds" / "reference"
# What dbt parses the project from: a change to any of these files changes the manifest.
DBT_PARSED_FOLDERS = ("models", "seeds", "macros", "tests", "snapshots")
DBT_PARSED_FILES = ("dbt_project.yml", "profiles.yml")


def data_dir() -> Path:
    """The data root; relative paths are taken from the project root so every entry point agrees."""
    root = Path(os.environ.get("PANEL_DATA_DIR", "data"))
    return (root if root.is_absolute() else PROJECT_ROOT / root).resolve()


def raw_dir() -> Path:
    return data_dir() / "raw"


def build_db_path() -> Path:
    return data_dir() / "build" / "warehouse.duckdb"


def published_db_path() -> Path:
    return data_dir() / "warehouse.duckdb"


def previous_db_path() -> Path:
    return data_dir() / "warehouse.previous.duckdb"


def data_docs_dir() -> Path:
    return data_dir() / "data_docs"


def alerts_dir() -> Path:
    return data_dir() / "alerts"


def dbt_project_files(project_dir: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Every file dbt parses the project from, in a stable order (the existing ones)."""
    files = [project_dir / name for name in DBT_PARSED_FILES if (project_dir / name).is_file()]
    for folder in DBT_PARSED_FOLDERS:
        files += sorted(path for path in (project_dir / folder).rglob("*") if path.is_file())
    return files


def dbt_executable() -> str:
    """The `dbt` next to this Python (the project's venv), so nothing depends on an activated PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")
