"""`make bench`: refresh, linkage and query figures at several data scales, beside two baselines.

    python -m benchmarks.bench --scales 1 10 100 [--timeout 1800] [--dir data/bench]

For each scale: generate the synthetic data (not timed) into `<dir>/scale_<S>/data/raw`, hold back
the newest UDI snapshot folder and the last wave folder, then measure in subprocesses, each with its
own PANEL_DATA_DIR, DAGSTER_HOME and a benchmark HMAC key:
  1. cold refresh (no build, no published file, new Dagster instance) of the data without them,
  2. refresh after adding the newest UDI snapshot,
  3. refresh after adding the last wave,
  4. refresh with nothing changed;
each with wall time, peak memory of the process tree and time per stage (Dagster's event log). The two
short refreshes (2 and 4) are then measured again, `--repeats` times in all, and their median run is
kept: the newest snapshot is withdrawn and refreshed without timing before each further delivery. Then
the README example queries on the published file, the project's linkage (benchmarks.linkage_bench)
and, on the same linkage data, a plain Splink deduplication (benchmarks.splink_baseline), and the
floor (benchmarks.floor) on the same raw files as the refreshes. Writes the JSON figures and
BENCHMARKS.md and prints the table. A measurement past the time or memory limit is recorded as such;
nothing here asserts how fast anything is.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import time
from pathlib import Path

from benchmarks import machine, report
from benchmarks.measure import Measured, run_measured
from benchmarks.queries import query_times
from benchmarks.stages import stage_times

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = 20220601
DEFAULT_TIMEOUT = 1800.0
BENCH_HMAC_KEY = "benchmark-key-for-synthetic-data-only-0123456789"
MARKER = ".panel-benchmark"  # only folders carrying it are ever deleted
REFRESH_SEQUENCE = ("cold", "new_snapshot", "new_wave", "unchanged")
# Measured `repeats` times, median kept: a 15-second refresh on a two-core machine varies by a fifth or
# more from one run to the next (measured), more than the changes it is meant to show.
REPEATED = ("new_snapshot", "unchanged")
DEFAULT_REPEATS = 3


def default_max_memory_mib() -> float:
    """Half the machine's memory: past that a measurement would starve everyone else on it."""
    return machine.total_memory_mib() / 2


def bench_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PANEL_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(data_dir / "dagster_home"),
           "PANEL_HMAC_KEY": BENCH_HMAC_KEY, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(PROJECT_ROOT)}  # measure the code beside this file
    env.pop("PANEL_ALERT_WEBHOOK", None)
    return env


def describe_data(raw: Path) -> dict:
    """Persons, survey rows per wave and UDI snapshots of a generated raw folder (from its `_truth`)."""
    rows_per_wave: dict[str, int] = {}
    persons = None
    truth = raw / "_truth"
    if (truth / "responses.csv").exists():
        with (truth / "responses.csv").open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                rows_per_wave[row["wave_id"]] = rows_per_wave.get(row["wave_id"], 0) + 1
    if (truth / "persons.csv").exists():
        with (truth / "persons.csv").open(newline="", encoding="utf-8-sig") as handle:
            persons = sum(1 for _ in csv.DictReader(handle))
    return {"persons": persons, "survey_rows": rows_per_wave,
            "waves": sorted(p.name for p in (raw / "survey").iterdir() if p.is_dir()),
            "udi_snapshots": sum(1 for p in (raw / "udi").iterdir() if p.is_dir())}


class ScaleFolder:
    """`<dir>/scale_<S>/`: data/ (raw, build, published, dagster_home) and held_back/ (folders not yet delivered)."""

    def __init__(self, root: Path, scale: float):
        self.path = root / f"scale_{scale:g}"
        self.data = self.path / "data"
        self.raw = self.data / "raw"
        self.held_back = self.path / "held_back"

    def reset(self) -> None:
        if self.path.exists():
            if not (self.path / MARKER).exists():
                raise SystemExit(f"error: {self.path} exists and is not a benchmark folder (no {MARKER}); "
                                 "choose another --dir")
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        (self.path / MARKER).write_text("written by benchmarks.bench; deleted by the next run\n")
        home = self.data / "dagster_home"
        home.mkdir(parents=True)
        shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")

    def hold_back(self) -> tuple[str, str]:
        """Move the newest UDI snapshot folder and the last wave folder aside; return their names."""
        self.held_back.mkdir(exist_ok=True)
        snapshot = sorted(p.name for p in (self.raw / "udi").iterdir() if p.is_dir())[-1]
        wave = sorted(p.name for p in (self.raw / "survey").iterdir() if p.is_dir())[-1]
        shutil.move(self.raw / "udi" / snapshot, self.held_back / f"udi_{snapshot}")
        shutil.move(self.raw / "survey" / wave, self.held_back / f"survey_{wave}")
        return snapshot, wave

    def deliver(self, kind: str, name: str) -> None:
        shutil.move(self.held_back / f"{kind}_{name}", self.raw / kind / name)

    def withdraw(self, kind: str, name: str) -> None:
        shutil.move(self.raw / kind / name, self.held_back / f"{kind}_{name}")


