"""Which pairs the Splink model compares: few per record even on a skewed panel, yet every pair that
differs in only one stable attribute (birth year by one year at most) or shares the typed address."""
from __future__ import annotations

import random
from datetime import date

import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from linkage import model
from linkage.synthetic import KOMMUNER, OBLASTS

BASE = {"gender": "female", "birth_year": 1980, "oblast_iso": "UA-14", "arrival_month": date(2022, 4, 1),
        "kommune_code_2024": "0301", "children_in_norway": 1, "language": "uk", "partner_location": "norway",
        "email_hash": "h-base", "email_bloom": "1100110011"}


def _sides(left: pd.DataFrame, right: pd.DataFrame) -> tuple[DuckDBAPI, list]:
    db_api = DuckDBAPI(":memory:")
    model._load_side(db_api.duckdb_con, "new_responses", left, "entity_id")
    model._load_side(db_api.duckdb_con, "earlier_records", right, "record_id")
    return db_api, [db_api.register("new_responses"), db_api.register("earlier_records")]


def _skewed(n: int, id_column: str, rng: random.Random) -> pd.DataFrame:
    """Everyone a woman born in 1980 or 1981: the old rule on birth year and gender compared each new
    record with half of all earlier records."""
    return pd.DataFrame([{
        id_column: f"{id_column[0]}{i}", **BASE, "birth_year": rng.choice([1980, 1981]),
        "oblast_iso": rng.choice(OBLASTS), "arrival_month": date(2022, rng.randint(3, 12), 1),
        "kommune_code_2024": rng.choice(KOMMUNER), "email_hash": f"h{id_column}{i}", "email_bloom": None,
    } for i in range(n)])


def test_pairs_compared_per_record_stay_a_small_share_of_a_skewed_panel():
    rng = random.Random(3)
    left, right = _skewed(1500, "entity_id", rng), _skewed(1500, "record_id", rng)
    _, frames = _sides(left, right)
    counts = count_comparisons_from_blocking_rules(frames, blocking_rules=model.BLOCKING_RULES,
                                                   link_type="link_only", record_sample_proportion=1.0)
    per_record = counts[-1]["cumulative_comparison_count"] / len(left)
    # Blocks on four attributes: about 1% of the earlier records (1/220 by oblast and arrival month, plus
    # the municipality rules); the rule on birth year and gender alone gave 50%.
    assert 0 < per_record <= 0.02 * len(right)


def _variant(record_id: str, **changes) -> dict:
    return {"record_id": record_id, **BASE, "email_hash": f"h-{record_id}", "email_bloom": None, **changes}


def test_every_pair_differing_in_one_stable_attribute_or_sharing_the_address_is_compared():
    left = pd.DataFrame([{"entity_id": "e", **BASE}])
    compared_variants = [
        _variant("same"), _variant("older", birth_year=1979), _variant("younger", birth_year=1981),
        _variant("gender", gender="other"), _variant("oblast", oblast_iso="UA-21"),
        _variant("arrival", arrival_month=date(2022, 6, 1)),
        _variant("older_elsewhere", birth_year=1979, kommune_code_2024="1103", children_in_norway=3,
                 language="ru", partner_location="ukraine"),
        # the same typed address compares whatever the answers
        _variant("address", email_hash="h-base", gender="male", birth_year=1990, oblast_iso="UA-21",
                 arrival_month=date(2022, 9, 1)),
    ]
    apart = [_variant("two_years", birth_year=1982), _variant("year_and_gender", birth_year=1981, gender="male"),
             _variant("oblast_and_arrival", oblast_iso="UA-21", arrival_month=date(2022, 6, 1))]
    db_api, frames = _sides(left, pd.DataFrame(compared_variants + apart))
    settings = SettingsCreator(link_type="link_only", comparisons=model.comparisons(),
                               blocking_rules_to_generate_predictions=model.BLOCKING_RULES,
                               probability_two_random_records_match=model.prior_match_probability(11))
    pairs = Linker(frames, settings).inference.predict().as_pandas_dataframe()
    compared = set(pairs.unique_id_l) | set(pairs.unique_id_r)
    assert compared - {"e"} == {v["record_id"] for v in compared_variants}
    assert len(pairs) == len(compared_variants)  # each pair once, although several rules hold


