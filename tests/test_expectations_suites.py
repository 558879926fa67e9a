"""Great Expectations mart suites: a hand-made warehouse that passes, variants that each break one
blocking (structure) expectation and must be reported in readable words, and world judgements that
only warn. Keys, vocabularies and sums are dbt tests and are not checked here a second time."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from validation.expectations import (
    MART_NAMES,
    SUITES,
    MartSuiteError,
    SuiteSettings,
    run_mart_suites,
    run_suite,
)

FINE_W1 = {"return_asap": 25, "stay_norway": 20, "uncertain": 55}
# Even counts everywhere, so that halving a wave keeps every share and the fine/coarse totals.
FINE_W2 = {"return_asap": 10, "return_later": 14, "stay_norway": 30, "move_onward": 6, "uncertain": 20}
COARSE_OF = {"return_asap": "return_asap", "stay_norway": "stay_norway"}


def aspiration_by_wave() -> pd.DataFrame:
    rows = []
    for wave_id, fine in (("w1_2022", FINE_W1), ("w2_2023", FINE_W2)):
        coarse: dict[str, int] = {}
        for aspiration, n in fine.items():
            coarse_value = COARSE_OF.get(aspiration, "undecided")
            coarse[coarse_value] = coarse.get(coarse_value, 0) + n
        for scale, counts in (("fine", fine), ("coarse", coarse)):
            total = sum(counts.values())
            for aspiration, n in counts.items():
                share = n / total
                # Weighting shifts mass from the first category to the last; the sum stays 1.
                weighted = share - 0.01 if aspiration == next(iter(counts)) else share
                weighted = weighted + 0.01 if aspiration == list(counts)[-1] else weighted
                rows.append((wave_id, scale, aspiration, n, share, weighted))
    return pd.DataFrame(rows, columns=["wave_id", "scale", "aspiration", "n", "share", "weighted_share"])


def aspiration_transitions() -> pd.DataFrame:
    outcomes = {"return_asap": 10, "stay_norway": 5, "undecided": 5, "left_to_ukraine": 3, "not_observed": 2}
    rows = []
    for subgroup, value, scale in (("all", "all", 2), ("gender", "female", 1)):
        for origin in ("return_asap", "stay_norway", "undecided"):
            total = sum(outcomes.values()) * scale
            for outcome, n in outcomes.items():
                rows.append(("w1_2022", "w2_2023", subgroup, value, origin, outcome, n * scale, n * scale / total))
    return pd.DataFrame(rows, columns=["wave_from", "wave_to", "subgroup", "subgroup_value", "aspiration_from",
                                       "outcome_to", "n_persons", "share"])


def attrition() -> pd.DataFrame:
    return pd.DataFrame(
        [("w1_2022", "w2_2023", "all", "all", 100, 70, 10, 20, 0.70),
         ("w1_2022", "w2_2023", "gender", "female", 60, 45, 5, 10, 0.75)],
        columns=["wave_from", "wave_to", "subgroup", "subgroup_value", "n_base", "n_responded_norway",
                 "n_responded_abroad", "n_not_observed", "retention_rate"],
    )


def panel_tracking() -> pd.DataFrame:
    rows = []
    for i in range(30):
        person = f"P{i:012d}"
        weight_w1 = 0.8 if i % 2 else 1.2
        rows.append((person, "w1_2022", 1, "responded_in_norway", f"r{i}", True, "norway", "uncertain", "undecided",
                     weight_w1))
        if i < 20:
            rows.append((person, "w2_2023", 2, "responded_in_norway", f"s{i}", True, "norway", "stay_norway",
                         "stay_norway", 0.9 if i % 2 else 1.1))
        elif i < 23:
            rows.append((person, "w2_2023", 2, "responded_abroad", f"s{i}", True, "ukraine", None, None, None))
        else:
            rows.append((person, "w2_2023", 2, "invited_no_response", None, True, None, None, None, None))
    return pd.DataFrame(rows, columns=["person_id", "wave_id", "wave_number", "status", "response_id", "invited",
                                       "country", "aspiration", "aspiration_coarse", "weight_cross"])


def udi_monthly() -> pd.DataFrame:
    months = [dt.date(2024, m, 1) for m in range(1, 7)]
    applications = [1639, 1361, 1383, 1255, 1248, 1538]
    granted = [1500, 1400, 1300, 1200, 1250, 1450]
    start = 70000
    cumulative = [start + sum(granted[: i + 1]) for i in range(6)]
    stock = [c - 9000 - 50 * i for i, c in enumerate(cumulative)]
    stock[-1] = None  # the next month's snapshot has not arrived yet
    frame = pd.DataFrame({"month": months, "applications": applications, "granted": granted,
                          "granted_cumulative": cumulative, "valid_stock": stock})
    frame["valid_stock"] = frame["valid_stock"].astype("Int64")
    frame["implied_departures_cumulative"] = frame["granted_cumulative"] - frame["valid_stock"]
    frame["vintage_date"] = dt.date(2024, 7, 5)
    return frame


def exit_reasons() -> pd.DataFrame:
    return pd.DataFrame(
        [("w2_2023", 1, "Ukraine is my home", "returned", 8, 13),
         ("w2_2023", 3, "To be with family members", "everyone", 7, 21),
         ("w2_2023", 12, "Language challenges", "onward", 2, 8)],
        columns=["wave_id", "reason_code", "reason_label", "asked_of", "n_selected", "n_asked"],
    )


def good_marts() -> dict[str, pd.DataFrame]:
    return {"aspiration_by_wave": aspiration_by_wave(), "aspiration_transitions": aspiration_transitions(),
            "attrition": attrition(), "panel_tracking": panel_tracking(), "udi_monthly": udi_monthly(),
            "exit_reasons": exit_reasons()}


def write_warehouse(path: Path, marts: dict[str, pd.DataFrame]) -> Path:
    """A DuckDB file with the given frames as `marts.<name>` tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        for name, frame in marts.items():
            con.register("frame", frame)
            con.execute(f"create or replace table marts.{name} as select * from frame")
            con.unregister("frame")
    return path


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("passing")
    build = write_warehouse(root / "build" / "warehouse.duckdb", good_marts())
    previous = write_warehouse(root / "warehouse.duckdb", good_marts())
    with duckdb.connect(str(build), read_only=True) as con:
        outcomes = run_mart_suites(con, root / "data_docs", previous_db=previous)
    return root, outcomes


