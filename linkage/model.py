"""Fellegi-Sunter model (Splink on DuckDB) over keyed e-mail encodings and stable attributes.

A new wave's responses (left) are scored against the responses of record of the persons that already
exist (right). The e-mail is compared only through its keyed Bloom encoding (Dice similarity of the
bit sets), never in clear. u probabilities come from random pairs (with enough records), m
probabilities from the wave's token-linked pairs, which are known matches, for every comparison level
(smoothed towards the prior, `comparisons_with_labels`): expectation maximisation was tried first and
converged to households and regions rather than persons. Where there is too little
to train on, the prior parameters below are used as they are. Splink's output is used as Bayes factors;
`linkage.assign.match_posteriors` turns them into probabilities.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

SPLINK_LOGGER_NAMES = ("splink",)
RANDOM_SEED = 20220601
MIN_RECORDS_TO_TRAIN = 200
# Random pairs for the u probabilities: plenty for seven comparisons, and fast at panel sizes.
U_SAMPLE_PAIRS = 8e5
# Pairs below this probability are not even returned: far too weak to link. Splink's prior is that of
# one given earlier record (1 / earlier records, `prior_match_probability`), so the floor keeps a pair
# only if its Bayes factor is at least about a thousandth of the number of earlier records: its posterior
# in `linkage.assign.match_posteriors` stays below 0.001 pi / (1 - pi) otherwise. A fixed prior kept
# every pair with a Bayes factor above 0.1, about 6 per record at scale 30 and growing with the panel.
CANDIDATE_FLOOR = 0.001
# At most this many scored records per new response, the strongest first: a hard bound on memory
# whatever the population (scale 30: at most 15 above the floor, 99% of responses 8 or fewer).
MAX_PAIRS_PER_RESPONSE = 30
# New responses per Splink prediction chunk: each chunk's blocked pairs are dropped before the next
# is blocked, so DuckDB never holds more than about this many responses' pairs (scale 100: 2 chunks per
# wave; measured there, one run each: 40,000 per chunk 67.9 s at 3.28 GiB, 70,000 63.8 s at 3.35 GiB,
# one chunk 58.9 s at 3.82 GiB, too near the 4 GiB budget).
RESPONSES_PER_CHUNK = 70_000

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
            # Priors for open-link answers (token answers carry no typed address, so labels hardly
            # train these; `email_m_by_em` estimates them from the scored pairs): most retype the
            # same address, some mistype it, some changed it.
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


def _born_within_a_year_and(*columns: str) -> list:
    """One rule per birth-year offset (-1, 0, +1) that also asks `columns` to agree: a person's birth
    year may slip by one between waves (rules.MAX_BIRTH_YEAR_GAP) and never more, and equality joins
    keep each block small."""
    agree = " AND ".join(f"l.{c} = r.{c}" for c in columns)
    return [block_on("birth_year", *columns),
            CustomRule(f"l.birth_year = r.birth_year + 1 AND {agree}"),
            CustomRule(f"l.birth_year = r.birth_year - 1 AND {agree}")]


# A pair is compared when it shares the typed address, or agrees on all of birth year (within one),
# gender, oblast and arrival month but one, the municipality standing in for the one that differs.
# Each block holds only people alike in four attributes, so the pairs compared per record stay a
# small share of the panel (the former rules on two attributes, e.g. birth year and gender, compared
# every record with 1% of all earlier records: 2.7 million pairs per wave at scale 10, hundreds of
# millions at scale 100).
BLOCKING_RULES = [
    block_on("email_hash"),
    *_born_within_a_year_and("gender", "oblast_iso", "arrival_index"),
    block_on("birth_year", "gender", "arrival_index", "kommune_code_2024"),  # oblast differs
    block_on("birth_year", "gender", "oblast_iso", "kommune_code_2024"),  # arrival month differs
    block_on("birth_year", "oblast_iso", "arrival_index", "kommune_code_2024"),  # gender differs
]


# Evidence a clerical reviewer may see for a pair: the agreement level of every comparison (by its
# label) and the Dice similarity of the e-mail encodings. Never an address, hash or Bloom filter.
EVIDENCE_COLUMNS = ("email_dice", *(f"{name}_agreement" for name in (
    "email", "gender", "birth_year", "oblast_iso", "arrival_index", "kommune_code_2024", "language",
    "partner_location", "children_in_norway")))


def _side(sql: str) -> str:
    """A comparison condition written for Splink (`col_l`, `col_r`) over the aliases `l` and `r`."""
    return re.sub(r"\b(\w+)_([lr])\b", r"\2.\1", sql)


def _agreement_sql(comparison: dict, as_enum: bool = False) -> str:
    """CASE expression giving the label of the first comparison level whose condition holds; `as_enum`
    types it as an ENUM of the labels, which pandas receives as a categorical column instead of one
    string object per pair (about a gigabyte at scale 100)."""
    labels = [level["label_for_charts"] for level in comparison["comparison_levels"]]
    branches = [f"WHEN {_side(level['sql_condition'])} THEN '{level['label_for_charts']}'"
                for level in comparison["comparison_levels"] if level["sql_condition"] != "ELSE"]
    otherwise = next(level["label_for_charts"] for level in comparison["comparison_levels"]
                     if level["sql_condition"] == "ELSE")
    case = f"CASE {' '.join(branches)} ELSE '{otherwise}' END"
    if as_enum:
        case = f"({case})::ENUM({', '.join(repr(label) for label in labels)})"
    return f"{case} AS {comparison['output_column_name']}_agreement"


def _predict_in_chunks(con: duckdb.DuckDBPyConnection, linker: Linker, chunks: int) -> str:
    """Splink's predictions above CANDIDATE_FLOOR, chunk by chunk (Splink splits one side by a hash of
    the id), into one table whose name is returned; each chunk's blocked pairs and predictions are
    dropped once copied."""
    con.execute("CREATE OR REPLACE TABLE candidate_predictions (unique_id_l VARCHAR, unique_id_r VARCHAR, "
                "source_dataset_l VARCHAR, match_weight DOUBLE)")
    for chunk in range(1, chunks + 1):
        blocked = linker.inference.compute_blocked_pairs_for_predict_chunk(left_chunk=(chunk, chunks))
        predictions = linker.inference.predict_chunk(left_chunk=(chunk, chunks),
                                                     threshold_match_probability=CANDIDATE_FLOOR)
        con.execute(f"""INSERT INTO candidate_predictions
                        SELECT unique_id_l, unique_id_r, source_dataset_l, match_weight FROM {predictions.physical_name}""")
        predictions.drop_table_from_database_and_remove_from_cache()
        blocked.drop_table_from_database_and_remove_from_cache()
    return "candidate_predictions"


def _strongest_pairs_with_evidence(con: duckdb.DuckDBPyConnection, predictions: str, prior: float) -> pd.DataFrame:
    """Splink's predictions as (new entity, earlier record) pairs with their log2 Bayes factor and
    EVIDENCE_COLUMNS, at most MAX_PAIRS_PER_RESPONSE per entity, computed in DuckDB so that only the
    kept pairs ever reach pandas. Splink chooses which side of a pair is `_l`."""
    levels = ", ".join(_agreement_sql(c, as_enum=True) for c in comparisons())
    return con.execute(f"""
        WITH oriented AS (
            SELECT CASE WHEN source_dataset_l = 'new_responses' THEN unique_id_l ELSE unique_id_r END AS entity_id,
                   CASE WHEN source_dataset_l = 'new_responses' THEN unique_id_r ELSE unique_id_l END AS record_id,
                   match_weight::DOUBLE - {math.log2(prior / (1 - prior))!r} AS log2_bayes_factor
            FROM {predictions}
            QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY log2_bayes_factor DESC, record_id)
                    <= {MAX_PAIRS_PER_RESPONSE})
        SELECT p.entity_id, p.record_id, p.log2_bayes_factor, round({_side(DICE_SQL)}, 3) AS email_dice, {levels}
        FROM oriented p
        JOIN new_responses l ON l.unique_id = p.entity_id
        JOIN earlier_records r ON r.unique_id = p.record_id
        ORDER BY p.entity_id, p.record_id
    """).df()


@dataclass
class ScoredPairs:
    """Candidate pairs `entity_id, record_id, log2_bayes_factor` (plus EVIDENCE_COLUMNS) and the model."""

    pairs: pd.DataFrame
    parameters: dict


def _silence_splink() -> None:
    for name in SPLINK_LOGGER_NAMES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _load_side(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, id_column: str) -> None:
    # Plain Python values with None for missing, so DuckDB infers clean column types; date and time
    # columns stay as they are (DuckDB reads NaT as NULL): boxing a panel's arrival months into
    # Timestamp objects took seconds at scale 100.
    dated = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]
    plain = frame.drop(columns=dated)
    frame = plain.astype(object).where(plain.notna(), None).assign(**{c: frame[c] for c in dated})
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


def prior_match_probability(n_earlier_records: int) -> float:
    """Splink's prior: a new response is one given earlier record. It only scales every pair alike (the
    decision uses the Bayes factors, see linkage.assign), so it just sets where CANDIDATE_FLOOR cuts."""
    return 1.0 / max(n_earlier_records, 2)


MIN_LABELS_FOR_M = 30


# Weight, in pairs, of the prior m probabilities when they are updated with the labelled pairs.
M_PRIOR_PAIRS = 1.0


def _label_level_counts(con: duckdb.DuckDBPyConnection, labels: list[tuple[str, str]]) -> dict:
    """How many labelled pairs fall in each level of each comparison (null levels left out)."""
    con.register("labels_frame", pd.DataFrame(labels, columns=["entity_id", "record_id"]).astype(str))
    levels = ", ".join(_agreement_sql(c) for c in comparisons())
    frame = con.execute(f"""
        SELECT {levels} FROM labels_frame p
        JOIN new_responses l ON l.unique_id = p.entity_id
        JOIN earlier_records r ON r.unique_id = p.record_id""").df()
    con.unregister("labels_frame")
    return {c: frame[c].value_counts().to_dict() for c in frame.columns}


def comparisons_with_labels(con: duckdb.DuckDBPyConnection, labels: list[tuple[str, str]]) -> list[dict]:
    """comparisons() with m probabilities from known matching pairs: per comparison, the share of the
    labelled pairs in each level, smoothed towards the prior (Dirichlet with M_PRIOR_PAIRS pairs).

    Every level is estimated, including those no labelled pair falls in: Splink's own label estimate
    leaves such levels at their prior, so a stable attribute that never differs between known matches
    kept a prior m of 0.1 for "different" beside a learnt 1.0 for "exact", and look-alikes scored too high.
    A comparison no labelled pair can inform (the typed e-mail: token answers carry none) keeps its priors.
    """
    counts = _label_level_counts(con, labels)
    out = []
    for comparison in comparisons():
        seen = counts.get(f"{comparison['output_column_name']}_agreement", {})
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        informed = sum(seen.get(level["label_for_charts"], 0) for level in levels)
        if informed:
            for level in levels:
                level["m_probability"] = ((seen.get(level["label_for_charts"], 0) + M_PRIOR_PAIRS * level["m_probability"])
                                          / (informed + M_PRIOR_PAIRS))
        out.append(comparison)
    return out


def _train_u(linker: Linker, n_left: int, n_right: int) -> bool:
    """u from random pairs (small inputs keep the priors)."""
    if min(n_left, n_right) < MIN_RECORDS_TO_TRAIN:
        return False
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=RANDOM_SEED)
    return True


def score_pairs(left: pd.DataFrame, right: pd.DataFrame, labels: list[tuple[str, str]] = ()) -> ScoredPairs:
    """Score new-wave entities (`entity_id`) against earlier records (`record_id`) with Splink.

    Both frames carry gender, birth_year, oblast_iso, arrival_month, kommune_code_2024,
    children_in_norway, email_hash and email_bloom (a 0/1 string or NULL). `labels` are known
    matching (entity_id, record_id) pairs used to estimate the m probabilities. Returns, per candidate
    pair, `log2_bayes_factor`: the summed match weights of the comparisons, without the prior.
    """
    _silence_splink()
    if left.empty or right.empty:
        empty = pd.DataFrame({"entity_id": pd.Series(dtype=str), "record_id": pd.Series(dtype=str),
                              "log2_bayes_factor": pd.Series(dtype=float)})
        empty = empty.assign(**{c: pd.Series(dtype=object) for c in EVIDENCE_COLUMNS})
        return ScoredPairs(empty, {"trained": False, "settings": "no candidate pairs"})
    db_api = DuckDBAPI(":memory:")
    con = db_api.duckdb_con
    _load_side(con, "new_responses", left, "entity_id")
    _load_side(con, "earlier_records", right, "record_id")
    # m from the token-linked pairs of this wave (known matches): EM on refugee data converged to
    # households and regions instead of persons. Few labels keep the priors.
    labels = list(labels)
    trained = {"u": False, "m": len(labels) >= MIN_LABELS_FOR_M, "labels": len(labels)}
    prior = prior_match_probability(len(right))
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=comparisons_with_labels(con, labels) if trained["m"] else comparisons(),
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([db_api.register("new_responses", dataset_display_name="new_responses"),
                     db_api.register("earlier_records", dataset_display_name="earlier_records")],
                    settings, log_level=None)
    trained["u"] = _train_u(linker, len(left), len(right))
    predictions = _predict_in_chunks(con, linker, math.ceil(len(left) / RESPONSES_PER_CHUNK))
    pairs = _strongest_pairs_with_evidence(con, predictions, prior)
    model = linker.misc.save_model_to_json()
    con.close()
    return ScoredPairs(pairs, {"trained": trained, "splink_model": model})



# The e-mail's m probabilities, which no label informs, are estimated by EM on the scored pairs
# themselves (`email_m_by_em`): every other comparison keeps its label-trained m and sampled u, and only
# the share of each e-mail level among the pairs that are one person is re-estimated, smoothed towards
# the prior with this many pairs. Fewer expected matching pairs with an address on both sides than
# MIN_LABELS_FOR_M keep the prior.
EMAIL_M_PRIOR_PAIRS = 30.0
EMAIL_EM_MAX_ITERATIONS = 200
EMAIL_EM_TOLERANCE = 1e-7


def _email_levels(splink_model: dict) -> dict[str, float]:
    """Label -> m probability of the non-null e-mail levels of a saved Splink model."""
    email = next(c for c in splink_model["comparisons"] if c["output_column_name"] == "email")
    return {level["label_for_charts"]: level["m_probability"] for level in email["comparison_levels"]
            if not level.get("is_null_level")}


def split_share_prior(share_prior: tuple[float, float], n_persons: int, n_without_address: int) -> tuple[float, float]:
    """The Beta prior's returning weight split between persons with an address on record and without, by
    their numbers: the same prior per person as one pool (all of it with the first when none lacks one)."""
    if not n_without_address:
        return share_prior[0], 0.0
    return (share_prior[0] * (n_persons - n_without_address) / n_persons,
            share_prior[0] * n_without_address / n_persons)


def email_m_by_em(pairs: pd.DataFrame, m_prior: dict[str, float], n_persons: int, n_entities: int,
                  share_prior: tuple[float, float], m_scored: dict[str, float] | None = None,
                  without_address: frozenset = frozenset()) -> dict[str, float] | None:
    """m probabilities of the e-mail levels estimated by EM over the scored pairs, or None when too few
    pairs with an address on both sides look like matches.

    `pairs` holds `entity_id, person_id, log2_bayes_factor, email_agreement` (every record of a person,
    as scored with the e-mail m `m_scored`, by default `m_prior`); the estimate is smoothed towards
    `m_prior` (EMAIL_M_PRIOR_PAIRS). The mixture is the one of `linkage.assign.match_posteriors`: each entity
    is at most one of `n_persons` persons, with a returning share pi under a Beta `share_prior` for those
    with an address on record and another for those `without_address` (`linkage.assign.Pool`). The E
    step gives each (entity, person) the posterior of its strongest record; the M step sets each
    level's m to its share of the posterior mass of the pairs whose e-mail is compared.

    Why: token answers carry no typed address, so labels never reach these levels and their priors
    (about 0.3 for "different") made look-alikes with another address (every other answer equal) score
    like the same person; on the synthetic panel about 6% of matching pairs with two addresses differ.
    """
    labels = list(m_prior)
    level = pd.Categorical(pairs["email_agreement"].astype(object), categories=labels).codes
    compared = level >= 0
    if not compared.any():
        return None
    m_scored = m_scored or m_prior
    log_scored = np.log2(np.array([m_scored[label] for label in labels]))
    # Bayes factor without the e-mail's m: the rest of the evidence and the e-mail's u.
    base = pairs["log2_bayes_factor"].to_numpy(dtype=float) - np.where(compared, log_scored[level], 0.0)
    entity = pd.factorize(pairs["entity_id"])[0]
    person_key = pd.factorize(pd.Series(pairs["entity_id"].astype(str).to_numpy() + "|"
                                        + pairs["person_id"].astype(str).to_numpy()))[0]
    m = np.array([m_prior[label] for label in labels])
    group = pairs["person_id"].isin(without_address).to_numpy().astype(int)  # 1: no address on record
    sizes = np.maximum(np.array([n_persons - len(without_address), len(without_address)]), 1)
    prior = np.array(split_share_prior(share_prior, n_persons, len(without_address)))
    shares = prior / sum(share_prior)
    for _ in range(EMAIL_EM_MAX_ITERATIONS):
        weight = np.minimum(base + np.where(compared, np.log2(m)[level], 0.0), 200.0)
        # strongest record per (entity, person)
        order = np.lexsort((-weight, person_key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = person_key[order][1:] != person_key[order][:-1]
        best = order[first]
        weighted = (shares / sizes)[group[best]] * np.exp2(weight[best])  # prior of the person times factor
        per_entity = np.bincount(entity[best], weights=weighted, minlength=entity.max() + 1)
        posterior = weighted / (per_entity[entity[best]] + 1 - shares.sum())
        matched = np.bincount(level[best][compared[best]], weights=posterior[compared[best]], minlength=len(labels))
        if matched.sum() < MIN_LABELS_FOR_M:
            return None
        new_m = (matched + EMAIL_M_PRIOR_PAIRS * np.array([m_prior[label] for label in labels])) / (
            matched.sum() + EMAIL_M_PRIOR_PAIRS)
        new_shares = (np.bincount(group[best], weights=posterior, minlength=2) + prior) / (n_entities + sum(share_prior))
        converged = np.abs(new_m - m).max() < EMAIL_EM_TOLERANCE and np.abs(new_shares - shares).max() < EMAIL_EM_TOLERANCE
        m, shares = new_m, new_shares
        if converged:
            break
    return dict(zip(labels, m.tolist()))


def with_email_m(scored: ScoredPairs, persons: pd.Series, n_persons: int, typed_entities: list[str],
                 share_prior: tuple[float, float], without_address: frozenset = frozenset()) -> ScoredPairs:
    """`scored` with the e-mail m probabilities re-estimated by `email_m_by_em` (`persons` maps each
    scored record_id to its person): the pairs' Bayes factors and the stored model are updated alike.

    The mixture holds only the entities that typed an address (`typed_entities`), the only ones whose
    pairs can compare e-mails: their returning share is far below that of all entities, most of which
    answered through a token, and the share of all would have made look-alikes of new respondents
    count as matches with another address."""
    model = scored.parameters.get("splink_model")
    if model is None or scored.pairs.empty:
        return scored
    used = _email_levels(model)  # the priors, or what the few labelled pairs with an address made of them
    prior = _email_levels({"comparisons": comparisons()})
    typed = scored.pairs["entity_id"].isin(set(typed_entities))
    pairs = scored.pairs[typed].assign(person_id=scored.pairs.loc[typed, "record_id"].map(persons))
    estimated = (email_m_by_em(pairs, prior, n_persons, len(typed_entities), share_prior, used, without_address)
                 if len(pairs) else None)
    parameters = {**scored.parameters, "email_m": {"estimated_by_em": estimated is not None, "prior": prior,
                                                   "scored_with": used, "estimate": estimated}}
    if estimated is None:
        return ScoredPairs(scored.pairs, parameters)
    shift = {label: math.log2(estimated[label] / used[label]) for label in used}
    adjusted = scored.pairs.copy()
    adjusted["log2_bayes_factor"] = adjusted["log2_bayes_factor"].to_numpy(dtype=float) + (
        adjusted["email_agreement"].astype(object).map(shift).fillna(0.0).to_numpy(dtype=float))
    for comparison in model["comparisons"]:
        if comparison["output_column_name"] == "email":
            for level in comparison["comparison_levels"]:
                if level["label_for_charts"] in estimated:
                    level["m_probability"] = estimated[level["label_for_charts"]]
    return ScoredPairs(adjusted, parameters)
