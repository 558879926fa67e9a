"""Fellegi-Sunter model (Splink on DuckDB) over keyed e-mail encodings and stable attributes.

A new wave's responses (left) are scored against the responses of record of the persons that already
exist (right). The e-mail is compared only through its keyed Bloom encoding (Dice similarity of the
bit sets), never in clear. u probabilities come from random pairs (with enough records), m
probabilities from the wave's token-linked pairs, which are known matches: expectation maximisation
was tried first and converged to households and regions rather than persons. Where there is too little
to train on, the prior parameters below are used as they are. Splink's output is used as Bayes factors;
`linkage.assign.match_posteriors` turns them into probabilities.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

SPLINK_LOGGER_NAMES = ("splink",)
RANDOM_SEED = 20220601
MIN_RECORDS_TO_TRAIN = 200
# Random pairs for the u probabilities: plenty for seven comparisons, and fast at panel sizes.
U_SAMPLE_PAIRS = 8e5
# Pairs below this probability (at the fixed prior below) are not even returned: far too weak to link.
CANDIDATE_FLOOR = 0.001

# Dice at or above which two encodings are one address mistyped: every typo of the synthetic generator
# (misspelt domain, dropped or swapped letter) scores >= 0.8, about 0.2% of random address pairs do.
TYPO_DICE = 0.8
DICE_SQL = "(2.0 * bit_count(email_bloom_l & email_bloom_r) / (bloom_ones_l + bloom_ones_r))"


def _level(sql: str, label: str, m: float, u: float, null: bool = False) -> dict:
    level = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    else:
        level.update(m_probability=m, u_probability=u)
    return level


def _comparison(name: str, levels: list[dict]) -> dict:
    return {"output_column_name": name, "comparison_levels": levels}


def _exact_comparison(col: str, m_exact: float, u_exact: float) -> dict:
    return _comparison(col, [
        _level(f"{col}_l IS NULL OR {col}_r IS NULL", "null", 0, 0, null=True),
        _level(f"{col}_l = {col}_r", "exact", m_exact, u_exact),
        _level("ELSE", "different", 1 - m_exact, 1 - u_exact),
    ])


def comparisons() -> list[dict]:
    """Comparison levels with prior m/u probabilities (used untrained on small inputs)."""
    return [
        _comparison("email", [
            _level("email_bloom_l IS NULL OR email_bloom_r IS NULL", "null", 0, 0, null=True),
            # Priors for open-link answers (token answers carry no typed address, so labels never
            # train these): most retype the same address, some mistype it, some changed it.
            _level("email_hash_l = email_hash_r", "same keyed hash", 0.6, 0.0002),
            _level(f"{DICE_SQL} >= {TYPO_DICE}", f"dice >= {TYPO_DICE} (typo)", 0.12, 0.002),
            _level("ELSE", "different", 0.28, 0.9978),
        ]),
        _exact_comparison("gender", 0.97, 0.5),
        _comparison("birth_year", [
            _level("birth_year_l IS NULL OR birth_year_r IS NULL", "null", 0, 0, null=True),
            _level("birth_year_l = birth_year_r", "exact", 0.93, 0.02),
            _level("abs(birth_year_l - birth_year_r) <= 1", "within 1 year", 0.05, 0.04),
            _level("ELSE", "different", 0.02, 0.94),
        ]),
        _exact_comparison("oblast_iso", 0.9, 0.08),
        _comparison("arrival_index", [
            _level("arrival_index_l IS NULL OR arrival_index_r IS NULL", "null", 0, 0, null=True),
            _level("arrival_index_l = arrival_index_r", "same month", 0.9, 0.04),
            _level("abs(arrival_index_l - arrival_index_r) <= 2", "within 2 months", 0.07, 0.12),
            _level("ELSE", "different", 0.03, 0.84),
        ]),
        _exact_comparison("kommune_code_2024", 0.6, 0.05),
        # Beyond the listed stable attributes: questionnaire language and where the partner lives
        # rarely change and separate look-alikes; their m and u are learnt like the others.
        _exact_comparison("language", 0.9, 0.5),
        _exact_comparison("partner_location", 0.8, 0.35),
        _comparison("children_in_norway", [
            _level("children_in_norway_l IS NULL OR children_in_norway_r IS NULL", "null", 0, 0, null=True),
            _level("children_in_norway_l = children_in_norway_r", "exact", 0.75, 0.4),
            _level("abs(children_in_norway_l - children_in_norway_r) <= 1", "within 1", 0.2, 0.3),
            _level("ELSE", "different", 0.05, 0.3),
        ]),
    ]


BLOCKING_RULES = [
    block_on("birth_year", "gender"),
    block_on("oblast_iso", "arrival_index"),
    block_on("email_hash"),
    block_on("birth_year", "arrival_index"),
]


@dataclass
class ScoredPairs:
    """Candidate pairs `entity_id, record_id, log2_bayes_factor` and the model that scored them."""

    pairs: pd.DataFrame
    parameters: dict


def _silence_splink() -> None:
    for name in SPLINK_LOGGER_NAMES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _load_side(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, id_column: str) -> None:
    # Plain Python values with None for missing, so DuckDB infers clean column types.
    frame = frame.astype(object).where(frame.notna(), None)
    con.register(f"{name}_frame", frame)
    con.execute(f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT {id_column}::VARCHAR AS unique_id, gender::VARCHAR AS gender,
               birth_year::INTEGER AS birth_year, oblast_iso::VARCHAR AS oblast_iso,
               year(arrival_month::DATE) * 12 + month(arrival_month::DATE) AS arrival_index,
               kommune_code_2024::VARCHAR AS kommune_code_2024,
               children_in_norway::INTEGER AS children_in_norway, language::VARCHAR AS language,
               partner_location::VARCHAR AS partner_location, email_hash::VARCHAR AS email_hash,
               email_bloom::VARCHAR::BIT AS email_bloom, bit_count(email_bloom::VARCHAR::BIT) AS bloom_ones
        FROM {name}_frame
    """)
    con.unregister(f"{name}_frame")