def test_a_response_keeps_only_its_strongest_pairs_however_many_look_alikes_it_has():
    left = pd.DataFrame([{"entity_id": "e", **BASE}])
    look_alikes = [_variant(f"alike{i:03d}", kommune_code_2024="1103", email_bloom="0011001100")
                   for i in range(model.MAX_PAIRS_PER_RESPONSE + 20)]
    right = pd.DataFrame([_variant("same_address", email_hash="h-base", email_bloom=BASE["email_bloom"]), *look_alikes])
    pairs = model.score_pairs(left, right).pairs
    assert len(pairs) == model.MAX_PAIRS_PER_RESPONSE
    assert pairs.sort_values("log2_bayes_factor").record_id.iloc[-1] == "same_address"
    assert set(pairs.email_agreement) == {"same keyed hash", "different"}  # evidence of each kept pair


def test_the_candidate_floor_rises_with_the_number_of_earlier_records():
    # The same weak pair (gender and arrival month agree, little else) is kept against a few earlier
    # records and dropped against many, where its posterior could never matter.
    left = pd.DataFrame([{"entity_id": "e", **BASE}])
    weak = _variant("weak", birth_year=1981, kommune_code_2024="1103", children_in_norway=3, language="ru",
                    partner_location="ukraine")
    strangers = [_variant(f"far{i}", birth_year=1950 + i % 20, oblast_iso="UA-05", arrival_month=date(2022, 12, 1))
                 for i in range(4000)]
    few = model.score_pairs(left, pd.DataFrame([weak, *strangers[:10]])).pairs
    many = model.score_pairs(left, pd.DataFrame([weak, *strangers])).pairs
    assert list(few.record_id) == ["weak"] and many.empty


def test_scoring_in_chunks_finds_exactly_the_pairs_of_one_pass(monkeypatch):
    rng = random.Random(8)
    left, right = _skewed(600, "entity_id", rng), _skewed(600, "record_id", rng)
    whole = model.score_pairs(left, right).pairs
    monkeypatch.setattr(model, "RESPONSES_PER_CHUNK", 100)  # six chunks
    chunked = model.score_pairs(left, right).pairs
    assert len(whole) > 100
    pd.testing.assert_frame_equal(whole, chunked)


def test_sides_load_date_columns_as_they_are_and_missing_values_as_null():
    """_load_side leaves datetime columns unboxed: an arrival month (datetime64, as DuckDB hands a DATE
    to pandas) becomes the same month index as a date object, and NaT / NaN / None become NULL."""
    rows = [{**BASE, "entity_id": "a"}, {**BASE, "entity_id": "b", "arrival_month": None, "birth_year": None,
                                          "gender": None, "email_hash": None, "email_bloom": None}]
    as_dates = pd.DataFrame(rows)
    as_datetimes = as_dates.assign(arrival_month=pd.to_datetime(as_dates["arrival_month"]))
    assert pd.api.types.is_datetime64_any_dtype(as_datetimes["arrival_month"])
    loaded = []
    for frame in (as_dates, as_datetimes):
        db_api = DuckDBAPI(":memory:")
        model._load_side(db_api.duckdb_con, "new_responses", frame, "entity_id")
        loaded.append(db_api.duckdb_con.execute("""
            SELECT unique_id, gender, birth_year, arrival_index, email_hash, email_bloom::VARCHAR, bloom_ones
            FROM new_responses ORDER BY unique_id""").fetchall())
    assert loaded[0] == loaded[1] == [
        ("a", "female", 1980, 2022 * 12 + 4, "h-base", "1100110011", 6),
        ("b", None, None, None, None, None, None)]
