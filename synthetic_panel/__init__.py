"""Synthetic data generator: survey waves, UDI snapshots and linkage truth, exactly as the providers deliver them.

`generate(out_dir, scale=1.0, seed=20220601, mess=1.0)` or `python -m synthetic_panel --out data/raw`.
"""
from synthetic_panel.generate import generate

__all__ = ["generate"]
