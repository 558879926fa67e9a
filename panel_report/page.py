"""One self-contained HTML page: shared styling, plotly's JavaScript embedded once, no request leaves the machine."""
from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.io as pio
from plotly.offline import get_plotlyjs

from panel_report.figures import ReportFigure

STYLE = """
:root { --ink: #1f2933; --muted: #52606d; --line: #e4e7eb; --accent: #1f77b4; --paper: #ffffff; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.page { background: #102a43; color: #f0f4f8; padding: 28px 40px 22px; }
header.page h1 { margin: 0 0 6px; font-size: 26px; font-weight: 600; }
header.page p { margin: 2px 0; color: #bcccdc; font-size: 14px; }
header.page code { color: #f0f4f8; }
nav.toc { background: var(--paper); border-bottom: 1px solid var(--line); padding: 10px 40px; position: sticky; top: 0;
          z-index: 10; font-size: 14px; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 18px; white-space: nowrap; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 28px 60px; }
section { margin-top: 26px; }
section > h2 { font-size: 20px; margin: 0 0 10px; font-weight: 600; border-bottom: 2px solid var(--line); padding-bottom: 6px; }
figure.report-figure { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; margin: 0 0 22px;
                       padding: 14px 16px 12px; box-shadow: 0 1px 2px rgba(16, 42, 67, 0.05); }
figure.report-figure h3 { margin: 0 0 6px; font-size: 16px; font-weight: 600; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 8px; }
figcaption .source { display: inline-block; margin-left: 6px; background: #eef2f7; border-radius: 4px; padding: 0 6px;
                     font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; color: #334e68; }
.absent { color: var(--muted); font-style: italic; padding: 18px 4px; }
footer { color: var(--muted); font-size: 13px; text-align: center; padding: 20px; }
table.codebook { border-collapse: separate; border-spacing: 0; background: var(--paper); font-size: 13.5px; width: 100%; }
table.codebook th, table.codebook td { border-bottom: 1px solid var(--line); border-right: 1px solid var(--line);
                                       padding: 8px 10px; vertical-align: top; text-align: left; }
table.codebook thead th { position: sticky; top: 44px; background: #243b53; color: #f0f4f8; z-index: 5; }
table.codebook thead th small { display: block; color: #bcccdc; font-weight: normal; }
table.codebook tbody th { background: #f8fafc; min-width: 220px; }
table.codebook tbody th small { display: block; color: var(--muted); font-weight: normal; }
table.codebook td.missing { background: #fafafa; color: #9aa5b1; text-align: center; }
table.codebook code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px;
                      background: #eef2f7; padding: 0 4px; border-radius: 3px; }
table.codebook .type { color: var(--muted); font-size: 12px; }
table.codebook details summary { cursor: pointer; color: var(--accent); font-size: 12.5px; }
table.codebook ul.codes { margin: 4px 0 0; padding-left: 16px; font-size: 12.5px; }
input.filter { margin: 8px 0 14px; padding: 7px 10px; width: 340px; border: 1px solid #cbd2d9; border-radius: 6px; font-size: 14px; }
"""

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}


def figure_html(item: ReportFigure) -> str:
    """A `<figure>` with the plot (or the reason it is absent) and its caption naming the source table."""
    if item.figure is None:
        body = f'<div class="absent">{html.escape(item.caption)}</div>'
        caption = ""
    else:
        body = pio.to_html(item.figure, full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG,
                           div_id=f"fig-{item.figure_id}", default_width="100%")
        caption = html.escape(item.caption)
    return (f'<figure class="report-figure" id="{item.figure_id}" data-has-plot="{str(item.figure is not None).lower()}">'
            f"<h3>{html.escape(item.title)}</h3>{body}"
            f'<figcaption>{caption} Source:<span class="source">{html.escape(item.source)}</span></figcaption></figure>')


def page(title: str, subtitle_lines: Sequence[str], sections: Sequence[tuple[str, str, str]], with_plotly: bool,
         footer: str = "") -> str:
    """A whole page. `sections` are (anchor, heading, inner html); plotly's JavaScript is inlined once if needed."""
    script = f'<script type="text/javascript">{get_plotlyjs()}</script>' if with_plotly else ""
    toc = "".join(f'<a href="#{anchor}">{html.escape(heading)}</a>' for anchor, heading, _ in sections)
    body = "".join(f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{inner}</section>'
                   for anchor, heading, inner in sections)
    subtitle = "".join(f"<p>{line}</p>" for line in subtitle_lines)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>{script}</head><body>"
            f'<header class="page"><h1>{html.escape(title)}</h1>{subtitle}</header>'
            f'<nav class="toc">{toc}</nav><main>{body}</main><footer>{footer}</footer></body></html>')
