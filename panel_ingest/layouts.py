"""Which codebook layout a wave's response file is in: decided by its header, never by a list of waves."""
from __future__ import annotations

from panel_ingest.codebook import Codebook
from panel_ingest.errors import UnreadableFileError


def detect_layout(codebook: Codebook, wave_id: str, header: list[str], source_file: str) -> str:
    """The layout whose required variables all appear in the file's header (ties go to the layout with
    more of its variables present, then to the layout `survey_waves.csv` names for the wave).
    No match raises UnreadableFileError asking for codebook rows."""
    present = set(header)
    scores = {}
    for layout in codebook.layouts():
        required = codebook.required_variables(layout)
        if required and set(required) <= present:
            variables = set(codebook.layout_variables(layout)["source_variable"])
            scores[layout] = len(variables & present)
    if not scores:
        raise UnreadableFileError(
            source_file, "unknown layout: add rows to the codebook seeds (no layout in codebook_variables.csv "
                         f"has all its required variables in this file's header){_closest_layout(codebook, present)}")
    best = max(scores.values())
    winners = sorted(layout for layout, score in scores.items() if score == best)
    registered = (codebook.wave(wave_id) or {}).get("layout")
    if len(winners) > 1 and registered in winners:
        return registered
    if len(winners) > 1:
        raise UnreadableFileError(source_file, f"ambiguous layout: header fits {winners} equally; "
                                               "add the wave with its layout to survey_waves.csv")
    return winners[0]


def _closest_layout(codebook: Codebook, present: set[str]) -> str:
    """`; closest: layout X, missing required variables [...]` for the layout sharing most variables with the
    header (names from the codebook, never from the file), or '' when none shares any."""
    overlap = {layout: len(set(codebook.layout_variables(layout)["source_variable"]) & present)
               for layout in codebook.layouts()}
    best = max(overlap, key=lambda layout: (overlap[layout], layout), default=None)
    if best is None or overlap[best] == 0:
        return ""
    missing = [v for v in codebook.required_variables(best) if v not in present]
    return f"; closest: layout {best}, missing required variables {missing}"


def check_header(codebook: Codebook, layout: str, header: list[str], source_file: str) -> None:
    """The header must hold exactly the layout's codebook variables (any order). Missing variables are
    named (they are codebook names); an unexpected column is named by its position, never by its text."""
    expected = list(codebook.layout_variables(layout)["source_variable"])
    missing = [c for c in expected if c not in header]
    extra = [i + 1 for i, c in enumerate(header) if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"column{'s' if len(extra) > 1 else ''} {', '.join(map(str, extra))} "
                         f"{'are' if len(extra) > 1 else 'is'} not a variable of layout {layout}")
        raise UnreadableFileError(source_file, f"header does not match layout {layout}: {'; '.join(parts)}")