def run_variant(tmp_path: Path, mart: str, mutate, with_previous: bool = True, **kwargs):
    """Run one mart's suite on the good warehouse changed by `mutate(marts)`; previous run = good."""
    marts = good_marts()
    mutate(marts)
    build = write_warehouse(tmp_path / "build" / "warehouse.duckdb", marts)
    previous = write_warehouse(tmp_path / "warehouse.duckdb", good_marts()) if with_previous else None
    with duckdb.connect(str(build), read_only=True) as con:
        return run_suite(mart, con, tmp_path / "data_docs", previous, **kwargs)


def rows_where(frame: pd.DataFrame, **values) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in values.items():
        mask &= frame[column] == value
    return mask


class IndexText(HTMLParser):
    """All text of an HTML page, script data included (the GX index table is filled by a script)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.links.extend(value for name, value in attrs if name == "href" and value)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def parse_index(path: Path) -> IndexText:
    parser = IndexText()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_good_warehouse_passes_every_suite(passing_run):
    _, outcomes = passing_run
    assert [o.suite_name for o in outcomes] == list(MART_NAMES)
    for outcome in outcomes:
        assert outcome.mart == f"marts.{outcome.suite_name}"
        assert outcome.success, outcome.failures
        assert outcome.n_failed == 0 and outcome.failures == [] and outcome.warnings == []
        assert outcome.n_expectations >= 2
    # A previous run was given, so nothing is skipped.
    by_mart = {o.suite_name: o for o in outcomes}
    assert all(o.notes == [] for o in outcomes)
    assert "aspiration_by_wave.scale_totals" in by_mart["aspiration_by_wave"].gx_suites
    assert "aspiration_by_wave.vs_previous_run" in by_mart["aspiration_by_wave"].gx_suites
    assert "udi_monthly.implied_departures" in by_mart["udi_monthly"].gx_suites
    assert "panel_tracking.vs_previous_run" in by_mart["panel_tracking"].gx_suites


def test_data_docs_index_lists_every_suite_and_its_latest_validation(passing_run):
    root, outcomes = passing_run
    index = root / "data_docs" / "index.html"
    assert all(o.docs_index == index for o in outcomes)
    page = parse_index(index)
    for outcome in outcomes:
        for gx_suite in outcome.gx_suites:
            assert gx_suite in page.text
            mart, frame = gx_suite.split(".")
            assert (root / "data_docs" / "expectations" / mart / f"{frame}.html").is_file()
            assert list((root / "data_docs" / "validations" / mart / frame).rglob("*.html")), gx_suite
    # The context's stores stay beside the docs (data/gx), never in the repository.
    assert (root / "gx" / "validations").is_dir()


def test_offline_summary_page_shows_every_mart_and_links_to_existing_pages(passing_run):
    root, outcomes = passing_run
    page = parse_index(root / "data_docs" / "mart_checks.html")
    assert "all mart suites passed" in page.text
    for outcome in outcomes:
        assert f"{outcome.mart}: passed" in page.text
    pages = [link for link in page.links if link.startswith("validations/")]
    assert len(pages) == sum(len(o.gx_suites) for o in outcomes)
    assert all((root / "data_docs" / link).is_file() for link in pages)
    assert not [link for link in page.links if link.startswith("http")]  # nothing fetched from the internet


def test_the_build_connection_stays_usable(tmp_path):
    build = write_warehouse(tmp_path / "build.duckdb", good_marts())
    with duckdb.connect(str(build)) as con:
        run_suite("exit_reasons", con, tmp_path / "data_docs")
        assert con.sql("select count(*) from marts.exit_reasons").fetchall() == [(3,)]


def test_first_run_skips_previous_run_comparisons_with_a_note(tmp_path):
    outcome = run_variant(tmp_path, "panel_tracking", lambda marts: None, with_previous=False)
    assert outcome.success
    assert "panel_tracking.vs_previous_run" not in outcome.gx_suites
    assert any("rows per wave vs the previous run" in note and "first run" in note for note in outcome.notes)


def test_a_missing_previous_file_counts_as_first_run(tmp_path):
    build = write_warehouse(tmp_path / "build.duckdb", good_marts())
    missing = tmp_path / "nothing_published_yet.duckdb"
    with duckdb.connect(str(build), read_only=True) as con:
        outcome = run_suite("udi_monthly", con, tmp_path / "data_docs", missing)
    assert outcome.success
    assert any(str(missing) in note and "skipped" in note for note in outcome.notes)


def set_value(mart: str, column: str, value, **where):
    def mutate(marts):
        frame = marts[mart]
        frame.loc[rows_where(frame, **where), column] = value
    return mutate


def halve_w2_respondents(marts):
    frame = marts["aspiration_by_wave"]
    frame.loc[frame["wave_id"] == "w2_2023", "n"] //= 2


def sixty_five_percent_return_in_w1(marts):
    """A delivery that says something new: 65 % want to return as soon as the war ends in w1."""
    frame = marts["aspiration_by_wave"]
    coarse_w1 = rows_where(frame, wave_id="w1_2022", scale="coarse")
    for aspiration, share in (("return_asap", 0.65), ("undecided", 0.25), ("stay_norway", 0.10)):
        frame.loc[coarse_w1 & (frame["aspiration"] == aspiration), ["share", "weighted_share"]] = share


def history_starting_late(marts):
    """A UDI history that starts in 2024: grants to date are NULL (contract), so are implied departures."""
    frame = marts["udi_monthly"]
    frame["granted_cumulative"] = None
    frame["implied_departures_cumulative"] = None


def departures_clearly_negative(marts):
    frame = marts["udi_monthly"]
    frame["granted_cumulative"] = frame["granted_cumulative"] - 20000
    frame["implied_departures_cumulative"] = frame["granted_cumulative"] - frame["valid_stock"]


def swap_attrition_waves(marts):
    frame = marts["attrition"]
    frame.loc[frame["subgroup"] == "gender", ["wave_from", "wave_to"]] = ["w2_2023", "w1_2022"]


def replace_w2_by_w3(marts):
    frame = marts["panel_tracking"]
    frame.loc[frame["wave_id"] == "w2_2023", ["wave_id", "wave_number"]] = ["w3_2024", 3]


# Each break violates exactly one blocking expectation of its mart: (id, mart, change, fragments of the message).
BREAKS = [
    ("weighted-share-above-one", "aspiration_by_wave",
     set_value("aspiration_by_wave", "weighted_share", 1.2, wave_id="w2_2023", scale="fine", aspiration="move_onward"),
     ["aspiration_by_wave.rows: weighted_share is a proportion in [0, 1] [column weighted_share]",
      "aspiration=move_onward: weighted_share=1.2", "expected between 0 and 1"]),
    ("wave-order", "attrition", swap_attrition_waves,
     ["attrition.rows: wave_to comes after wave_from", "wave_from=w2_2023, wave_to=w1_2022"]),
    ("negative-asked", "exit_reasons", set_value("exit_reasons", "n_asked", -3, reason_code=3),
     ["n_asked is a count (>= 0)", "reason_code=3: n_asked=-3"]),
    ("granted-cumulative-falls", "udi_monthly",
     set_value("udi_monthly", "granted_cumulative", 1000, month=dt.date(2024, 6, 1)),
     ["granted_cumulative never falls", "month=2024-06-01: granted_cumulative=1000"]),
    ("negative-applications", "udi_monthly", set_value("udi_monthly", "applications", -5, month=dt.date(2024, 3, 1)),
     ["applications are non-negative", "month=2024-03-01: applications=-5"]),
    ("weights-mean-not-one", "panel_tracking", set_value("panel_tracking", "weight_cross", 2.0, wave_id="w1_2022"),
     ["mean weight_cross per wave", "wave_id=w1_2022: mean_weight_cross=2", "between 0.9 and 1.1"]),
    ("transition-share-above-one", "aspiration_transitions",
     set_value("aspiration_transitions", "share", 1.5, subgroup="all", aspiration_from="undecided",
               outcome_to="return_asap"),
     ["share is a proportion in [0, 1]", "aspiration_from=undecided, outcome_to=return_asap: share=1.5"]),
]

# World judgements: reported as warnings, never blocking (id, mart, change, fragments of the warning or None).
WORLD_NEWS = [
    ("sixty-five-percent-return-in-w1", "aspiration_by_wave", sixty_five_percent_return_in_w1, None),
    ("udi-history-starts-late", "udi_monthly", history_starting_late, None),
    ("implied-departures-negative", "udi_monthly", departures_clearly_negative,
     ["udi_monthly.implied_departures: implied departures are not clearly negative", "month=2024-01-01"]),
    ("row-count-drop-vs-previous-run", "aspiration_by_wave", halve_w2_respondents,
     ["aspiration_by_wave.vs_previous_run", "within ±20% of the previous published run",
      "1 of 2 rows fail", "wave_id=w2_2023: ratio_to_previous=0.5"]),
    ("wave-missing-now", "panel_tracking", replace_w2_by_w3,
     ["panel_tracking.vs_previous_run", "wave_id=w2_2023: ratio_to_previous=0"]),  # the new w3 is no failure
]


@pytest.mark.parametrize("news", WORLD_NEWS, ids=[n[0] for n in WORLD_NEWS])
def test_news_about_the_world_never_blocks(tmp_path, news):
    _, mart, mutate, fragments = news
    outcome = run_variant(tmp_path, mart, mutate)
    assert outcome.success and outcome.n_failed == 0 and outcome.failures == [], outcome.failures
    if fragments is None:
        assert outcome.warnings == []
    else:
        (warning,) = outcome.warnings
        for fragment in fragments:
            assert fragment in warning
        assert "1 warning(s)" in outcome.summary()


def group_breaks() -> list[list[tuple]]:
    """Spread the breaks over as few warehouses as possible, at most one break per mart in each."""
    groups: list[list[tuple]] = []
    for brk in BREAKS:
        group = next((g for g in groups if all(other[1] != brk[1] for other in g)), None)
        if group is None:
            groups.append(group := [])
        group.append(brk)
    return groups


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory) -> dict[str, object]:
    """Outcome of each break's mart, from one full run per group of breaks."""
    outcomes = {}
    for number, group in enumerate(group_breaks()):
        root = tmp_path_factory.mktemp(f"broken{number}")
        marts = good_marts()
        for _, _, mutate, _ in group:
            mutate(marts)
        build = write_warehouse(root / "build" / "warehouse.duckdb", marts)
        previous = write_warehouse(root / "warehouse.duckdb", good_marts())
        with duckdb.connect(str(build), read_only=True) as con:
            names = sorted({mart for _, mart, _, _ in group})
            by_mart = {o.suite_name: o for o in run_mart_suites(con, root / "data_docs", previous, marts=names)}
        outcomes.update({brk_id: by_mart[mart] for brk_id, mart, _, _ in group})
    return outcomes


