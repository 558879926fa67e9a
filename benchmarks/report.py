"""BENCHMARKS.md from the benchmark's figures: one table per scale, the issue's targets beside them."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.stages import STAGES, stage_of

MIB_PER_GIB = 1024


def _get(result: dict, *path: str):
    value = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ok(result: dict, *path: str) -> dict | None:
    figures = _get(result, *path)
    return figures if isinstance(figures, dict) and figures.get("status") == "ok" else None


def _divide(a, b):
    return a / b if a is not None and b else None


def ratios(result: dict) -> dict:
    """Refresh time as a multiple of the floor on the same raw files; linkage against plain Splink."""
    floor_cold = _get(result, "floor", "cold_data", "seconds") if _ok(result, "floor", "cold_data") else None
    floor_full = _get(result, "floor", "full_data", "seconds") if _ok(result, "floor", "full_data") else None

    def refresh_seconds(name: str):
        figures = _ok(result, "refreshes", name)
        return figures["seconds"] if figures else None

    linkage, splink = _ok(result, "linkage"), _ok(result, "splink_baseline")
    return {
        "cold_vs_floor": _divide(refresh_seconds("cold"), floor_cold),
        "new_snapshot_vs_floor": _divide(refresh_seconds("new_snapshot"), floor_cold),
        "new_wave_vs_floor": _divide(refresh_seconds("new_wave"), floor_full),
        "unchanged_vs_floor": _divide(refresh_seconds("unchanged"), floor_full),
        "linkage_speed_vs_splink": _divide(linkage and linkage["records_per_second"],
                                           splink and splink["records_per_second"]),
        "linkage_f1_minus_splink": linkage["f1"] - splink["f1"] if linkage and splink else None,
    }


Target = tuple[float, str, Callable[[dict], "bool | None"]]  # (scale, text, met?)


@dataclass(frozen=True)
class Row:
    """One line of a scale's table: how to read the figure, how to print it, and the issue's targets."""

    label: str
    value: Callable[[dict], object]
    fmt: Callable[[object], str]
    memory: Callable[[dict], object] = lambda result: None
    targets: tuple[Target, ...] = ()

    def target_at(self, scale: float) -> Target | None:
        return next((target for target in self.targets if target[0] == scale), None)

    def target_text(self, scale: float) -> str:
        if (target := self.target_at(scale)) is not None:
            return target[1]
        return "; ".join(f"(scale {s:g}: {text})" for s, text, _ in self.targets)


def _seconds(value) -> str:
    return f"{value:.1f} s" if isinstance(value, (int, float)) else str(value)


def _times(value) -> str:
    return f"{value:.0f} x" if isinstance(value, (int, float)) else str(value)


def _rate(value) -> str:
    return f"{value:,.0f} /s" if isinstance(value, (int, float)) else str(value)


def _mib(value) -> str:
    if not isinstance(value, (int, float)):
        return ""
    return f"{value / MIB_PER_GIB:.2f} GiB" if value >= MIB_PER_GIB else f"{value:.0f} MiB"


def _measured(*path: str, key: str = "seconds") -> Callable[[dict], object]:
    """A figure of a measured step, or why there is none (timed out, memory limit, failed, not run)."""
    def read(result: dict):
        figures = _get(result, *path)
        if not isinstance(figures, dict):
            return None
        if figures.get("status") != "ok":
            return figures.get("note") or figures.get("status")
        return figures.get(key)
    return read


def _quality(path: str) -> Callable[[dict], object]:
    def read(result: dict):
        figures = _ok(result, path)
        return figures and (figures["precision"], figures["recall"], figures["f1"])
    return read


def _pr(value) -> str:
    return "P {:.4f} / R {:.4f} / F1 {:.4f}".format(*value) if isinstance(value, tuple) else str(value)


def _under(value, limit) -> bool | None:
    return value < limit if isinstance(value, (int, float)) else None


def _tree_peak(*path: str) -> Callable[[dict], object]:
    return lambda result: (_ok(result, *path) or {}).get("peak_rss_mib") or (_ok(result, *path) or {}).get(
        "process_peak_rss_mib")


def _cold_at_100(r: dict) -> bool | None:
    seconds, peak = _measured("refreshes", "cold")(r), _tree_peak("refreshes", "cold")(r)
    return _under(seconds, 300) and _under(peak, 4096)


def _linkage_at_100(r: dict) -> bool | None:
    rate, peak = _measured("linkage", key="records_per_second")(r), _tree_peak("linkage")(r)
    return isinstance(rate, (int, float)) and rate >= 20000 and _under(peak, 4096)


def _fmt_ratio(value) -> str:
    return f"{value:.2f} x" if isinstance(value, float) else str(value)


def _runs_note(result: dict, refresh: str) -> str:
    """`(median of 3 runs: 14.9, 15.2, 16.4 s)` for a refresh measured more than once, else nothing."""
    runs = _get(result, "refreshes", refresh, "runs_seconds") or []
    if len(runs) < 2:
        return ""
    return f" (median of {len(runs)} runs: {', '.join(f'{run:.1f}' for run in runs)} s)"


def figure_rows(result: dict) -> list[Row]:
    cold = _measured("refreshes", "cold")
    rows = [
        Row("cold refresh (without the newest snapshot and the last wave)", cold, _seconds,
            _tree_peak("refreshes", "cold"),
            ((1, "< 30 s", lambda r: _under(cold(r), 30)), (100, "< 300 s and < 4 GiB", _cold_at_100))),
        Row("cold refresh / floor", lambda r: r["ratios"]["cold_vs_floor"], _times,
            targets=((1, "<= 40 x", lambda r: _under(r["ratios"]["cold_vs_floor"], 40.0001)),)),
        Row("refresh after one new UDI snapshot" + _runs_note(result, "new_snapshot"),
            _measured("refreshes", "new_snapshot"), _seconds,
            _tree_peak("refreshes", "new_snapshot"),
            ((1, "< 15 s", lambda r: _under(_measured("refreshes", "new_snapshot")(r), 15)),)),
        Row("refresh after one new wave", _measured("refreshes", "new_wave"), _seconds,
            _tree_peak("refreshes", "new_wave")),
        Row("refresh with nothing changed" + _runs_note(result, "unchanged"), _measured("refreshes", "unchanged"),
            _seconds,
            _tree_peak("refreshes", "unchanged"),
            ((1, "< 10 s", lambda r: _under(_measured("refreshes", "unchanged")(r), 10)),)),
        Row("refresh with nothing changed / floor", lambda r: r["ratios"]["unchanged_vs_floor"], _times,
            targets=((1, "<= 15 x", lambda r: _under(r["ratios"]["unchanged_vs_floor"], 15.0001)),)),
        Row("linkage (project), records per second", _measured("linkage", key="records_per_second"), _rate,
            _tree_peak("linkage"), ((100, ">= 20,000 /s and < 4 GiB", _linkage_at_100),)),
        Row("linkage (project), quality", _quality("linkage"), _pr,
            targets=((100, "P >= 0.995, R >= 0.97", lambda r: (q := _quality("linkage")(r)) is not None
                      and q[0] >= 0.995 and q[1] >= 0.97),)),
        Row("plain Splink baseline, records per second", _measured("splink_baseline", key="records_per_second"), _rate,
            _tree_peak("splink_baseline")),
        Row("plain Splink baseline, quality", _quality("splink_baseline"), _pr),
        Row("linkage speed / plain Splink", lambda r: r["ratios"]["linkage_speed_vs_splink"], _fmt_ratio,
            targets=((100, "> 1 x", lambda r: _under(1, r["ratios"]["linkage_speed_vs_splink"] or 0)),)),
        Row("linkage F1 - plain Splink F1", lambda r: r["ratios"]["linkage_f1_minus_splink"],
            lambda v: f"{v:+.4f}" if isinstance(v, float) else str(v),
            targets=((100, ">= 0", lambda r: (d := r["ratios"]["linkage_f1_minus_splink"]) is not None and d >= 0),)),
        Row("floor: DuckDB over the raw survey files (cold refresh's data)", _measured("floor", "cold_data"),
            lambda v: f"{v:.3f} s" if isinstance(v, float) else str(v), _tree_peak("floor", "cold_data")),
        Row("floor: DuckDB over the raw survey files (all waves)", _measured("floor", "full_data"),
            lambda v: f"{v:.3f} s" if isinstance(v, float) else str(v), _tree_peak("floor", "full_data")),
    ]
    for name in sorted(result.get("queries") or {}):
        rows.append(Row(f"README query `{name}` (median of {result['queries'][name]['runs']})",
                        lambda r, n=name: _get(r, "queries", n, "median_ms"),
                        lambda v: f"{v:.1f} ms" if isinstance(v, (int, float)) else str(v),
                        targets=((100, "< 100 ms", lambda r, n=name: _under(_get(r, "queries", n, "median_ms"), 100)),)))
    return rows


def _cell(row: Row, result: dict | None, part: str) -> str:
    if result is None:
        return ""
    try:
        if part == "value":
            value = row.value(result)
            return "" if value is None else row.fmt(value)
        return _mib(row.memory(result))
    except (KeyError, TypeError):
        return ""


def _met(row: Row, result: dict) -> str:
    target = row.target_at(result["scale"])
    if target is None:
        return ""
    try:
        met = target[2](result)
    except (KeyError, TypeError):
        met = None
    return "" if met is None else ("yes" if met else "**no**")


def scale_table(result: dict, before: dict | None) -> list[str]:
    header = "| figure | value | peak memory | target | met |"
    rule = "|---|---|---|---|---|"
    if before:
        header, rule = header + " before | peak memory before |", rule + "---|---|"
    lines = [header, rule]
    for row in figure_rows(result):
        line = (f"| {row.label} | {_cell(row, result, 'value')} | {_cell(row, result, 'memory')} | "
                f"{row.target_text(result['scale'])} | "
                f"{_met(row, result)} |")
        if before:
            line += f" {_cell(row, before, 'value')} | {_cell(row, before, 'memory')} |"
        lines.append(line)
    return lines


def stage_table(result: dict) -> list[str]:
    refreshes = result.get("refreshes") or {}
    names = list(refreshes)
    lines = ["| seconds | " + " | ".join(n.replace("_", " ") for n in names) + " |",
             "|---|" + "---|" * len(names)]
    rows = list(STAGES) + ["other steps", "dagster run overhead", "outside runs"]
    for stage in rows:
        cells = [_get(refreshes[n], "stages", stage) for n in names]
        label = stage
        if stage == "other steps":
            if not any(cells):
                continue
            others = sorted({key for n in names for key in (_get(refreshes[n], "steps") or {}) if stage_of(key) == stage})
            label = f"other steps ({', '.join(others)})"
        lines.append(f"| {label} | " + " | ".join("" if c is None else f"{c:.1f}" for c in cells) + " |")
    lines.append("| **wall time** | " + " | ".join(
        _seconds(refreshes[n]["seconds"]) if refreshes[n].get("status") == "ok" else refreshes[n].get("status", "")
        for n in names) + " |")
    lines.append("| Dagster runs | " + " | ".join(str(_get(refreshes[n], "runs") or "") for n in names) + " |")
    lines.append("| load average at start | " + " | ".join(str(_get(refreshes[n], "load_before") or "")
                                                        for n in names) + " |")
    return lines


def _data_line(result: dict) -> str:
    data = result.get("data") or {}
    rows = sum((data.get("survey_rows") or {}).values())
    held = result.get("held_back") or {}
    return (f"{data.get('persons') or '?'} persons, {rows} survey rows in {len(data.get('waves') or [])} waves, "
            f"{data.get('udi_snapshots') or '?'} UDI snapshots; held back for the cold refresh: "
            f"snapshot {held.get('udi_snapshot', '?')} and wave {held.get('wave', '?')}.")


INTRO = """# Benchmarks

