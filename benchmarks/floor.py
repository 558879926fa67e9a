"""Baseline: the floor. DuckDB reads the raw survey files and computes aspiration_by_wave's coarse shares in one pass.

    python -m benchmarks.floor --raw data/raw [--json]

No validation, linkage, weights or checks: the least any pipeline must do to answer the headline
question, so a refresh's time can be read as a multiple of it. Which column holds what comes from
the project's codebook seeds (the same files ingest and dbt read), so new waves need no change here.
Shares are among complete responses in Norway, every response counted (no deduplication).
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat

CODEBOOK = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "codebook"
CONCEPTS = ("is_complete", "country_now", "aspiration")
# Codes are compared as upper-case text without a trailing ".0" (SPSS numbers, Excel booleans).
NORMALISED = "regexp_replace(upper(trim(CAST({} AS VARCHAR))), '\\.0$', '')"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def wave_layouts() -> dict[str, str]:
    return {row["wave_id"]: row["layout"] for row in _rows(CODEBOOK / "survey_waves.csv")}


def source_columns() -> dict[tuple[str, str], str]:
    """(layout, concept) -> the column of the raw file that holds it."""
    return {(row["layout"], row["concept"]): row["source_variable"] for row in _rows(CODEBOOK / "codebook_variables.csv")
            if row["concept"] in CONCEPTS}


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def register_wave(con: duckdb.DuckDBPyConnection, name: str, responses: Path) -> None:
    """The raw file as a DuckDB relation: CSV read by DuckDB itself, Excel and SPSS through pandas."""
    suffix = responses.suffix.lower()
    if suffix == ".csv":
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv({_literal(responses)}, all_varchar = true, "
                    "header = true)")
    elif suffix == ".xlsx":
        con.register(name, pd.read_excel(responses, dtype=object))
    elif suffix == ".sav":
        con.register(name, pyreadstat.read_sav(str(responses))[0])
    else:
        raise ValueError(f"{responses}: no reader for {suffix} files")


def wave_select(name: str, wave_id: str, layout: str, columns: dict[tuple[str, str], str]) -> str:
    def column(concept: str) -> str:
        source = columns.get((layout, concept))
        return NORMALISED.format(f'"{source}"') if source else "NULL"

    return (f"SELECT '{wave_id}' AS wave_id, '{layout}' AS layout, {column('is_complete')} AS is_complete, "
            f"{column('country_now')} AS country_now, {column('aspiration')} AS aspiration FROM {name}")


def responses_file(wave_dir: Path) -> Path:
    found = sorted(wave_dir.glob("responses.*"))
    if not found:
        raise FileNotFoundError(f"{wave_dir}: no responses.csv|xlsx|sav")
    return found[0]


def coarse_shares(raw: Path) -> list[tuple]:
    """(wave_id, aspiration_coarse, n, share) for every wave folder under `raw/survey`."""
    layouts, columns = wave_layouts(), source_columns()
    con = duckdb.connect()
    con.execute(f"CREATE VIEW codes AS SELECT layout, concept, {NORMALISED.format('source_value')} AS code, "
                f"concept_value FROM read_csv({_literal(CODEBOOK / 'codebook_values.csv')}, all_varchar = true)")
    selects = []
    for number, wave_dir in enumerate(sorted(p for p in (raw / "survey").iterdir() if p.is_dir())):
        if wave_dir.name not in layouts:
            raise ValueError(f"{wave_dir}: wave not in {CODEBOOK / 'survey_waves.csv'}")
        register_wave(con, f"wave_{number}", responses_file(wave_dir))
        selects.append(wave_select(f"wave_{number}", wave_dir.name, layouts[wave_dir.name], columns))
    decoded = {concept: f"(SELECT concept_value FROM codes c WHERE c.layout = r.layout AND c.concept = '{concept}' "
                        f"AND c.code = r.{concept})" for concept in CONCEPTS}
    return con.execute(f"""
        WITH responses AS ({' UNION ALL '.join(selects)}),
        decoded AS (
            SELECT wave_id, {decoded['is_complete']} AS is_complete, {decoded['country_now']} AS country_now,
                   {decoded['aspiration']} AS aspiration
            FROM responses r
        )
        SELECT wave_id,
               CASE WHEN aspiration IN ('return_asap', 'stay_norway') THEN aspiration ELSE 'undecided' END AS coarse,
               count(*) AS n, count(*) / sum(count(*)) OVER (PARTITION BY wave_id) AS share
        FROM decoded
        WHERE is_complete = 'true' AND coalesce(country_now, 'norway') = 'norway' AND aspiration IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2
    """).fetchall()


def run(raw: Path) -> dict:
    started = time.perf_counter()
    cpu_started = time.process_time()
    shares = coarse_shares(raw)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started,
            "waves": len({wave for wave, *_ in shares}), "responses_counted": sum(n for _, _, n, _ in shares),
            "shares": [[wave, coarse, n, share] for wave, coarse, n, share in shares]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True, help="raw folder with survey/<wave>/responses.*")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    figures = run(args.raw)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"floor: {figures['responses_counted']} responses of {figures['waves']} waves in "
              f"{figures['seconds']:.3f} s")
        for wave, coarse, n, share in figures["shares"]:
            print(f"  {wave} {coarse:<12} {n:>7} {share:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
