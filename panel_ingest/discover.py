"""Find the partitions (survey waves, UDI snapshots) present under `raw/`."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

WAVE_FOLDER = re.compile(r"^w(?P<number>[0-9]+)_(?P<year>[0-9]{4})$")
SNAPSHOT_FOLDER = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def wave_number(wave_id: str) -> int:
    """N of a wave id `w<N>_<YYYY>`; ValueError for anything else."""
    match = WAVE_FOLDER.match(wave_id)
    if not match:
        raise ValueError(f"not a wave id (w<N>_<YYYY>): {wave_id!r}")
    return int(match["number"])


def find_survey_waves(raw_dir: Path) -> list[str]:
    """Wave folders `raw/survey/w<N>_<YYYY>`, sorted by N.

    Anything else under `raw/survey/` (files, other folder names) is ignored, and so is `raw/_truth/`,
    which only the linkage scorer may read.
    """
    survey = Path(raw_dir) / "survey"
    if not survey.is_dir():
        return []
    waves = [p.name for p in survey.iterdir() if p.is_dir() and WAVE_FOLDER.match(p.name)]
    return sorted(waves, key=lambda w: (wave_number(w), w))


def _is_calendar_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def find_udi_snapshots(raw_dir: Path) -> list[str]:
    """Snapshot folders `raw/udi/YYYY-MM-DD` (real calendar dates), sorted by date.

    Anything else under `raw/udi/` is ignored, and so is `raw/_truth/`.
    """
    udi = Path(raw_dir) / "udi"
    if not udi.is_dir():
        return []
    return sorted(p.name for p in udi.iterdir()
                  if p.is_dir() and SNAPSHOT_FOLDER.match(p.name) and _is_calendar_date(p.name))