Written by `make bench` (`benchmarks/bench.py`; figures also in `benchmarks/results.json`). Nothing here is
asserted by a test: `tests/test_benchmarks_smoke.py` only checks that every figure is produced.

How each figure is measured, per scale (`--scale` of the generator, 1 = the default data set):

- **Refreshes** run `python -m orchestration.refresh` (what `make refresh` runs) in a subprocess with their
  own `PANEL_DATA_DIR`, `DAGSTER_HOME` and a benchmark HMAC key, on generated data in `<dir>/scale_<S>/`
  (default `$PANEL_DATA_DIR/bench`). The sequence: a **cold** refresh (new Dagster instance, no build, no
  published file) of the data without the newest UDI snapshot and the last wave; the newest snapshot
  folder is added and the data refreshed; the last wave is added and refreshed; then a refresh with
  **nothing changed**. Data generation and installation are not timed. The new-snapshot and
  nothing-changed refreshes are measured `--repeats` times (3 unless asked otherwise; the snapshot is
  withdrawn and refreshed, untimed, before each further delivery) and the run of median wall time is
  reported, with every run's seconds: one run of these short refreshes varies by a fifth or more.
- **Peak memory** is the summed resident memory of the process tree (the refresh and the dbt processes it
  starts), sampled every 0.1 s from /proc.