@pytest.mark.parametrize("brk", BREAKS, ids=[b[0] for b in BREAKS])
def test_each_broken_expectation_is_reported_alone_in_readable_words(broken_runs, brk):
    brk_id, mart, _, fragments = brk
    outcome = broken_runs[brk_id]
    assert outcome.mart == f"marts.{mart}"
    assert not outcome.success
    assert outcome.n_failed == 1, outcome.failures
    (message,) = outcome.failures
    for fragment in fragments:
        assert fragment in message


def test_an_empty_mart_is_a_failure_not_a_crash(tmp_path):
    def empty(marts):
        marts["aspiration_by_wave"] = marts["aspiration_by_wave"].iloc[0:0]
        marts["exit_reasons"] = marts["exit_reasons"].iloc[0:0]  # no leavers yet is legitimate

    marts = good_marts()
    empty(marts)
    build = write_warehouse(tmp_path / "build.duckdb", marts)
    with duckdb.connect(str(build), read_only=True) as con:
        by_mart = {o.suite_name: o for o in run_mart_suites(con, tmp_path / "data_docs",
                                                               marts=["aspiration_by_wave", "exit_reasons"])}
    assert by_mart["exit_reasons"].success
    empty_mart = by_mart["aspiration_by_wave"]
    assert empty_mart.failures == ["aspiration_by_wave.rows: marts.aspiration_by_wave has at least one row: "
                                   "observed 0, expected >= 1"]


