"""Report figures and pages from hand-made frames and a hand-made four-wave warehouse: a fourth wave shows with no
code change, small cells are withheld, intervals are Wilson's, captions name base and source."""
from __future__ import annotations

import json
import math

import duckdb
import pandas as pd
import pytest

from panel_report import figures as f
from panel_report.codebook import render_codebook
from panel_report.report import render_report
from panel_report.warehouse import kish_effective_n, suppress_small, wilson_interval

WAVES = ["w1_2022", "w2_2023", "w3_2024", "w4_2025"]
PAIRS = list(zip(WAVES[:-1], WAVES[1:]))


def transitions_frame() -> pd.DataFrame:
    rows = []
    for a, b in PAIRS:
        for subgroup, value in (("all", "all"), ("gender", "female"), ("gender", "male")):
            for origin in f.COARSE:
                for outcome, n in zip(f.COARSE + f.LEAVING, (30, 12, 9, 6, 3, 20)):
                    rows.append(dict(wave_from=a, wave_to=b, subgroup=subgroup, subgroup_value=value,
                                     aspiration_from=origin, outcome_to=outcome,
                                     n_persons=None if n < 5 else n, n_persons_suppressed=n < 5))
    return pd.DataFrame(rows)


def test_flows_have_a_column_per_wave_and_leaving_streams_of_their_own():
    item = f.flows_figure(transitions_frame(), WAVES, "release.aspiration_transitions")
    sankey = item.figure.data[0]
    labels = list(sankey.node.label)
    assert {label.split(":")[0] for label in labels} == set(WAVES)
    assert "w4_2025: left for Ukraine" in labels and "w4_2025: not observed (non-response)" in labels
    # nodes of one wave share one column, waves left to right
    xs = {label.split(":")[0]: x for label, x in zip(labels, sankey.node.x)}
    assert [xs[w] for w in WAVES] == sorted(xs[w] for w in WAVES)
    # the suppressed flows (n < 5) are not drawn; one trace per subgroup value, chosen in a menu
    assert min(sankey.link.value) >= 5
    assert len(item.figure.data) == 3 and len(item.figure.layout.updatemenus[0].buttons) == 3
    assert "w3_2024 → w4_2025: n = " in item.caption and "suppressed" in item.caption


def shares_frame() -> pd.DataFrame:
    rows = []
    for wave in WAVES:
        for scale, aspirations in (("coarse", f.COARSE), ("fine", ["return_asap", "return_later", "stay_norway"])):
            for aspiration, n in zip(aspirations, (120, 60, 3)):
                rows.append(dict(wave_id=wave, scale=scale, aspiration=aspiration, n=n))
    frame = pd.DataFrame(rows)
    frame["share"] = frame.n / frame.groupby(["wave_id", "scale"]).n.transform("sum")
    frame["weighted_share"] = frame.share
    return frame


