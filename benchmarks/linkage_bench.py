"""Linkage benchmark: `python -m benchmarks.linkage_bench --scale N`.

Builds a synthetic three-wave panel of N x 2,000 people in the staging shape (linkage.synthetic),
runs `linkage.run.link_waves` on it in a scratch in-memory DuckDB, and prints records per second,
peak memory and the pairwise quality against the known truth. Asserts nothing about time.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from linkage.estimate import overall_estimate
from linkage.quality import overall_quality
from linkage.run import link_waves
from linkage.synthetic import build_population, write_staging

PERSONS_PER_SCALE = 2000


def _peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _current_rss_mib() -> float | None:
    """Resident memory now (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def _return_freed_memory() -> None:
    """Hand the generator's freed frames back to the OS before linking (glibc keeps freed heap pages
    resident otherwise), so the peak measures linkage on top of the staged input, not the harness's
    garbage. A refresh links in a process that never built a population in pandas."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def run(scale: float, mess: float, seed: int, waves: int = 3) -> dict:
    """Build, link and measure; returns the figures printed by `main`."""
    population = build_population(int(PERSONS_PER_SCALE * scale), seed=seed, mess=mess, waves=waves)
    con = duckdb.connect()
    write_staging(con, population.responses, population.invitations)
    records, persons = len(population.responses), population.truth.person_id.nunique()
    with tempfile.TemporaryDirectory() as scratch:
        truth = Path(scratch) / "responses.csv"
        population.truth.to_csv(truth, index=False)
        del population  # linkage reads staging, as in a refresh: the generator's frames need not stay
        rss_before = _peak_rss_mib()
        _return_freed_memory()
        rss_at_start = _current_rss_mib()
        started = time.perf_counter()
        link_waves(con, truth)
        seconds = time.perf_counter() - started
    estimate = overall_estimate(con)
    return {"scale": scale, "mess": mess, "waves": waves,
            "estimated_precision": estimate["estimated_precision"], "estimated_recall": estimate["estimated_recall"], "persons": persons, "records": records,
            "seconds": seconds, "records_per_second": records / seconds,
            "peak_rss_before_mib": rss_before, "rss_at_link_start_mib": rss_at_start,
            "process_peak_rss_mib": _peak_rss_mib(),
            **{k: overall_quality(con)[k] for k in ("precision", "recall", "f1")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help=f"x {PERSONS_PER_SCALE} persons (default 1)")
    parser.add_argument("--mess", type=float, default=1.0, help="multiplies every mess rate (default 1)")
    parser.add_argument("--seed", type=int, default=20220601)
    parser.add_argument("--waves", type=int, default=3, choices=(3, 4), help="waves in the panel (default 3)")
    args = parser.parse_args(argv)
    figures = run(args.scale, args.mess, args.seed, args.waves)
    print(f"linkage benchmark: scale {figures['scale']:g} ({figures['persons']} persons, "
          f"{figures['records']} responses, {figures['waves']} waves), mess {figures['mess']:g}")
    print(f"  time               {figures['seconds']:.2f} s")
    print(f"  records/second     {figures['records_per_second']:.0f}")
    print(f"  peak memory        {figures['process_peak_rss_mib']:.0f} MiB process RSS "
          f"(resource.getrusage; {figures['peak_rss_before_mib']:.0f} MiB peak before linking, "
          f"{figures['rss_at_link_start_mib'] or 0:.0f} MiB resident when linking starts)")
    print(f"  pairwise quality   precision {figures['precision']:.4f}  recall {figures['recall']:.4f}  "
          f"F1 {figures['f1']:.4f}")
    print(f"  estimated (no truth) precision {figures['estimated_precision']:.4f}  "
          f"recall {figures['estimated_recall']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
