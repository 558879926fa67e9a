"""`generate()`: the whole synthetic delivery (survey waves, UDI snapshots and `_truth/`) for one seed."""
from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from synthetic_panel import config
from synthetic_panel.defects import CellDefects
from synthetic_panel.mess import MessMaker
from synthetic_panel.panel import W1, W2, W3, simulate_later_wave, simulate_panel
from synthetic_panel.people import kommune_weights
from synthetic_panel.udi import write_udi
from synthetic_panel.writers import write_invitations, write_truth, write_w1, write_w2, write_w3

W1_ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
W1_DELIMITERS = (";", ",")
MUNICIPALITY_POOLS = ("sample", "all")
# Independent random streams, so that changing the mess level leaves the clean panel untouched
# (6 and 7 are the names and defects of `synthetic_panel.defects`; later waves add their number).
CORE_STREAM, MESS_STREAM, TOKEN_STREAM, ID_STREAM, LATER_STREAM = 0, 1, 4, 5, 8


class RealDataGuardError(ValueError):
    """The output folder holds provider files that were not written by this generator."""


def generate(out_dir: str | Path, scale: float = 1.0, seed: int = 20220601, mess: float = 1.0,
             w1_encoding: str = "utf-8-sig", w1_delimiter: str = ";", force: bool = False, waves: int = 3,
             municipalities: str = "sample", udi_from: str | dt.date | None = None,
             w1_return_share: float | None = None) -> dict:
    """Write a synthetic raw delivery into `out_dir` (e.g. `data/raw`) and return a summary.

    `scale` multiplies sample sizes (UDI figures stay population-level), `mess` multiplies every mess rate
    (0 = clean), `w1_encoding`/`w1_delimiter` choose how the w1 CSV is saved. `waves` < 3 writes only the
    first waves (as they are in the full set); `waves` > 3 adds waves
    `w4_2025`, `w5_2026`, ... in the w3 SPSS layout without changing the files of the earlier ones;
    `municipalities="all"` draws residents from all of Norway instead of the 26-municipality sample;
    `udi_from` drops the UDI snapshots before that date (a history that starts late); `w1_return_share`
    replaces w1's 25 % "return as soon as the war ends". The `survey/`, `udi/` and `_truth/` folders of
    `out_dir` are replaced; if `out_dir` holds survey or UDI files but no `_truth/` (a real delivery), nothing
    is touched unless `force` is set. The same arguments always give byte-identical files.
    """
    w1_shares = validate(scale, mess, w1_encoding, w1_delimiter, waves, municipalities, w1_return_share)
    udi_start = dt.date.fromisoformat(str(udi_from)) if udi_from else None
    out = Path(out_dir)
    if not force and looks_like_real_delivery(out):
        raise RealDataGuardError(
            f"{out} holds survey/ or udi/ files but no _truth/, so it looks like a real delivery; "
            "refusing to overwrite it (use force=True / --force to replace it with synthetic data)")
    for sub in ("survey", "udi", "_truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    wave_ids = config.wave_ids(waves)
    folders = {w: out / "survey" / w for w in wave_ids}
    for folder in [*folders.values(), out / "udi", out / "_truth"]:
        folder.mkdir(parents=True, exist_ok=True)

    panel = simulate_panel(scale, np.random.default_rng([seed, CORE_STREAM]), kommune_weights(municipalities),
                           w1_shares)
    cells = CellDefects(lambda stream, wave_id: np.random.default_rng([seed, stream, config.wave_number(wave_id)]))
    maker = MessMaker(panel, mess, np.random.default_rng([seed, MESS_STREAM]),
                      np.random.default_rng([seed, TOKEN_STREAM]), cells)
    invitations = maker.run()
    for wave_id in wave_ids[3:]:
        number = config.wave_number(wave_id)
        simulate_later_wave(panel, wave_id, np.random.default_rng([seed, LATER_STREAM, number]))
        maker.run_wave(wave_id, np.random.default_rng([seed, MESS_STREAM, number]),
                       np.random.default_rng([seed, TOKEN_STREAM, number]))
    written = {W1: write_w1(folders[W1] / "responses.csv", panel.responses[W1], w1_encoding, w1_delimiter)}
    if W2 in folders:
        written[W2] = write_w2(folders[W2] / "responses.xlsx", panel.responses[W2],
                               np.random.default_rng([seed, ID_STREAM]))
    for wave_id in wave_ids[2:]:
        written[wave_id] = write_w3(folders[wave_id] / "responses.sav", panel.responses[wave_id], wave_id)
    invitations = {wave_id: invitations[wave_id] for wave_id in wave_ids[1:]}
    for wave_id, sent in invitations.items():
        write_invitations(folders[wave_id] / "invitations.csv", sent)
    in_files = {r.person_id for rows in written.values() for r in rows}
    persons = {pid: person for pid, person in panel.persons.items() if pid in in_files or waves >= 3}
    write_truth(out / "_truth", written, persons, invitations)
    udi_summary = write_udi(out / "udi", seed, first=udi_start, cover_until=config.field_period(wave_ids[-1])[1])
    return summarise(written, invitations, persons, udi_summary)


def validate(scale, mess, w1_encoding, w1_delimiter, waves, municipalities, w1_return_share) -> dict[str, float]:
    """Check the arguments; returns w1's coarse aspiration shares."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if mess < 0:
        raise ValueError(f"mess must be >= 0, got {mess}")
    if w1_encoding not in W1_ENCODINGS:
        raise ValueError(f"w1_encoding must be one of {W1_ENCODINGS}, got {w1_encoding!r}")
    if w1_delimiter not in W1_DELIMITERS:
        raise ValueError(f"w1_delimiter must be one of {W1_DELIMITERS}, got {w1_delimiter!r}")
    if not 1 <= waves <= config.MAX_WAVES:
        raise ValueError(f"waves must be between 1 and {config.MAX_WAVES}, got {waves}")
    if municipalities not in MUNICIPALITY_POOLS:
        raise ValueError(f"municipalities must be one of {MUNICIPALITY_POOLS}, got {municipalities!r}")
    if w1_return_share is None:
        return dict(config.W1_COARSE_SHARES)
    if not 0 <= w1_return_share <= 1:
        raise ValueError(f"w1_return_share must be between 0 and 1, got {w1_return_share}")
    stay = min(config.W1_COARSE_SHARES["stay_norway"], 1 - w1_return_share)
    return {"return_asap": w1_return_share, "uncertain": 1 - w1_return_share - stay, "stay_norway": stay}


def looks_like_real_delivery(out: Path) -> bool:
    """Provider files present without the synthetic `_truth/` folder."""
    delivered = any(p.is_file() for sub in ("survey", "udi") for p in (out / sub).rglob("*"))
    return delivered and not (out / "_truth").is_dir()


def summarise(written, invitations, persons, udi_summary) -> dict:
    waves = {}
    for wave_id, rows in written.items():
        records = [r for r in rows if r.kind == "record"]
        waves[wave_id] = {
            "rows": len(rows),
            "responses_of_record": len(records),
            "in_norway_of_record": sum(r.answers["country"] == "norway" for r in records),
            "cell_defects_of_record": sum(len(r.defects) for r in records),
            "abroad_of_record": sum(r.answers["country"] != "norway" for r in records),
            "token_responses": sum(r.channel == "token" for r in records),
            "invitations": len(invitations.get(wave_id, [])),
            "mess": dict(sorted(Counter(kind for r in rows for kind in r.mess).items())),
        }
    return {"persons": len(persons), "waves": waves, "udi": udi_summary}