def test_row_count_tolerance_is_configurable(tmp_path):
    outcome = run_variant(tmp_path, "aspiration_by_wave", halve_w2_respondents,
                          settings=SuiteSettings(row_count_tolerance=0.6))
    assert outcome.success and outcome.warnings == [], outcome.warnings


def test_a_missing_mart_raises_naming_the_table(tmp_path):
    marts = good_marts()
    del marts["attrition"]
    build = write_warehouse(tmp_path / "build.duckdb", marts)
    with duckdb.connect(str(build), read_only=True) as con:
        with pytest.raises(MartSuiteError, match=r"marts\.attrition does not exist"):
            run_mart_suites(con, tmp_path / "data_docs")


def test_a_missing_contract_column_raises_naming_it(tmp_path):
    marts = good_marts()
    marts["exit_reasons"] = marts["exit_reasons"].drop(columns=["n_asked"])
    build = write_warehouse(tmp_path / "build.duckdb", marts)
    with duckdb.connect(str(build), read_only=True) as con:
        with pytest.raises(MartSuiteError, match=r"marts\.exit_reasons lacks contract column\(s\) n_asked"):
            run_suite("exit_reasons", con, tmp_path / "data_docs")


def test_unknown_suite_name_is_refused(tmp_path):
    with duckdb.connect() as con:
        with pytest.raises(KeyError, match="no expectation suite for mart"):
            run_suite("persons_typo", con, tmp_path / "data_docs")


