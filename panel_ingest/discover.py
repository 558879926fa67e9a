"""Find the partitions (survey waves, UDI snapshots) present under `raw/`.

Nothing under `raw/` is skipped silently: a folder under `raw/survey/` that is not `w<N>_<YYYY>` (e.g.
`wave4`), a folder under `raw/udi/` that is not a calendar date, and a snapshot dated after today (it
would become the latest vintage) are left out with a warning naming the folder.
"""
from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)
WAVE_FOLDER = re.compile(r"^w(?P<number>[0-9]+)_(?P<year>[0-9]{4})$")
SNAPSHOT_FOLDER = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def wave_number(wave_id: str) -> int:
    """N of a wave id `w<N>_<YYYY>`; ValueError for anything else."""
    match = WAVE_FOLDER.match(wave_id)
    if not match:
        raise ValueError(f"not a wave id (w<N>_<YYYY>): {wave_id!r}")
    return int(match["number"])


def _folders(parent: Path) -> list[str]:
    """Visible sub-folders (hidden ones such as `.ipynb_checkpoints` are not deliveries)."""
    return [p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")]


def find_survey_waves(raw_dir: Path, warnings: list[str] | None = None) -> list[str]:
    """Wave folders `raw/survey/w<N>_<YYYY>`, sorted by N. Any other folder is reported (log warning, and
    appended to `warnings` if given); `raw/_truth/` is never looked at (only the linkage scorer reads it)."""
    survey = Path(raw_dir) / "survey"
    if not survey.is_dir():
        return []
    folders = _folders(survey)
    for name in sorted(n for n in folders if not WAVE_FOLDER.match(n)):
        _warn(f"survey/{name}: not a wave folder name (expected w<N>_<YYYY>: w, the wave number, _, the year fielded); not ingested until "
              "renamed", warnings)
    waves = [n for n in folders if WAVE_FOLDER.match(n)]
    return sorted(waves, key=lambda w: (wave_number(w), w))


def _is_calendar_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def find_udi_snapshots(raw_dir: Path, warnings: list[str] | None = None, today: date | None = None) -> list[str]:
    """Snapshot folders `raw/udi/YYYY-MM-DD` (real calendar dates, not after today), sorted by date.
    Other folders and future-dated ones are reported and left out."""
    udi = Path(raw_dir) / "udi"
    if not udi.is_dir():
        return []
    today = today or date.today()
    snapshots = []
    for name in sorted(_folders(udi)):
        if not (SNAPSHOT_FOLDER.match(name) and _is_calendar_date(name)):
            _warn(f"udi/{name}: not a snapshot folder name (expected the retrieval date YYYY-MM-DD); not ingested",
                  warnings)
        elif date.fromisoformat(name) > today:
            _warn(f"udi/{name}: snapshot dated after today ({today.isoformat()}); not ingested, so it cannot "
                  "become the latest vintage (check the folder's date)", warnings)
        else:
            snapshots.append(name)
    return snapshots


def _warn(message: str, warnings: list[str] | None) -> None:
    log.warning(message)
    if warnings is not None:
        warnings.append(message)
