"""The panel report: `$PANEL_DATA_DIR/report/index.html`, rendered from the PUBLISHED warehouse (read-only)."""
from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from panel_report import figures as f
from panel_report.page import figure_html, page
from panel_report.warehouse import Warehouse, min_cell

REPORT_TITLE = "Ukrainian refugees in Norway: panel report"


@dataclass
class ReportResult:
    path: Path
    figures: list[str]
    absent: list[str]
    waves: list[str]


def build_figures(wh: Warehouse) -> list[tuple[str, str, list[f.ReportFigure]]]:
    """Every section of the report with its figures, from the published tables."""
    waves = wh.waves()
    transitions, transitions_source = wh.release_or_mart("aspiration_transitions")
    attrition, attrition_source = wh.release_or_mart("attrition")
    reasons, reasons_source = wh.release_or_mart("exit_reasons")
    shares_mart = wh.table("marts", "aspiration_by_wave")
    shares = None if shares_mart is None else f.shares_with_intervals(shares_mart, wh.table("release", "aspiration_by_wave"))
    shares_source = "marts.aspiration_by_wave" + (" (suppression of release.aspiration_by_wave)"
                                                  if wh.has("release", "aspiration_by_wave") else "")
    exits = wh.table("marts", "exits")
    link_counts = (wh.frame("select wave_id, coalesce(link_method, 'unknown') as link_method, count(*) as n "
                            "from marts.panel_tracking where response_id is not null group by all")
                   if wh.has("marts", "panel_tracking") else None)
    return [
        ("flows", "Aspirations over time", [
            f.flows_figure(transitions, waves, transitions_source),
            f.shares_figure(shares, waves, shares_source, "coarse"),
            f.shares_figure(shares, waves, shares_source, "fine"),
        ]),
        ("retention", "Who stays in the panel", [f.retention_figure(attrition, waves, attrition_source)]),
        ("leaving", "Leaving Norway", [
            f.months_before_leaving_figure(exits, waves, "marts.exits"),
            f.destinations_figure(exits, waves, "marts.exits"),
            f.exit_reasons_figure(reasons, waves, reasons_source),
        ]),
        ("udi", "UDI statistics", [
            f.udi_monthly_figure(wh.table("marts", "udi_monthly"), "marts.udi_monthly"),
            f.udi_revisions_figure(wh.table("marts", "udi_revisions"), "marts.udi_revisions"),
        ]),
        ("linkage", "Linkage", [
            f.linkage_quality_figure(wh.table("marts", "linkage_quality"), waves, "marts.linkage_quality"),
            f.link_methods_figure(link_counts, waves, "marts.panel_tracking"),
        ]),
    ]


def render_report(published: Path, out_dir: Path) -> ReportResult:
    """Write `out_dir/index.html` from the published warehouse file; returns what it holds."""
    with Warehouse(published) as wh:
        sections = build_figures(wh)
        waves = wh.waves()
        published_at = wh.published_at()
    items = [item for _, _, group in sections for item in group]
    subtitle = [
        f"From the published warehouse <code>{html.escape(str(published))}</code> ({published_at}).",
        f"Waves: {html.escape(', '.join(waves))}. Counts below {min_cell()} (PANEL_MIN_CELL) are withheld as in the "
        "<code>release</code> tables. Hover for exact values; every figure works offline.",
    ]
    text = page(REPORT_TITLE, subtitle,
                [(anchor, heading, "".join(figure_html(item) for item in group)) for anchor, heading, group in sections],
                with_plotly=True, footer=f"Rendered {pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M UTC} by panel_report.")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "index.html"
    temporary = target.with_suffix(".html.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)  # readers never see half a page
    return ReportResult(target, [i.figure_id for i in items if i.figure is not None],
                        [i.figure_id for i in items if i.figure is None], waves)
