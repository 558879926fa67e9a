"""Where the warehouse reads and writes, all under one data root (`PANEL_DATA_DIR`, default `data/`)."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
CODEBOOK_DIR = DBT_PROJECT_DIR / "seeds" / "codebook"
REFERENCE_DIR = DBT_PROJECT_DIR / "seeds" / "reference"


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