def test_shares_get_wilson_intervals_and_release_suppression():
    mart = shares_frame()
    release = mart.assign(n_suppressed=mart.n < 5)
    frame = f.shares_with_intervals(mart, release)
    row = frame[(frame.wave_id == "w4_2025") & (frame.aspiration == "return_asap")].iloc[0]
    assert (row.share_ci_lower, row.share_ci_upper) == pytest.approx(wilson_interval(120 / 183, 183))
    assert frame[frame.aspiration == "stay_norway"][["n", "share", "share_ci_upper"]].isna().all().all()
    item = f.shares_figure(frame, WAVES, "marts.aspiration_by_wave")
    assert list(item.figure.data[0].x) == WAVES
    assert "w4_2025 n = 183" in item.caption


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson_interval(0.5, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    low, high = wilson_interval(0.0, 20)
    assert low == 0 and high == pytest.approx(0.1611, abs=1e-4)
    assert math.isnan(wilson_interval(0.3, 0)[0])
    assert kish_effective_n([1, 1, 1, 1]) == 4
    assert kish_effective_n([2, 1, 1]) == pytest.approx(16 / 6)


def test_small_counts_are_withheld_with_a_second_cell_where_one_alone_could_be_recomputed():
    frame = pd.DataFrame({"wave": ["a"] * 3 + ["b"] * 3, "n": [2, 9, 40, 3, 4, 50]})
    out = suppress_small(frame, "n", ["wave"], threshold=5)
    assert out.n_suppressed.tolist() == [True, True, False, True, True, False]
    assert out.n.isna().tolist() == [True, True, False, True, True, False]


def four_wave_warehouse(path) -> None:
    """A warehouse file with the published tables the report and codebook read, over four waves."""
    con = duckdb.connect(str(path))
    for schema in ("marts", "release", "reference", "raw"):
        con.execute(f"create schema {schema}")
    tracking = pd.DataFrame([dict(person_id=f"P{i}", wave_id=w, wave_number=k + 1, response_id=f"{w}-{i}",
                                  link_method=["new", "token", "email_hash", "probabilistic"][(i + k) % 4])
                             for k, w in enumerate(WAVES) for i in range(40)])
    transitions = transitions_frame()
    attrition = pd.DataFrame([dict(wave_from=a, wave_to=b, subgroup="all", subgroup_value="all", n_base=100,
                                   n_responded_norway=60, n_responded_abroad=10, n_not_observed=30, retention_rate=0.7)
                              for a, b in PAIRS])
    exits = pd.DataFrame([dict(person_id=f"P{i}", destination=["ukraine", "other"][i % 2], months_in_norway=i % 30,
                               reported_in_wave=WAVES[1 + i % 3]) for i in range(300)])
    reasons = pd.DataFrame([dict(wave_id=w, reason_code=c, reason_label=f"reason {c}", asked_of="everyone",
                                 n_selected=10 + c, n_asked=60) for w in WAVES[1:] for c in (1, 2, 3)])
    months = pd.date_range("2022-03-01", periods=30, freq="MS")
    udi = pd.DataFrame(dict(month=months, applications=1000, granted=900, granted_cumulative=range(900, 900 * 31, 900),
                            valid_stock=800, implied_departures_cumulative=100, vintage_date=pd.Timestamp("2025-10-05")))
    revisions = pd.DataFrame([dict(month=m, measure=measure, vintage_date=v, value=1000, first_value=990,
                                   revision_from_first=10 * k) for m in months[:5] for measure in ("applications", "granted")
                              for k, v in enumerate(pd.date_range("2024-01-05", periods=3, freq="MS"))])
    quality = pd.DataFrame([dict(wave_from=a, wave_to=b, method=m, true_pairs=50, predicted_pairs=50,
                                 true_positive_pairs=49, precision=0.98, recall=0.98, f1=0.98)
                            for a, b in PAIRS for m in ("all", "token")])
    variables = pd.DataFrame([dict(layout=layout, source_variable=var, concept=concept, value_type=kind, min_value=None,
                                   max_value=None, required="false", description=desc)
                              for layout, var, concept, kind, desc in (
                                  ("l1", "barn", "children_in_norway", "integer", "children in Norway"),
                                  ("l2", "kids_no", "children_in_norway", "integer", "children in Norway"),
                                  ("l1", "retur", "aspiration", "code", "plans"),
                                  ("l2", "plans", "aspiration", "code", "plans"),
                                  ("l2", "left", "left_month", "date", "month of leaving"))])
    values = pd.DataFrame([dict(layout="l1", concept="aspiration", source_value="1", concept_value="return_asap", label="x"),
                           dict(layout="l2", concept="aspiration", source_value="9", concept_value="stay_norway", label="y")])
    frames = {"marts.panel_tracking": tracking, "marts.aspiration_by_wave": shares_frame(),
              "release.aspiration_by_wave": shares_frame().assign(n_suppressed=lambda d: d.n < 5),
              "release.aspiration_transitions": transitions, "release.attrition": attrition, "marts.exits": exits,
              "release.exit_reasons": reasons, "marts.udi_monthly": udi, "marts.udi_revisions": revisions,
              "marts.linkage_quality": quality, "reference.codebook_variables": variables,
              "reference.codebook_values": values,
              # w4 has no survey_waves row: its layout comes from the data (raw.survey_responses)
              "reference.survey_waves": pd.DataFrame(dict(wave_id=WAVES[:3], layout=["l1", "l2", "l2"],
                                                          fielded_label=["2022", "2023", "2024"])),
              "raw.survey_responses": pd.DataFrame(dict(wave_id=WAVES, layout=["l1", "l2", "l2", "l2"]))}
    for name, frame in frames.items():
        con.register("frame", frame)
        con.execute(f"create table {name} as select * from frame")
        con.unregister("frame")
    con.close()


@pytest.fixture(scope="module")
def four_waves(tmp_path_factory):
    path = tmp_path_factory.mktemp("four") / "warehouse.duckdb"
    four_wave_warehouse(path)
    return path


def test_a_fourth_wave_shows_in_every_wave_figure_of_the_report(four_waves, tmp_path):
    result = render_report(four_waves, tmp_path / "report")
    assert result.waves == WAVES and result.absent == []
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert html.count("<script type=\"text/javascript\">/**") + html.count("plotly.js v") >= 1
    for figure_id in ("flows", "shares_coarse", "retention", "months_before_leaving", "exit_reasons", "linkage_quality",
                      "link_methods"):
        start = html.index(f'id="{figure_id}"')
        assert "w4_2025" in html[start: html.index("</figure>", start)], figure_id


def test_the_codebook_page_has_a_column_for_a_wave_without_a_survey_waves_row(four_waves, tmp_path):
    page = render_codebook(four_waves, tmp_path).read_text(encoding="utf-8")
    header = page[page.index("<thead>"): page.index("</thead>")]
    assert [w for w in WAVES if w in header] == WAVES
    row = page[page.index('data-concept="children_in_norway"'):]
    row = row[: row.index("</tr>")]
    assert row.count("<code>barn</code>") == 1 and row.count("<code>kids_no</code>") == 3
    left = page[page.index('data-concept="left_month"'):]
    assert left[: left.index("</tr>")].count('class="missing"') == 1  # not asked in w1


def test_the_demo_summary_ends_with_where_the_report_and_catalogue_are(tmp_path, monkeypatch):
    from orchestration.summary import where_to_look

    monkeypatch.setenv("PANEL_DATA_DIR", str(tmp_path))
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "index.html").write_text("<html></html>")
    lines = where_to_look()
    assert lines[1].split()[-1] == (tmp_path / "report" / "index.html").as_uri()
    assert "not rendered yet: run `make docs`" in lines[2] and str(tmp_path / "catalogue" / "index.html") in lines[2]


