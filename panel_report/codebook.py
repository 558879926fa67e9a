"""`catalogue/codebook.html`: the codebook seeds as one table, one row per concept and one column per wave
(SOEP paneldata.org style), so "which waves asked about children in Norway?" is one look.

Waves and their layouts come from the published warehouse (the waves in the data, with the layout each was
loaded with), the variables and codes from the codebook seeds as loaded into its `reference` schema.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from panel_report.page import page
from panel_report.warehouse import Warehouse

TITLE = "Codebook: concepts by wave"
FILTER_SCRIPT = """<script>
function filterConcepts(value) {
  const needle = value.toLowerCase();
  for (const row of document.querySelectorAll('table.codebook tbody tr')) {
    row.style.display = row.textContent.toLowerCase().includes(needle) ? '' : 'none';
  }
}
</script>"""


@dataclass
class Wave:
    wave_id: str
    layout: str
    label: str


@dataclass
class Codebook:
    waves: list[Wave]
    variables: pd.DataFrame  # layout, source_variable, concept, value_type, min_value, max_value, required, description
    values: pd.DataFrame  # layout, concept, source_value, concept_value, label
    concept_labels: dict[str, str]


def load_codebook(wh: Warehouse) -> Codebook:
    """The codebook as the published warehouse has it."""
    variables = wh.table("reference", "codebook_variables")
    values = wh.table("reference", "codebook_values")
    if variables is None or values is None:
        raise FileNotFoundError(f"{wh.path} has no reference.codebook_variables / codebook_values (the codebook seeds)")
    return Codebook(data_waves(wh), variables.astype({"layout": str, "concept": str}), values, concept_labels(wh))


def data_waves(wh: Warehouse) -> list[Wave]:
    """Waves in the data in field order, each with the layout it was loaded with and its label if the seed has one."""
    seed = wh.table("reference", "survey_waves")
    seed = seed.set_index("wave_id") if seed is not None else pd.DataFrame()
    layouts: dict[str, str] = {}
    if wh.has("raw", "survey_responses") and "layout" in wh.columns("raw", "survey_responses"):
        layouts = dict(wh.con.execute("select wave_id, min(layout) from raw.survey_responses group by wave_id").fetchall())
    waves = wh.waves() or sorted(set(layouts) | set(seed.index))
    result = []
    for wave_id in waves:
        layout = layouts.get(wave_id) or (seed.layout.get(wave_id) if "layout" in seed else None) or ""
        label = seed.fielded_label.get(wave_id) if "fielded_label" in seed else None
        result.append(Wave(wave_id, str(layout), str(label) if label is not None and not pd.isna(label) else ""))
    return result


def concept_labels(wh: Warehouse) -> dict[str, str]:
    """Readable names for concepts whose description is a code list entry (the reasons for leaving)."""
    reasons = wh.table("reference", "exit_reasons")
    if reasons is None:
        return {}
    return {f"reason_{int(code):02d}": str(label) for code, label in zip(reasons.reason_code, reasons.reason_label)}


def _cell(variable: pd.Series, codes: pd.DataFrame) -> str:
    parts = [f"<code>{html.escape(str(variable.source_variable))}</code>",
             f'<div class="type">{html.escape(str(variable.value_type))}{_range(variable)}'
             f'{" · required" if str(variable.required).lower() == "true" else ""}</div>']
    if not codes.empty:
        items = "".join(f"<li><code>{html.escape(str(row.source_value))}</code> → {html.escape(str(row.concept_value))}"
                        f"{' (' + html.escape(str(row.label)) + ')' if _present(row.label) and str(row.label) != str(row.concept_value) else ''}</li>"
                        for row in codes.itertuples(index=False))
        parts.append(f"<details><summary>{len(codes)} codes</summary><ul class=\"codes\">{items}</ul></details>")
    return "".join(parts)


def _present(value) -> bool:
    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value)) and str(value) != ""


def _range(variable: pd.Series) -> str:
    low, high = variable.get("min_value"), variable.get("max_value")
    if _present(low) or _present(high):
        relative = variable.get("bounds_relative_to")
        suffix = f" relative to {relative}" if _present(relative) else ""
        return f" {_number(low)}…{_number(high)}{html.escape(suffix)}"
    return ""


def _number(value) -> str:
    if not _present(value):
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def codebook_table(codebook: Codebook) -> str:
    """The concept x wave table."""
    variables, values = codebook.variables, codebook.values
    concepts = list(dict.fromkeys(variables.concept))
    header = "".join(f"<th>{html.escape(w.wave_id)}<small>{html.escape(w.label)}</small>"
                     f"<small>layout {html.escape(w.layout) or 'unknown'}</small></th>" for w in codebook.waves)
    rows = []
    for concept in concepts:
        of_concept = variables[variables.concept == concept]
        description = codebook.concept_labels.get(concept) or str(of_concept.description.iloc[0])
        cells = []
        for wave in codebook.waves:
            match = of_concept[of_concept.layout == wave.layout]
            if match.empty:
                cells.append('<td class="missing" title="not asked in this wave">—</td>')
                continue
            variable = match.iloc[0]
            codes = values[(values.layout == wave.layout) & (values.concept == concept)]
            cells.append(f"<td>{_cell(variable, codes)}</td>")
        rows.append(f'<tr data-concept="{html.escape(concept)}"><th><code>{html.escape(concept)}</code>'
                    f"<small>{html.escape(description)}</small></th>{''.join(cells)}</tr>")
    return (f'<input class="filter" type="search" placeholder="Filter concepts, variables, codes…" '
            f'oninput="filterConcepts(this.value)">'
            f'<table class="codebook"><thead><tr><th>concept</th>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def render_codebook(published: Path, out_dir: Path) -> Path:
    """Write `out_dir/codebook.html` from the published warehouse."""
    with Warehouse(published) as wh:
        codebook = load_codebook(wh)
    subtitle = [
        f"One row per harmonised concept, one column per wave in the published warehouse "
        f"({', '.join(html.escape(w.wave_id) for w in codebook.waves)}). Each cell shows the source variable of that "
        "wave's questionnaire, its type and range, and its codes (source code → harmonised value). A dash: not asked.",
        'The data catalogue (tables and columns) is <a style="color:#9fb3c8" href="index.html">index.html</a>.',
    ]
    text = page(TITLE, subtitle, [("codebook", "Concepts by wave", codebook_table(codebook))], with_plotly=False)
    text = text.replace("</head>", FILTER_SCRIPT + "</head>", 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "codebook.html"
    temporary = target.with_suffix(".html.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
    return target
