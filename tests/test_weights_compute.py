"""survey_weights on a small hand-made build database: raking margins, mean weights, pbleib weights."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_weights import compute, compute_weights
from survey_weights.cross_sectional import age_band, nearest_snapshot
from survey_weights.longitudinal import fit_retention
from survey_weights.raking import RakingError, rake

WAVES = pd.DataFrame(
    {
        "wave_id": ["w1_2022", "w2_2023"],
        "wave_number": [1, 2],
        "wave_year": [2022, 2023],
        "layout": ["w1_csv", "w2_xlsx"],
        "field_start": pd.to_datetime(["2022-06-01", "2023-05-02"]).date,
        "field_end": pd.to_datetime(["2022-07-15", "2023-06-20"]).date,
    }
)
REGIONS = ["03", "30", "46"]
AGE_GROUPS = ["0-5", "18-34", "35-49", "50-66", "67+"]


def udi_permits() -> pd.DataFrame:
    """Two snapshots; the June 2022 one is the one w1 must be raked to, 2023-05-05 for w2."""
    rows = []
    for snapshot, scale in (("2022-01-05", 3), ("2022-06-05", 1), ("2023-05-05", 2)):
        for region_number, region in enumerate(REGIONS):
            for sex, sex_factor in (("female", 7), ("male", 3)):
                for age_number, age_group in enumerate(AGE_GROUPS):
                    count = scale * sex_factor * (10 + 5 * region_number + 3 * age_number)
                    suppressed = region == "46" and sex == "male" and age_group == "67+"
                    rows.append(
                        {
                            "snapshot_date": dt.date.fromisoformat(snapshot),
                            "fylke_code": region,
                            "region_code": region,
                            "sex": sex,
                            "age_group": age_group,
                            "is_adult": age_group != "0-5",
                            "valid_permits": None if suppressed else count,
                            "is_suppressed": suppressed,
                        }
                    )
    return pd.DataFrame(rows)


def responses(seed: int = 7) -> pd.DataFrame:
    """300 w1 respondents (mostly women, skewed regions) and a follow-up w2 of about half of them."""
    rng = np.random.default_rng(seed)
    n = 300
    w1 = pd.DataFrame(
        {
            "wave_id": "w1_2022",
            "wave_number": 1,
            "submitted_at": pd.Timestamp("2022-06-10 12:00:00"),
            "response_id": [str(i) for i in range(n)],
            "person_id": [f"P{i:04d}" for i in range(n)],
            "is_response_of_record": True,
            "is_complete": True,
            "country_now": "norway",
            "gender": rng.choice(["female", "male"], n, p=[0.6, 0.4]),
            "birth_year": rng.integers(1940, 2004, n),
            "region_code": rng.choice(REGIONS, n, p=[0.6, 0.25, 0.15]),
            "children_in_norway": rng.integers(0, 3, n),
            "aspiration_coarse": rng.choice(["return_asap", "undecided", "stay_norway"], n),
        }
    )
    w1.loc[0, "gender"] = "other"
    w1.loc[1, "region_code"] = None
    w1.loc[2, "birth_year"] = 2010  # a minor: not on the adult margins
    w1.loc[3, "is_complete"] = False
    # An integer answer set missing at ingest: DuckDB hands it back as a nullable Int32 (pd.NA), not NaN.
    w1["children_in_norway"] = w1["children_in_norway"].astype("Int32")
    w1.loc[4, "children_in_norway"] = pd.NA
    back = rng.random(n) < 0.5
    w2 = w1[back].assign(wave_id="w2_2023", wave_number=2, submitted_at=pd.Timestamp("2023-05-20 09:00:00"),
                         response_id=lambda d: "R_" + d["response_id"])
    w2.loc[w2.index[:10], "country_now"] = "ukraine"
    return pd.concat([w1, w2], ignore_index=True)


LINK_COLUMNS = ["person_id", "is_response_of_record"]


def add_linked_responses(con: duckdb.DuckDBPyConnection, linked: pd.DataFrame) -> None:
    """What compute_weights reads: the staged responses and, in linkage.response_persons, their person."""
    con.register("linked_frame", linked)
    con.execute(f"insert into staging.stg_survey__responses by name "
                f"select * exclude ({', '.join(LINK_COLUMNS)}) from linked_frame")
    con.execute(f"insert into linkage.response_persons by name "
                f"select wave_id, wave_number, response_id, {', '.join(LINK_COLUMNS)} from linked_frame")
    con.unregister("linked_frame")


@pytest.fixture()
def build_db(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("linkage", "staging", "reference"):
        con.execute(f"create schema {schema}")
    frames = {"waves": WAVES, "permits": udi_permits(), "linked": responses()}
    for name, frame in frames.items():
        con.register(name, frame)
    con.execute("create table reference.survey_waves as select * from waves")
    con.execute("create table staging.stg_udi__valid_permits as select * from permits")
    con.execute(f"create table staging.stg_survey__responses as select * exclude ({', '.join(LINK_COLUMNS)}) "
                "from linked limit 0")
    con.execute(f"create table linkage.response_persons as select wave_id, wave_number, response_id, "
                f"{', '.join(LINK_COLUMNS)} from linked limit 0")
    add_linked_responses(con, responses())
    yield con
    con.close()


def test_raked_weights_reproduce_the_udi_margins_within_half_a_percent(build_db):
    summary = compute_weights(build_db)
    margins = build_db.sql("select * from weights.raking_margins").df()
    assert set(margins["margin"]) == {"sex", "age_band", "region_code"}
    assert set(margins["wave_id"]) == {"w1_2022", "w2_2023"}
    assert (margins["achieved_share"] - margins["target_share"]).abs().max() < 0.005
    for _, group in margins.groupby(["wave_id", "margin"]):
        assert group["target_share"].sum() == pytest.approx(1.0)
    assert summary["max_margin_error"] < 0.005


def test_each_wave_is_raked_to_the_snapshot_nearest_its_field_period(build_db):
    compute_weights(build_db)
    snapshots = dict(build_db.sql("select distinct wave_id, snapshot_date from weights.raking_margins").fetchall())
    assert snapshots == {"w1_2022": dt.date(2022, 6, 5), "w2_2023": dt.date(2023, 5, 5)}


def test_target_shares_are_the_adult_udi_shares(build_db):
    compute_weights(build_db)
    (female_target,) = build_db.execute(
        "select target_share from weights.raking_margins where wave_id = 'w1_2022' and margin = 'sex' and category = 'female'"
    ).fetchone()
    permits = udi_permits()
    adult = permits[(permits["snapshot_date"] == dt.date(2022, 6, 5)) & permits["is_adult"]]
    expected = adult.loc[adult["sex"] == "female", "valid_permits"].sum() / adult["valid_permits"].sum()
    assert female_target == pytest.approx(expected)


def test_weights_cover_complete_responses_in_norway_with_mean_one(build_db):
    compute_weights(build_db)
    cross = build_db.sql("select * from weights.cross_sectional").df()
    linked = responses()
    expected = linked[linked["is_complete"] & (linked["country_now"] == "norway")]
    assert len(cross) == len(expected)
    assert "3" not in set(cross.loc[cross["wave_id"] == "w1_2022", "response_id"])  # the partial one
    for _, wave in cross.groupby("wave_id"):
        assert wave["weight_cross"].mean() == pytest.approx(1.0)
    unplaced = cross[(cross["wave_id"] == "w1_2022") & cross["response_id"].isin(["0", "1", "2"])]
    assert list(unplaced["weight_cross"]) == pytest.approx([1.0, 1.0, 1.0])
    assert not unplaced["is_raked"].any()
    # The sample has too few men and too many in region 03 compared with UDI: weights correct it.
    w1 = cross[cross["wave_id"] == "w1_2022"].merge(linked, on=["wave_id", "response_id"])
    assert w1.loc[w1["gender"] == "male", "weight_cross"].mean() < w1.loc[w1["gender"] == "female", "weight_cross"].mean()
    assert w1.loc[w1["region_code"] == "46", "weight_cross"].mean() > w1.loc[w1["region_code"] == "03", "weight_cross"].mean()


def test_only_linked_responses_of_record_are_weighted(build_db):
    """A same-wave duplicate (linked, not of record) and a staged response without a link get no weight."""
    linked = responses()
    duplicate = linked.iloc[[10]].assign(response_id="dup_10", is_response_of_record=False)
    add_linked_responses(build_db, duplicate)
    build_db.register("unlinked", linked.iloc[[11]].assign(response_id="unlinked_11").drop(columns=LINK_COLUMNS))
    build_db.execute("insert into staging.stg_survey__responses by name select * from unlinked")
    compute_weights(build_db)
    weighted = set(build_db.sql("select response_id from weights.cross_sectional where wave_id = 'w1_2022'").df()["response_id"])
    assert "10" in weighted and "11" in weighted
    assert not {"dup_10", "unlinked_11"} & weighted


def test_longitudinal_weight_is_base_weight_over_retention_probability(build_db):
    summary = compute_weights(build_db)
    long = build_db.sql(
        "select l.*, c.weight_cross from weights.longitudinal l "
        "join weights.cross_sectional c on c.person_id = l.person_id and c.wave_id = l.wave_from"
    ).df()
    assert set(zip(long["wave_from"], long["wave_to"])) == {("w1_2022", "w2_2023")}
    retained = long[long["retained"]]
    assert np.allclose(retained["weight_long"], retained["weight_cross"] / retained["p_retained"])
    assert long.loc[~long["retained"], "weight_long"].isna().all()
    assert ((long["p_retained"] > 0) & (long["p_retained"] <= 1)).all()
    model = summary["longitudinal"]["w1_2022->w2_2023"]
    assert model["method"] == "logit"
    assert "const" in model["coefficients"] and "gender_male" in model["coefficients"]
    assert model["n_base"] == len(long) and model["n_retained"] == int(long["retained"].sum())
    # The logit's fitted probabilities average to the observed retention rate.
    assert long["p_retained"].mean() == pytest.approx(long["retained"].mean(), abs=1e-4)


def test_separation_falls_back_to_a_regularised_fit():
    base = pd.DataFrame(
        {
            "gender": ["female", "male"] * 20,
            "age_band": ["18-34", "35-49", "50-66", "67+"] * 10,
            "children_in_norway": ["yes", "no"] * 20,
            "region_code": ["03"] * 40,
            "aspiration_coarse": ["stay_norway", "return_asap", "undecided", "stay_norway"] * 10,
        }
    )
    base["retained"] = base["gender"] == "female"  # gender predicts retention perfectly
    probabilities, summary = fit_retention(base)
    assert summary["method"] == "ridge_logit"
    assert probabilities[base["retained"]].min() > probabilities[~base["retained"]].max()
    assert np.isfinite(probabilities).all()


def test_rake_on_a_hand_worked_example():
    # Two people per cell of sex, except (male, north) has one: targets 50/50 and 50/50.
    sample = pd.DataFrame({"sex": ["f", "f", "f", "m", "m", "m", "m"], "region": ["n", "n", "s", "n", "s", "s", "s"]})
    targets = {"sex": pd.Series({"f": 0.5, "m": 0.5}), "region": pd.Series({"n": 0.5, "s": 0.5})}
    result = rake(sample, targets)
    assert result.converged
    weights = pd.Series(result.weights)
    assert weights[sample["sex"] == "f"].sum() == pytest.approx(weights[sample["sex"] == "m"].sum())
    assert weights[sample["region"] == "n"].sum() == pytest.approx(weights[sample["region"] == "s"].sum())
    assert weights.mean() == pytest.approx(1.0)


def test_rake_refuses_a_target_category_nobody_is_in():
    sample = pd.DataFrame({"sex": ["f", "f"]})
    with pytest.raises(RakingError, match="no respondent"):
        rake(sample, {"sex": pd.Series({"f": 0.5, "m": 0.5})})


def test_age_bands_and_nearest_snapshot():
    assert [age_band(a) for a in (17, 18, 34, 35, 66, 67, 99, None)] == [None, "18-34", "18-34", "35-49", "50-66", "67+", "67+", None]
    snapshots = [dt.date(2022, 5, 5), dt.date(2022, 6, 5), dt.date(2022, 7, 5), dt.date(2022, 8, 5)]
    assert nearest_snapshot(snapshots, dt.date(2022, 6, 1), dt.date(2022, 7, 15)) == dt.date(2022, 7, 5)
    assert nearest_snapshot(snapshots[:1], dt.date(2022, 6, 1), dt.date(2022, 7, 15)) == dt.date(2022, 5, 5)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=2, max_value=5), min_size=1, max_size=3),
    n=st.integers(min_value=30, max_value=200),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_rake_meets_any_reachable_margins(sizes, n, seed):
    """Every combination of categories occupied and every target positive: raking reaches all margins."""
    rng = np.random.default_rng(seed)
    random_rows = pd.DataFrame({f"m{i}": rng.integers(0, k, n) for i, k in enumerate(sizes)})
    every_cell = pd.MultiIndex.from_product([range(k) for k in sizes], names=list(random_rows.columns)).to_frame(index=False)
    sample = pd.concat([random_rows, every_cell], ignore_index=True)
    targets = {}
    for i, k in enumerate(sizes):
        raw = rng.uniform(0.2, 1.0, k)
        targets[f"m{i}"] = pd.Series(raw / raw.sum(), index=range(k))
    result = rake(sample, targets, max_iterations=5000, tolerance=1e-9)
    assert result.weights.mean() == pytest.approx(1.0)
    assert (result.weights > 0).all()
    for column, shares in targets.items():
        achieved = pd.Series(result.weights).groupby(sample[column]).sum() / result.weights.sum()
        assert np.allclose(achieved.reindex(shares.index).to_numpy(), shares.to_numpy(), atol=0.005)


def test_a_wave_without_a_survey_waves_row_is_weighted_by_its_submission_dates(build_db):
    """w3_2025 has no field period: its submissions (mid-May 2023, one stray test submission months
    earlier) pick the 2023-05-05 snapshot, and it gets weights like any other wave."""
    linked = responses()
    w3 = linked[linked["wave_id"] == "w1_2022"].assign(
        wave_id="w3_2025", wave_number=3, submitted_at=pd.Timestamp("2023-05-15 10:00:00"),
        response_id=lambda d: "N_" + d["response_id"])
    w3.loc[w3.index[0], "submitted_at"] = pd.Timestamp("2022-01-02 08:00:00")
    add_linked_responses(build_db, w3)
    summary = compute_weights(build_db)
    snapshots = dict(build_db.sql("select distinct wave_id, snapshot_date from weights.raking_margins").fetchall())
    assert snapshots["w3_2025"] == dt.date(2023, 5, 5)
    assert summary["cross_sectional"]["w3_2025"]["field_period_from"] == "submission times"
    assert summary["cross_sectional"]["w1_2022"]["field_period_from"] == "survey_waves"
    weights = build_db.sql("select weight_cross from weights.cross_sectional where wave_id = 'w3_2025'").df()
    assert len(weights) == len(w3[w3["is_complete"] & (w3["country_now"] == "norway")])
    assert weights["weight_cross"].mean() == pytest.approx(1.0)
    pairs = set(build_db.sql("select distinct wave_from, wave_to from weights.longitudinal").fetchall())
    assert ("w1_2022", "w3_2025") in pairs and ("w2_2023", "w3_2025") in pairs


# ---- weights of the same inputs are copied, not computed again ---------------------------------------------

def published_copy(build_db, tmp_path):
    """The build as it would be published: a file of its own."""
    published = tmp_path / "published.duckdb"
    build_db.execute(f"attach '{published}' as published_file")
    build_db.execute("copy from database warehouse to published_file")
    build_db.execute("detach published_file")
    return published


def weights_rows(con) -> dict:
    return {table: con.execute(f"select * from weights.{table} order by all").fetchall()
            for table in ("cross_sectional", "longitudinal", "raking_margins", "inputs_digest")}


def test_weights_of_the_same_inputs_are_copied_from_the_previous_file(build_db, tmp_path):
    computed = compute_weights(build_db)
    assert computed["copied_from_previous"] is False
    published = published_copy(build_db, tmp_path)
    before = weights_rows(build_db)
    build_db.execute("drop schema weights cascade")

    copied = compute_weights(build_db, published)
    assert copied["copied_from_previous"] is True
    assert weights_rows(build_db) == before
    assert copied == json.loads(json.dumps({**computed, "copied_from_previous": True}, default=compute._plain))


def test_a_snapshot_no_wave_is_raked_to_leaves_the_digest_and_one_it_is_raked_to_changes_it(build_db, tmp_path):
    compute_weights(build_db)
    published = published_copy(build_db, tmp_path)
    # a new snapshot long after every field period: no wave is raked to it
    build_db.execute("""insert into staging.stg_udi__valid_permits
                        select * replace (date '2025-10-05' as snapshot_date) from staging.stg_udi__valid_permits
                        where snapshot_date = date '2023-05-05'""")
    assert compute_weights(build_db, published)["copied_from_previous"] is True
    # a corrected count in the snapshot w1 is raked to
    build_db.execute("""update staging.stg_udi__valid_permits set valid_permits = valid_permits + 7
                        where snapshot_date = date '2022-06-05' and region_code = '03' and sex = 'female'
                          and age_group = '18-34'""")
    recomputed = compute_weights(build_db, published)
    assert recomputed["copied_from_previous"] is False
    with duckdb.connect(str(published), read_only=True) as con:
        published_digest = con.execute("select inputs_digest from weights.inputs_digest").fetchone()
    assert build_db.execute("select inputs_digest from weights.inputs_digest").fetchone() != published_digest


def test_another_response_or_field_period_changes_the_digest(build_db, tmp_path):
    compute_weights(build_db)
    published = published_copy(build_db, tmp_path)
    build_db.execute("update reference.survey_waves set field_end = date '2022-07-16' where wave_id = 'w1_2022'")
    assert compute_weights(build_db, published)["copied_from_previous"] is False
    build_db.execute("update reference.survey_waves set field_end = date '2022-07-15' where wave_id = 'w1_2022'")
    assert compute_weights(build_db, published)["copied_from_previous"] is True
    build_db.execute("update staging.stg_survey__responses set children_in_norway = 2 where response_id = '5'")
    assert compute_weights(build_db, published)["copied_from_previous"] is False


def test_the_digest_follows_the_library_versions(monkeypatch):
    frames = (WAVES, udi_permits())
    digest = compute.inputs_digest(*frames)
    assert compute.inputs_digest(*frames) == digest
    real_version = compute.metadata.version
    monkeypatch.setattr(compute.metadata, "version",
                        lambda name: "0.0" if name == "statsmodels" else real_version(name))
    assert compute.inputs_digest(*frames) != digest


def test_nothing_is_copied_from_a_file_without_weights_or_with_another_digest(build_db, tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert compute_weights(build_db, empty)["copied_from_previous"] is False
    assert compute_weights(build_db, tmp_path / "missing.duckdb")["copied_from_previous"] is False
    unreadable = tmp_path / "unreadable.duckdb"
    unreadable.write_bytes(b"not a DuckDB file")
    assert compute_weights(build_db, unreadable)["copied_from_previous"] is False
    published = published_copy(build_db, tmp_path)
    with duckdb.connect(str(published)) as con:
        con.execute("update weights.inputs_digest set inputs_digest = 'another'")
    assert compute_weights(build_db, published)["copied_from_previous"] is False