class Bench:
    """Runs the measurements; `save()` is called after each one, so a long run that is stopped keeps its figures."""

    def __init__(self, root: Path, seed: int, timeout: float, max_memory_mib: float, log=print, save=lambda: None,
                 udi_from: str | None = None, repeats: int = DEFAULT_REPEATS):
        self.root, self.seed, self.timeout, self.max_memory_mib = root, seed, timeout, max_memory_mib
        self.log, self.save, self.udi_from, self.repeats = log, save, udi_from, repeats

    def measure(self, command: list[str], env: dict[str, str]) -> Measured:
        return run_measured(command, env=env, cwd=PROJECT_ROOT, timeout=self.timeout,
                            max_memory_mib=self.max_memory_mib)

    def python(self, *args: str) -> list[str]:
        return [sys.executable, *args]

    def json_figures(self, measured: Measured) -> dict:
        """The JSON the subprocess printed on its last line, with the process's status, wall time and
        peak memory of its tree under their own names (its own `seconds` is what it timed inside)."""
        figures = json.loads(measured.stdout.strip().splitlines()[-1]) if measured.ok else {}
        if not measured.ok:
            figures["error"] = (measured.stderr or measured.stdout).strip().splitlines()[-1:]
        measured_figures = measured.figures()
        figures.update(status=measured_figures.pop("status"), note=measured_figures.pop("note"),
                       **{f"process_{key}": value for key, value in measured_figures.items()})
        return figures

    def run_scale(self, scale: float, result: dict) -> None:
        """Fill `result` with the figures of one scale."""
        folder = ScaleFolder(self.root, scale)
        folder.reset()
        env = bench_env(folder.data)
        self.log(f"scale {scale:g}: generating data into {folder.raw} (not timed)")
        short_history = ["--udi-from", self.udi_from] if self.udi_from else []
        generated = self.measure(self.python("-m", "synthetic_panel", "--out", str(folder.raw), "--scale", f"{scale:g}",
                                             "--seed", str(self.seed), *short_history), env)
        result.update(folder=str(folder.path), generation=generated.figures())
        if not generated.ok:
            result["generation"]["error"] = generated.stderr.strip().splitlines()[-1:]
            return
        result["data"] = describe_data(folder.raw)
        snapshot, wave = folder.hold_back()
        result["held_back"] = {"udi_snapshot": snapshot, "wave": wave}
        result["floor"] = {"cold_data": self.floor(folder.raw, env)}
        result["refreshes"] = {}
        self.refreshes(folder, env, snapshot, wave, result["refreshes"])
        result["floor"]["full_data"] = self.floor(folder.raw, env)
        warehouse = folder.data / "warehouse.duckdb"
        if warehouse.exists():
            result["queries"] = query_times(warehouse)
        self.log(f"scale {scale:g}: linkage (benchmarks.linkage_bench) and the plain Splink baseline")
        result["linkage"] = self.linkage(scale, env)
        self.save()
        result["splink_baseline"] = self.json_figures(self.measure(
            self.python("-m", "benchmarks.splink_baseline", "--scale", f"{scale:g}", "--seed", str(self.seed), "--json"),
            env))
        self.save()

    def floor(self, raw: Path, env: dict[str, str]) -> dict:
        return self.json_figures(self.measure(self.python("-m", "benchmarks.floor", "--raw", str(raw), "--json"), env))

    def linkage(self, scale: float, env: dict[str, str]) -> dict:
        code = ("import json, sys; from benchmarks.linkage_bench import run; "
                "print(json.dumps(run(float(sys.argv[1]), 1.0, int(sys.argv[2]))))")
        return self.json_figures(self.measure(self.python("-c", code, f"{scale:g}", str(self.seed)), env))

    def refreshes(self, folder: ScaleFolder, env: dict[str, str], snapshot: str, wave: str, figures: dict) -> None:
        deliveries = {"new_snapshot": ("udi", snapshot), "new_wave": ("survey", wave)}
        for name in REFRESH_SEQUENCE:
            if any(not f.get("status") == "ok" for f in figures.values()):
                figures[name] = {"status": "not run", "note": "an earlier refresh of the sequence did not succeed"}
                continue
            if name in deliveries:
                folder.deliver(*deliveries[name])
            figures[name] = self.timed_refresh(folder, env, name)
            self.save()
        if all(f.get("status") == "ok" for f in figures.values()):
            self.repeat(folder, env, snapshot, figures)

    def timed_refresh(self, folder: ScaleFolder, env: dict[str, str], name: str) -> dict:
        self.log(f"scale {folder.path.name.removeprefix('scale_')}: refresh ({name.replace('_', ' ')})")
        since = time.time()
        measured = self.measure(self.python("-m", "orchestration.refresh"), env)
        figures = measured.figures()
        if not measured.ok and measured.status == "failed":
            # The refresh ends its output with what failed; Dagster's logs and stack traces go to stderr.
            figures["error"] = (measured.stdout.strip() or measured.stderr.strip()).splitlines()[-5:]
        figures.update(stage_times(folder.data / "dagster_home", since - 1, measured.seconds))
        self.log(f"  {figures['status']} in {measured.seconds:.1f} s, peak {measured.peak_rss_mib:.0f} MiB")
        return figures

    def repeat(self, folder: ScaleFolder, env: dict[str, str], snapshot: str, figures: dict) -> None:
        """Measure each REPEATED refresh until it has `repeats` runs and keep its median run, with every run's
        seconds in `runs_seconds`; the first run that did not succeed is kept instead, if any."""
        runs = {name: [figures[name]] for name in REPEATED}
        for _ in range(self.repeats - 1):
            folder.withdraw("udi", snapshot)
            withdrawn = self.measure(self.python("-m", "orchestration.refresh"), env)  # not timed: the state before
            folder.deliver("udi", snapshot)
            if not withdrawn.ok:
                runs["new_snapshot"].append({**withdrawn.figures(), "note": "the refresh without the snapshot failed"})
                break
            runs["new_snapshot"].append(self.timed_refresh(folder, env, "new_snapshot"))
        for _ in range(self.repeats - 1):
            runs["unchanged"].append(self.timed_refresh(folder, env, "unchanged"))
        for name, measured in runs.items():
            figures[name] = median_run(measured)
        self.save()


