"""`make report` / `make docs`: render the report or the catalogue from `$PANEL_DATA_DIR/warehouse.duckdb`.

    python -m panel_report report     # $PANEL_DATA_DIR/report/index.html
    python -m panel_report docs       # $PANEL_DATA_DIR/catalogue/index.html and codebook.html
"""
from __future__ import annotations

import argparse
import sys

from panel_ingest import paths
from panel_report import catalogue_dir, report_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m panel_report", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["report", "docs", "all"], help="what to render")
    args = parser.parse_args(argv)
    published = paths.published_db_path()
    if not published.exists():
        print(f"error: no published warehouse at {published}; run `make refresh` first", file=sys.stderr)
        return 1
    if args.what in ("report", "all"):
        from panel_report.report import render_report

        result = render_report(published, report_dir())
        print(f"report: {result.path} ({len(result.figures)} figures; waves {', '.join(result.waves)})")
    if args.what in ("docs", "all"):
        from panel_report.catalogue import CatalogueError, render_catalogue
        from panel_report.codebook import render_codebook

        try:
            catalogue = render_catalogue(published, catalogue_dir())
        except CatalogueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        codebook = render_codebook(published, catalogue_dir())
        print(f"catalogue: {catalogue.path} ({catalogue.models} models)")
        print(f"codebook: {codebook}")
        for column in catalogue.undocumented:
            print(f"warning: {column} has no description", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