def test_withheld_counts_and_empty_bases_leave_gaps_rather_than_breaking_a_figure():
    """Release tables of a small data set: counts withheld (NULL) and reasons nobody was asked (0 of 0)."""
    reasons = pd.DataFrame({
        "wave_id": ["w2_2023"] * 3, "reason_code": [1, 2, 3], "reason_label": ["home", "safety", "family"],
        "asked_of": ["returned", "returned", "everyone"],
        "n_selected": pd.array([None, 0, 0], dtype="Int32"), "n_asked": pd.array([None, None, 0], dtype="Int32")})
    figure = f.exit_reasons_figure(reasons, WAVES, "release.exit_reasons")
    assert figure.figure is None or all(
        value is None or math.isnan(value) for trace in figure.figure.data for value in trace.x)
    attrition = pd.DataFrame({
        "wave_from": ["w1_2022"] * 2, "wave_to": ["w2_2023"] * 2, "subgroup": ["all", "gender"],
        "subgroup_value": ["all", "female"], "n_base": pd.array([None, 0], dtype="Int32"),
        **{column: pd.array([None, 0], dtype="Int32") for column, _, _ in f.OUTCOMES}})
    retention = f.retention_figure(attrition, WAVES, "release.attrition")
    json.dumps(retention.figure.to_plotly_json(), default=str)  # serialisable: what the page embeds