def test_one_check_per_mart_and_separate_runs_share_the_docs_index(tmp_path):
    assert set(SUITES) == set(MART_NAMES)
    build = write_warehouse(tmp_path / "build.duckdb", good_marts())
    with duckdb.connect(str(build), read_only=True) as con:
        attrition_outcome = SUITES["attrition"](con, tmp_path / "data_docs")
        exits_outcome = SUITES["exit_reasons"](con, tmp_path / "data_docs")
    assert attrition_outcome.mart == "marts.attrition" and exits_outcome.mart == "marts.exit_reasons"
    text = parse_index(tmp_path / "data_docs" / "index.html").text
    assert "attrition.rows" in text and "exit_reasons.rows" in text
    summary = parse_index(tmp_path / "data_docs" / "mart_checks.html").text
    assert "marts.attrition: passed" in summary and "marts.exit_reasons: passed" in summary


def test_summary_page_lists_the_failures_of_a_failing_mart(tmp_path):
    outcome = run_variant(tmp_path, "attrition", set_value("attrition", "n_not_observed", -1, subgroup="all"))
    summary = parse_index(tmp_path / "data_docs" / "mart_checks.html").text
    assert "1 of 1 mart suites failed" in summary
    assert "marts.attrition: failed" in summary
    assert outcome.failures[0] in summary


