"""Baseline: the plain Splink deduplication an analyst would reach for, on the linkage benchmark's data.

    python -m benchmarks.splink_baseline --scale 1 [--seed N] [--json]

Same population as `benchmarks.linkage_bench` (linkage.synthetic, same scale and seed), same input
rows as the project's linkage (`linkage.run.read_responses`: staging responses with the address
their invitation token was sent to), scored with the same pairwise definition
(`linkage.quality.overall_quality`). Settings are Splink's tutorial defaults: dedupe over all waves
at once, blocking on a couple of attributes, exact-match comparisons from `splink.comparison_library`,
u by random sampling, m by EM, predict, and clusters at the tutorial's 0.95.
"""
from __future__ import annotations

import argparse
import json
import logging
import time

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from benchmarks.linkage_bench import PERSONS_PER_SCALE, _peak_rss_mib
from linkage.quality import overall_quality
from linkage.run import read_responses
from linkage.synthetic import build_population, write_staging

CLUSTER_THRESHOLD = 0.95
SEED = 20220601
COMPARED_COLUMNS = ("email", "gender", "birth_year", "oblast_iso", "arrival_month", "kommune_code_2024",
                    "children_in_norway")


def settings() -> SettingsCreator:
    """What Splink's tutorial suggests for people without names: exact matches, two blocking rules."""
    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("email"), block_on("birth_year", "gender")],
        comparisons=[
            cl.ExactMatch("email"),
            cl.ExactMatch("gender"),
            cl.ExactMatch("birth_year"),
            cl.ExactMatch("oblast_iso"),
            cl.ExactMatch("arrival_month"),
            cl.ExactMatch("kommune_code_2024"),
            cl.ExactMatch("children_in_norway"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def analyst_table(responses: pd.DataFrame) -> pd.DataFrame:
    """One row per response; the e-mail an analyst has is the hash typed, else the one the token was sent to."""
    table = responses[["wave_id", "wave_number", "response_id"]].copy()
    table["unique_id"] = responses["wave_id"] + ":" + responses["response_id"].astype(str)
    table["email"] = responses["email_hash"].fillna(responses["invitation_hash"])
    for column in COMPARED_COLUMNS[1:]:
        table[column] = responses[column].astype(str).where(responses[column].notna(), None)
    return table


def deduplicate(table: pd.DataFrame) -> pd.DataFrame:
    """Splink's predict and clustering: `unique_id, cluster_id` for every row."""
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)
    db_api = DuckDBAPI(":memory:")
    db_api.duckdb_con.register("analyst_frame", table.astype(object).where(table.notna(), None))
    db_api.duckdb_con.execute("CREATE TABLE responses AS SELECT * FROM analyst_frame")
    linker = Linker(db_api.register("responses"), settings(), log_level=None)
    linker.training.estimate_probability_two_random_records_match([block_on("email")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_year", "gender"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=CLUSTER_THRESHOLD)
    return clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]


def score(table: pd.DataFrame, clusters: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pairwise precision/recall/F1 over cross-wave pairs, exactly as the project's linkage is scored."""
    con = duckdb.connect()
    con.register("assigned", table.merge(clusters, on="unique_id"))
    con.register("truth_frame", truth)
    # Only the columns the pairwise definition reads; the project's linkage tables hold more.
    con.execute("CREATE SCHEMA linkage")
    con.execute("""CREATE TABLE linkage.response_persons AS
                   SELECT wave_id, wave_number, response_id::VARCHAR AS response_id,
                          cluster_id::VARCHAR AS person_id, 'splink' AS link_method
                   FROM assigned""")
    con.execute("""CREATE TABLE linkage.truth_responses AS
                   SELECT wave_id, response_id::VARCHAR AS response_id, person_id::VARCHAR AS person_id
                   FROM truth_frame""")
    quality = overall_quality(con)
    con.close()
    return quality


def run(scale: float, mess: float = 1.0, seed: int = SEED) -> dict:
    population = build_population(int(PERSONS_PER_SCALE * scale), seed=seed, mess=mess)
    con = duckdb.connect()
    write_staging(con, population.responses, population.invitations)
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    table = analyst_table(read_responses(con))
    clusters = deduplicate(table)
    seconds = time.perf_counter() - started
    quality = score(table, clusters, population.truth)
    records = len(population.responses)
    return {"scale": scale, "mess": mess, "records": records, "seconds": seconds,
            "records_per_second": records / seconds, "peak_rss_before_mib": rss_before,
            "process_peak_rss_mib": _peak_rss_mib(), "cluster_threshold": CLUSTER_THRESHOLD,
            **{k: quality[k] for k in ("precision", "recall", "f1")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help=f"x {PERSONS_PER_SCALE} persons (default 1)")
    parser.add_argument("--mess", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args(argv)
    figures = run(args.scale, args.mess, args.seed)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"plain Splink baseline: {figures['records']} responses in {figures['seconds']:.2f} s "
              f"({figures['records_per_second']:.0f} records/s), precision {figures['precision']:.4f} "
              f"recall {figures['recall']:.4f} F1 {figures['f1']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