def median_run(runs: list[dict]) -> dict:
    """The run of median wall time (of two, the slower), with every run's seconds; the first run that did not
    succeed, if any."""
    failed = [run for run in runs if run.get("status") != "ok"]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda run: run["seconds"])
    return {**ordered[len(ordered) // 2], "runs_seconds": [round(run["seconds"], 2) for run in runs]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 100])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("PANEL_DATA_DIR", "data")) / "bench",
                        help="benchmark folders go here (default $PANEL_DATA_DIR/bench)")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("BENCH_TIMEOUT") or DEFAULT_TIMEOUT),
                        help="seconds any one measurement may take (default $BENCH_TIMEOUT or %(default)s)")
    parser.add_argument("--max-memory-mib", type=float,
                        default=float(os.environ.get("BENCH_MAX_MEMORY_MIB") or default_max_memory_mib()),
                        help="stop a measurement whose process tree exceeds this (default half the machine's memory)")
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "benchmarks" / "results.json")
    parser.add_argument("--markdown", type=Path, default=PROJECT_ROOT / "BENCHMARKS.md")
    parser.add_argument("--before", type=Path, default=PROJECT_ROOT / "benchmarks" / "results_before.json",
                        help="figures of the code before a change, shown beside the new ones if the file exists")
    parser.add_argument("--udi-from", metavar="YYYY-MM-DD",
                        help="generate the UDI history from this snapshot on only (a quick smoke run; default: all)")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                        help="runs of the new-snapshot and nothing-changed refreshes; the median is kept (default %(default)s)")
    parser.add_argument("--caveat", action="append", default=[],
                        help="a caveat printed with the figures (repeatable), e.g. what else ran on the machine")
    args = parser.parse_args(argv)

    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine.describe(),
               "versions": machine.versions(), "seed": args.seed, "timeout_seconds": args.timeout,
               "max_memory_mib": round(args.max_memory_mib), "caveats": args.caveat, "scales": []}
    before = json.loads(args.before.read_text()) if args.before.exists() else None

    def save() -> None:
        for result in results["scales"]:
            result["ratios"] = report.ratios(result)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        args.markdown.write_text(report.markdown(results, before))

    bench = Bench(args.dir.resolve(), args.seed, args.timeout, args.max_memory_mib, save=save, udi_from=args.udi_from,
                  repeats=max(1, args.repeats))
    for scale in args.scales:
        results["scales"].append({"scale": scale})
        bench.run_scale(scale, results["scales"][-1])
        save()
    print(report.markdown(results, before))
    print(f"figures written to {args.json} and {args.markdown}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
