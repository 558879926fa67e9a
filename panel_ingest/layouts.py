"""Which codebook layout a wave's response file is in."""
from __future__ import annotations

from panel_ingest.codebook import Codebook
from panel_ingest.errors import UnreadableFileError


def detect_layout(codebook: Codebook, wave_id: str, header: list[str], source_file: str) -> str:
    """The wave's layout from survey_waves.csv; for a wave not listed there, the layout whose required
    variables all appear in the file's header (ties go to the layout with more of its variables present).
    No match raises UnreadableFileError asking for codebook rows."""
    wave = codebook.wave(wave_id)
    if wave is not None:
        return wave["layout"]
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
                         "has all its required variables in this file's header)")
    best = max(scores.values())
    winners = sorted(layout for layout, score in scores.items() if score == best)
    if len(winners) > 1:
        raise UnreadableFileError(source_file, f"ambiguous layout: header fits {winners} equally; add the wave to survey_waves.csv")
    return winners[0]


def check_header(codebook: Codebook, layout: str, header: list[str], source_file: str) -> None:
    """The header must hold exactly the layout's codebook variables (any order)."""
    expected = list(codebook.layout_variables(layout)["source_variable"])
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if extra:
            parts.append(f"unexpected columns {extra}")
        raise UnreadableFileError(source_file, f"header does not match layout {layout}: {'; '.join(parts)}")