- **Stages** come from the Dagster event log of the benchmark's instance: step start to step end, each
  step classified by name (ingest, linkage, weights, dbt, checks, publication; steps matching none are
  named). dbt's own tests run inside the dbt steps and pandera inside the ingest steps; "checks" are the
  Great Expectations and freshness steps; an asset check run as its own step counts with its asset. "dagster run overhead" is time inside runs but outside steps; "outside runs" is the rest of the
  wall time (Python start-up, imports, loading the definitions).
- **Linkage** is `benchmarks.linkage_bench` (its own synthetic population of scale x 2,000 persons in the
  staging shape, three waves); **plain Splink** (`benchmarks.splink_baseline`) deduplicates the same
  population with Splink's tutorial-style settings (`dedupe_only`, blocking on e-mail hash and on birth
  year + gender, `ExactMatch` comparisons, u by random sampling, m by EM, clusters at 0.95). Both are
  scored by the same pairwise cross-wave precision/recall/F1 (`linkage.quality`).
- **Floor** (`benchmarks.floor`): DuckDB reads the raw survey files (CSV directly; XLSX and SAV through
  pandas/pyreadstat) and computes `aspiration_by_wave`'s coarse shares in one pass, timed from the first
  read to the result. Ratios divide a refresh's wall time by the floor on the same raw files.
