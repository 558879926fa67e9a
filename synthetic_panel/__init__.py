"""Synthetic data generator: survey waves, UDI snapshots and linkage truth, exactly as the providers deliver them.

`generate(out_dir, scale=1.0, seed=20220601, mess=1.0, waves=3, municipalities="sample")` or
`python -m synthetic_panel --out data/raw` (`--help` lists `--waves`, `--municipalities`, `--udi-from`,
`--w1-return-share`). `_truth/` holds who wrote which row (`responses.csv`), the persons
(`persons.csv`), the invitations, the mess per row (`mess.csv`) and every invalid optional cell
(`defects.csv`: wave_id, row_number, response_id, column, kind, row_kind).
"""
from synthetic_panel.generate import generate

__all__ = ["generate"]
