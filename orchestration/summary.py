"""`make demo` prints this after the refresh: a few headline figures, read from the PUBLISHED warehouse.

    python -m orchestration.summary

A missing table is reported in its section, not as a crash, so a partial warehouse still summarises.
"""
from __future__ import annotations

import sys
from collections.abc import Callable

import duckdb

from panel_ingest import paths

Section = Callable[[duckdb.DuckDBPyConnection], list[str]]


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _num(value) -> str:
    return "n/a" if value is None else f"{int(value):,}".replace(",", " ")


def w1_coarse_shares(con) -> list[str]:
    rows = con.execute("select aspiration, share from marts.aspiration_by_wave "
                   "where wave_id = 'w1_2022' and scale = 'coarse' order by aspiration").fetchall()
    return [f"{aspiration:<12} {_pct(share)}" for aspiration, share in rows] or ["no w1 coarse rows"]


def w3_return_asap(con) -> list[str]:
    row = con.execute("select share, weighted_share from marts.aspiration_by_wave where wave_id = 'w3_2024' "
                  "and scale = 'fine' and aspiration = 'return_asap'").fetchone()
    return [f"return as soon as the war ends: {_pct(row[0])} (weighted {_pct(row[1])})"] if row else ["no w3 row"]


def udi_figures(con) -> list[str]:
    row = con.execute("select granted_cumulative, valid_stock, implied_departures_cumulative, vintage_date "
                  "from marts.udi_monthly where month = date '2024-12-01'").fetchone()
    if row is None:
        return ["no udi_monthly row for 2024-12"]
    granted, stock, departed, vintage = row
    return [f"granted collective protection, cumulative to end 2024: {_num(granted)}",
            f"valid permits at the start of 2025: {_num(stock)}",
            f"implied departures: {_num(departed)} (vintage {vintage})"]


def w2_exit_reasons(con) -> list[str]:
    rows = con.execute("select reason_label, n_selected, n_asked from marts.exit_reasons where wave_id = 'w2_2023' "
                   "order by n_selected desc, reason_code limit 5").fetchall()
    return [f"{n_selected:>5} of {n_asked:<5} {label}" for label, n_selected, n_asked in rows] or ["no w2 exits"]


def linkage_quality(con) -> list[str]:
    row = con.execute("select sum(true_pairs), sum(predicted_pairs), sum(precision * predicted_pairs) / sum(predicted_pairs), "
                  "sum(recall * true_pairs) / sum(true_pairs) from marts.linkage_quality where method = 'all'").fetchone()
    if row is None or row[0] is None:
        return ["no linkage truth (real data): precision and recall cannot be scored"]
    return [f"precision {_pct(row[2])}, recall {_pct(row[3])} over {_num(row[0])} true cross-wave pairs"]


def row_accounting(con) -> list[str]:
    files, rows_in, loaded, quarantined = con.execute(
        "select count(*), sum(rows_in), sum(rows_loaded), sum(rows_quarantined) from audit.row_accounting").fetchone()
    return [f"{_num(files)} files, {_num(rows_in)} rows in = {_num(loaded)} loaded + {_num(quarantined)} quarantined"]


SECTIONS: list[tuple[str, Section]] = [
    ("w1 (2022) aspiration, coarse", w1_coarse_shares),
    ("w3 (2024)", w3_return_asap),
    ("UDI, Ukrainian citizens", udi_figures),
    ("w2 (2023) top reasons for leaving Norway", w2_exit_reasons),
    ("Linkage against synthetic truth", linkage_quality),
    ("Row accounting", row_accounting),
]


def summarise(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The summary lines; a section whose table is missing says so instead of failing."""
    # A missing table must read as missing, not as a Python variable of the same name (replacement scan).
    con.execute("SET python_enable_replacements = false")
    lines = []
    for title, section in SECTIONS:
        lines.append(title)
        try:
            lines += [f"  {line}" for line in section(con)]
        except duckdb.Error as error:
            lines.append(f"  (not available: {str(error).splitlines()[0]})")
    return lines


def main() -> int:
    """Print the summary of `$PANEL_DATA_DIR/warehouse.duckdb`; exit 1 if there is no published warehouse."""
    published = paths.published_db_path()
    if not published.exists():
        print(f"error: no published warehouse at {published}; run `make refresh` first", file=sys.stderr)
        return 1
    con = duckdb.connect(str(published), read_only=True)
    try:
        print(f"Summary of {published}")
        print("\n".join(summarise(con)))
    finally:
        con.close()
    print("\n".join(where_to_look()))
    return 0


def where_to_look() -> list[str]:
    """The last lines of the summary: where the report and the catalogue are (open them in a browser, offline)."""
    from panel_report import catalogue_dir, report_dir

    pages = [("Report", report_dir() / "index.html", "make report"),
             ("Catalogue", catalogue_dir() / "index.html", "make docs"),
             ("Codebook", catalogue_dir() / "codebook.html", "make docs")]
    return ["Open in a browser (work offline)"] + [
        f"  {name:<10} {path.as_uri() if path.exists() else f'{path} (not rendered yet: run `{command}`)'}"
        for name, path, command in pages]


if __name__ == "__main__":
    sys.exit(main())
