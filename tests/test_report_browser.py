"""The report, the data catalogue and the codebook page in headless Chromium: every figure renders, no script
error, no request leaves the machine; PNG screenshots are kept under tests/output/screenshots/ (git-ignored).

Uses the session's demo warehouse, whose refresh renders the report and the catalogue itself.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from report_cdp import INSTALL_HINT, Browser, chromium_executable

SCREENSHOTS = Path(__file__).resolve().parent / "output" / "screenshots"

PLOTS_READY = """(() => {
  if (document.readyState !== 'complete') return false;  // the file is parsed figure by figure
  const figures = document.querySelectorAll('figure.report-figure[data-has-plot="true"]');
  const drawn = [...figures].filter(f => f.querySelector('.js-plotly-plot .main-svg'));
  return figures.length > 0 && drawn.length === figures.length;
})()"""
PLOT_STATE = """(() => [...document.querySelectorAll('figure.report-figure[data-has-plot="true"]')].map(f => ({
  id: f.id,
  drawn: !!f.querySelector('.js-plotly-plot .main-svg'),
  marks: f.querySelectorAll('.js-plotly-plot .trace, .js-plotly-plot .sankey-node, .js-plotly-plot .hm').length,
  caption: (f.querySelector('figcaption') || {}).textContent || ''
})))()"""


@pytest.fixture(scope="module")
def browser():
    if chromium_executable() is None:
        pytest.fail(INSTALL_HINT)
    with Browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def pages(demo_warehouse: Path) -> dict[str, Path]:
    found = {"report": demo_warehouse / "report" / "index.html",
             "catalogue": demo_warehouse / "catalogue" / "index.html",
             "codebook": demo_warehouse / "catalogue" / "codebook.html"}
    missing = [str(path) for path in found.values() if not path.exists()]
    assert missing == [], f"the refresh did not render {missing}"
    return found


def keep(shot: Path, tmp_path: Path) -> Path:
    """Screenshots land in pytest's tmp dir and are copied to tests/output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(shot, SCREENSHOTS / shot.name))


def assert_stayed_local(visit) -> None:
    assert visit.external_requests == [], f"requests leaving the machine from {visit.url}: {visit.external_requests}"
    assert visit.exceptions == [], f"script errors on {visit.url}: {visit.exceptions}"
    assert visit.console_errors == [], f"console errors on {visit.url}: {visit.console_errors}"


def test_every_report_figure_renders_offline_with_a_caption(browser, pages, tmp_path):
    session, visit = browser.open(pages["report"].as_uri(), PLOTS_READY)
    assert_stayed_local(visit)
    state = browser.evaluate(session, PLOT_STATE)
    html = pages["report"].read_text(encoding="utf-8")
    assert len(state) == html.count('data-has-plot="true"') >= 6, state
    not_drawn = [figure["id"] for figure in state if not figure["drawn"] or figure["marks"] == 0]
    assert not_drawn == []
    assert all("Source:" in figure["caption"] and "n = " in figure["caption"] for figure in state
               if figure["id"] not in ("udi_revisions",)), state
    # plotly's JavaScript is in the file once, and nothing else is loaded
    assert html.count("* plotly.js v") == 1
    assert "<script src=" not in html
    shot = browser.screenshot(session, tmp_path / "report.png")
    assert keep(shot, tmp_path).stat().st_size > 50_000


def test_catalogue_shows_every_mart_with_its_column_descriptions_offline(browser, pages, tmp_path):
    url = pages["catalogue"].as_uri()
    session, visit = browser.open(url, "document.body && document.body.innerText.includes('aspiration_by_wave')")
    assert_stayed_local(visit)
    shot = browser.screenshot(session, tmp_path / "catalogue.png")
    keep(shot, tmp_path)
    model = "model.panel_warehouse.aspiration_by_wave"
    session, visit = browser.open(f"{url}#!/model/{model}",
                                  "document.body && document.body.innerText.includes('weighted_share')")
    assert_stayed_local(visit)
    text = browser.evaluate(session, "document.body.innerText")
    assert "Share of the summed cross-sectional weights" in text  # a column description, rendered
    shot = browser.screenshot(session, tmp_path / "catalogue_aspiration_by_wave.png")
    keep(shot, tmp_path)


def test_codebook_page_has_one_column_per_wave_and_renders_offline(browser, pages, tmp_path, demo_warehouse):
    session, visit = browser.open(pages["codebook"].as_uri(), "document.querySelectorAll('table.codebook tbody tr').length > 0")
    assert_stayed_local(visit)
    headers = browser.evaluate(session, "[...document.querySelectorAll('table.codebook thead th')].map(th => th.firstChild.textContent)")
    waves = sorted(p.name for p in (demo_warehouse / "raw" / "survey").iterdir() if p.is_dir())
    assert headers == ["concept", *waves]
    children = browser.evaluate(session, """[...document.querySelectorAll('tr[data-concept="children_in_norway"] td')]
                                            .map(td => td.classList.contains('missing') ? null : td.querySelector('code').textContent)""")
    assert len(children) == len(waves) and all(children), children
    shot = browser.screenshot(session, tmp_path / "codebook.png")
    keep(shot, tmp_path)


def test_catalogue_holds_every_mart_and_every_column_description(pages, demo_warehouse):
    import duckdb

    html = pages["catalogue"].read_text(encoding="utf-8")
    con = duckdb.connect(str(demo_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        columns = con.execute("select table_name, column_name, comment from duckdb_columns() "
                              "where schema_name = 'marts' and database_name = current_database()").fetchall()
    finally:
        con.close()
    assert len({table for table, _, _ in columns}) >= 10
    missing = [f"marts.{table}.{column}" for table, column, comment in columns
               if not comment or _plain_start(comment) not in html]
    assert missing == []


def _plain_start(text: str) -> str:
    """The longest stretch of a description without a character JSON or HTML might escape."""
    import re

    return max(re.split(r"[\"'`<>&\\\n(]", text.strip()), key=len)[:40]