- **README queries**: every `-- example:` block of the README on the published file, opened read-only,
  one warm-up and the median of five runs.
- Each measurement stops at `BENCH_TIMEOUT` seconds or at a memory limit (half the machine's memory) and is
  recorded as "timed out after N s" / "stopped at N MiB" instead.
- `benchmarks/results_before.json` keeps the figures of the code before a change; when it exists and is
  another run, every table gets "before" columns beside the new figures. `python -m benchmarks.report`
  writes this page again from the saved figures.
"""


def busy_machine_caveat(results: dict) -> str | None:
    """A caveat when the 1-minute load average was above the cores at the start of the run or of a measurement.
    Before the first measurement that is other work; later it is mostly what the preceding measurement left,
    since the average decays over a minute or more, so the caveat says which."""
    cores = results["machine"]["cores"] or 1
    first = results["machine"]["load_average_at_start"][0]
    later = [figures.get("load_before", 0) for scale in results["scales"]
             for figures in (scale.get("refreshes") or {}).values()]
    if first > cores:
        return (f"the machine was busy before the benchmark started: 1-minute load average {first:.1f} on {cores} "
                "cores, so wall times are longer than on a quiet machine; compare runs with similar load")
    if max(later, default=0) > cores:
        return (f"the 1-minute load average reached {max(later):.1f} on {cores} cores at the start of a measurement "
                "(see \"load average at start\" below): mostly the load the preceding measurement left, as the "
                "average decays over a minute or more, unless other work ran; compare runs with similar load")
    return None


def markdown(results: dict, before: dict | None = None) -> str:
    if before and (before.get("date"), before.get("versions")) == (results.get("date"), results.get("versions")):
        before = None  # the same run: nothing to compare with
    machine, versions = results["machine"], results["versions"]
    lines = [INTRO, "## This run", "",
             f"- Date: {results['date']}; project commit `{versions.get('project_commit')}`",
             f"- Machine: {machine['cores']} cores, {machine['memory_gib']} GiB memory, {machine['cpu']}; {machine['os']}",
             f"- Load average at start: {', '.join(str(x) for x in machine['load_average_at_start'])} "
             "(1, 5, 15 min)",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if k != "project_commit"),
             f"- Limits: {results['timeout_seconds']:.0f} s and {results['max_memory_mib']} MiB per measurement; "
             f"seed {results['seed']}"]
    caveats = list(results.get("caveats") or []) + [c for c in [busy_machine_caveat(results)] if c]
    lines += [f"- Caveat: {caveat}" for caveat in caveats]
    if before:
        lines.append(f"- \"before\" columns: the run of {before['date']} (commit "
                     f"`{before['versions'].get('project_commit')}`), from `benchmarks/results_before.json`")
    before_by_scale = {s["scale"]: s for s in (before or {}).get("scales", [])}
    for result in results["scales"]:
        lines += ["", f"## Scale {result['scale']:g}", ""]
        if "generation" not in result:
            lines.append("Not measured (the run stopped before this scale).")
            continue
        if result["generation"].get("status") != "ok":
            lines.append(f"Data generation did not succeed: {result['generation'].get('note') or result['generation']}")
            continue
        lines += [_data_line(result), ""]
        lines += scale_table(result, before_by_scale.get(result["scale"]))
        if result.get("refreshes"):
            lines += ["", "Time per stage of each refresh (seconds):", ""] + stage_table(result)
    if len(results["scales"]) > 1:
        lines += ["", "## Across scales", "", "Per-row cost should not grow with the data; linkage recall must not fall.", ""]
        lines += across_scales(results["scales"])
    return "\n".join(lines) + "\n"


def across_scales(scales: list[dict]) -> list[str]:
    lines = ["| scale | persons | cold refresh | nothing changed | linkage | linkage recall | plain Splink |",
             "|---|---|---|---|---|---|---|"]
    for result in scales:
        linkage = _ok(result, "linkage") or {}
        splink = _ok(result, "splink_baseline") or {}
        cells = [f"{result['scale']:g}", str(_get(result, "data", "persons") or ""),
                 _seconds(_measured("refreshes", "cold")(result) or ""),
                 _seconds(_measured("refreshes", "unchanged")(result) or ""),
                 _rate(linkage.get("records_per_second", "")), f"{linkage['recall']:.4f}" if linkage else "",
                 _rate(splink.get("records_per_second", ""))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Write BENCHMARKS.md again from saved figures (e.g. with another run's figures as "before")."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--results", type=Path, default=root / "benchmarks" / "results.json")
    parser.add_argument("--before", type=Path, default=root / "benchmarks" / "results_before.json")
    parser.add_argument("--markdown", type=Path, default=root / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    before = json.loads(args.before.read_text()) if args.before.exists() else None
    args.markdown.write_text(markdown(results, before))
    print(f"written {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
