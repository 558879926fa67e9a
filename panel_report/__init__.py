"""Static report and catalogue pages rendered from the published warehouse (plotly, embedded once, offline)."""
from __future__ import annotations

from pathlib import Path

from panel_ingest import paths


def report_dir() -> Path:
    """`$PANEL_DATA_DIR/report/`: the panel report (`index.html`)."""
    return paths.data_dir() / "report"


def catalogue_dir() -> Path:
    """`$PANEL_DATA_DIR/catalogue/`: dbt docs (`index.html`) and the codebook page (`codebook.html`)."""
    return paths.data_dir() / "catalogue"
