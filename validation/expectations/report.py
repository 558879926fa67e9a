"""A plain, self-contained HTML summary of the latest outcome of every mart suite.

GX's own Data Docs index fills its tables with JavaScript loaded from public CDNs, so it shows
little on a machine without internet. `mart_checks.html` beside it needs nothing: one section per
mart with its verdict, failures, skipped checks and links to the GX pages. It is rebuilt from
one JSON record per mart, so runs of single marts (e.g. one Dagster check each) still add up.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path

from validation.expectations.outcome import SuiteOutcome
from validation.expectations.settings import MART_NAMES

SUMMARY_PAGE = "mart_checks.html"
RECORDS_FOLDER = "outcomes"

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 70em; }
.passed { color: #176b2c; } .failed { color: #a4161a; }
li { margin: 0.3em 0; } code { background: #f3f3f3; padding: 0 0.2em; }
"""


def write_outcome_record(store_dir: Path, outcome: SuiteOutcome, run_time: str, pages: dict[str, str]) -> Path:
    """Keep one mart's latest outcome (with links to its GX pages) as JSON under `store_dir`."""
    folder = store_dir / RECORDS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    record = asdict(outcome) | {"docs_index": None, "run_time": run_time, "validation_pages": pages}
    path = folder / f"{outcome.suite_name}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")
    temporary.replace(path)  # atomic: a concurrent reader never sees half a record
    return path


def read_outcome_records(store_dir: Path) -> list[dict]:
    """The latest record of each mart, in MART_NAMES order."""
    folder = store_dir / RECORDS_FOLDER
    records = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}
    order = {name: position for position, name in enumerate(MART_NAMES)}
    return [records[name] for name in sorted(records, key=lambda name: order.get(name, len(order)))]


def write_summary_page(docs_dir: Path, store_dir: Path) -> Path:
    """Render `mart_checks.html` in `docs_dir` from every mart's latest record."""
    records = read_outcome_records(store_dir)
    sections = "\n".join(mart_section(record) for record in records)
    n_failed = sum(1 for record in records if not record["success"])
    verdict = "all mart suites passed" if n_failed == 0 else f"{n_failed} of {len(records)} mart suites failed"
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Mart checks</title><style>{STYLE}</style></head><body>\n"
        f"<h1>Mart checks (Great Expectations)</h1>\n<p>{html.escape(verdict)}. "
        "Full Data Docs: <a href=\"index.html\">index.html</a>.</p>\n"
        f"{sections}\n</body></html>\n"
    )
    path = docs_dir / SUMMARY_PAGE
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    return path


def mart_section(record: dict) -> str:
    status = "passed" if record["success"] else "failed"
    heading = (
        f"<h2>{html.escape(record['mart'])}: <span class=\"{status}\">{status}</span></h2>\n"
        f"<p>{record['n_expectations']} expectations, {record['n_failed']} failed; run {html.escape(record['run_time'])}.</p>"
    )
    failures = bullet_list("Failures", record["failures"]) + bullet_list("Warnings (not blocking)", record.get("warnings", []))
    notes = bullet_list("Skipped or noted", record["notes"])
    links = " ".join(
        f"<a href=\"{html.escape(page)}\"><code>{html.escape(suite)}</code></a>"
        for suite, page in record["validation_pages"].items()
    )
    return f"<section>{heading}\n{failures}{notes}<p>Validation pages: {links}</p></section>"


def bullet_list(title: str, lines: list[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f"<h3>{title}</h3><ul>{items}</ul>\n"