def test_old_results_and_their_pages_are_removed_beyond_the_newest_of_each_suite(tmp_path, monkeypatch):
    """Each run adds a result and a page per suite; GX lists the whole store every run, so it must not grow
    without end. The newest results stay, the index and summary page link only pages that exist."""
    from validation.expectations import runner

    monkeypatch.setattr(runner, "RESULTS_KEPT_PER_SUITE", 2)
    build = write_warehouse(tmp_path / "build.duckdb", good_marts())
    docs = tmp_path / "data_docs"
    kept_runs = []
    with duckdb.connect(str(build), read_only=True) as con:
        for _ in range(3):
            run_suite("attrition", con, docs)
            kept_runs.append(sorted(p.name for p in (tmp_path / "gx/validations/attrition/rows/mart_suites").iterdir()))
        run_suite("exit_reasons", con, docs)
    assert [len(runs) for runs in kept_runs] == [1, 2, 2]
    assert kept_runs[2][0] == kept_runs[1][1], "the oldest goes, the newest stay"
    pages = sorted(p.name for p in (docs / "validations/attrition/rows/mart_suites").iterdir())
    assert len(kept_runs[1]) == 2 and kept_runs[1][0] not in pages
    assert pages == kept_runs[2], "a removed result's Data Docs page goes with it"
    assert len(list((tmp_path / "gx/validations/attrition/rows/mart_suites").iterdir())) == 2, \
        "another mart's run leaves this suite's results alone"
    summary_links = [link for link in parse_index(docs / "mart_checks.html").links if link.startswith("validations/")]
    index_links = re.findall(r"validations/[\w./-]+?\.html", (docs / "index.html").read_text(encoding="utf-8"))
    for links in (summary_links, index_links):
        assert links and all((docs / link).is_file() for link in links), links


def test_pruning_keeps_the_newest_results_of_each_suite_by_run_time(tmp_path):
    from validation.expectations.runner import RUN_NAME, prune_results

    store, docs = tmp_path / "gx", tmp_path / "data_docs"
    times = ["20261201T100000.000001Z", "20261130T235959.999999Z", "20261202T000000.000000Z"]
    for suite in ("attrition/rows", "udi_monthly/months"):
        for run_time in times:
            (store / "validations" / suite / RUN_NAME / run_time).mkdir(parents=True)
            (store / "validations" / suite / RUN_NAME / run_time / "result.json").write_text("{}")
            (docs / "validations" / suite / RUN_NAME / run_time).mkdir(parents=True)
    (store / "validations" / "udi_monthly/months" / RUN_NAME / times[0] / "result.json").unlink()
    assert prune_results(store, docs, keep=2, marts=["attrition"]) == \
        [f"validations/attrition/rows/{RUN_NAME}/20261130T235959.999999Z"]
    for root in (store, docs):
        assert sorted(p.name for p in (root / "validations/attrition/rows" / RUN_NAME).iterdir()) == \
            ["20261201T100000.000001Z", "20261202T000000.000000Z"]
    assert len(list((docs / "validations/udi_monthly/months" / RUN_NAME).iterdir())) == 3, "only the marts named"
    assert prune_results(store, docs, keep=2, marts=["attrition", "udi_monthly"]) == \
        [f"validations/udi_monthly/months/{RUN_NAME}/20261130T235959.999999Z"]
    assert prune_results(store, docs, keep=2, marts=["attrition", "udi_monthly", "never_run"]) == []