# Splink's prior only scales every pair alike; the decision uses the Bayes factors (see linkage.assign),
# so this value just has to keep the candidate floor loose enough.
PRIOR_MATCH_PROBABILITY = 0.01
MIN_LABELS_FOR_M = 30


def _register_labels(con: duckdb.DuckDBPyConnection, labels: list[tuple[str, str]]) -> None:
    con.register("labels_frame", pd.DataFrame(labels, columns=["unique_id_l", "unique_id_r"]))
    con.execute("""CREATE OR REPLACE TABLE link_labels AS
                   SELECT 'new_responses' AS source_dataset_l, unique_id_l::VARCHAR AS unique_id_l,
                          'earlier_records' AS source_dataset_r, unique_id_r::VARCHAR AS unique_id_r
                   FROM labels_frame""")
    con.unregister("labels_frame")


def _train(linker: Linker, con, n_left: int, n_right: int, labels: list[tuple[str, str]]) -> dict:
    """u from random pairs; m from the token-linked pairs of this wave (known matches), because EM on
    refugee data converges to households and regions instead of persons. Small inputs keep the priors."""
    trained = {"u": False, "m": False, "labels": len(labels)}
    if min(n_left, n_right) >= MIN_RECORDS_TO_TRAIN:
        linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=RANDOM_SEED)
        trained["u"] = True
    if len(labels) >= MIN_LABELS_FOR_M:
        _register_labels(con, labels)
        linker.training.estimate_m_from_pairwise_labels("link_labels")
        trained["m"] = True
    return trained


def score_pairs(left: pd.DataFrame, right: pd.DataFrame, labels: list[tuple[str, str]] = ()) -> ScoredPairs:
    """Score new-wave entities (`entity_id`) against earlier records (`record_id`) with Splink.

    Both frames carry gender, birth_year, oblast_iso, arrival_month, kommune_code_2024,
    children_in_norway, email_hash and email_bloom (a 0/1 string or NULL). `labels` are known
    matching (entity_id, record_id) pairs used to estimate the m probabilities. Returns, per candidate
    pair, `log2_bayes_factor`: the summed match weights of the comparisons, without the prior.
    """
    _silence_splink()
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        probability_two_random_records_match=PRIOR_MATCH_PROBABILITY,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    if left.empty or right.empty:
        empty = pd.DataFrame({"entity_id": pd.Series(dtype=str), "record_id": pd.Series(dtype=str),
                              "log2_bayes_factor": pd.Series(dtype=float)})
        return ScoredPairs(empty, {"trained": False, "settings": "no candidate pairs"})
    db_api = DuckDBAPI(":memory:")
    con = db_api.duckdb_con
    _load_side(con, "new_responses", left, "entity_id")
    _load_side(con, "earlier_records", right, "record_id")
    linker = Linker([db_api.register("new_responses", dataset_display_name="new_responses"),
                     db_api.register("earlier_records", dataset_display_name="earlier_records")],
                    settings, log_level=None)
    trained = _train(linker, con, len(left), len(right), list(labels))
    predictions = linker.inference.predict(threshold_match_probability=CANDIDATE_FLOOR)
    pairs = _orient_pairs(predictions.as_pandas_dataframe(), set(left["entity_id"].astype(str)))
    model = linker.misc.save_model_to_json()
    con.close()
    return ScoredPairs(pairs, {"trained": trained, "splink_model": model})


def _orient_pairs(pairs: pd.DataFrame, entity_ids: set[str]) -> pd.DataFrame:
    """Splink chooses which side of a pair is `_l`; return each pair as (new entity, earlier record)."""
    left_is_new = pairs["unique_id_l"].astype(str).isin(entity_ids)
    out = pd.DataFrame({
        "entity_id": pairs["unique_id_l"].where(left_is_new, pairs["unique_id_r"]),
        "record_id": pairs["unique_id_r"].where(left_is_new, pairs["unique_id_l"]),
        "log2_bayes_factor": pairs["match_weight"].astype(float) - math.log2(
            PRIOR_MATCH_PROBABILITY / (1 - PRIOR_MATCH_PROBABILITY)),
    })
    return out.reset_index(drop=True)
