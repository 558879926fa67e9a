"""The report's figures: each a plotly figure built from a data frame, with a caption (what, base n, source mart).

Every function takes plain frames and the wave order, so a fourth wave is one more category, never code.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from panel_report.warehouse import order_waves, suppress_small, wilson_interval

# Outcomes that end a person's stream in the flow figure, and the coarse aspirations in display order.
LEAVING = ["left_to_ukraine", "left_onward", "not_observed"]
COARSE = ["return_asap", "undecided", "stay_norway"]
LABELS = {
    "return_asap": "return as soon as possible", "undecided": "undecided / later / onward", "stay_norway": "stay in Norway",
    "left_to_ukraine": "left for Ukraine", "left_onward": "left for another country", "not_observed": "not observed (non-response)",
    "return_later": "return some time after the war", "move_onward": "move on to another country", "uncertain": "uncertain",
}
COLOURS = {
    "return_asap": "#1f77b4", "undecided": "#9aa5b1", "stay_norway": "#2ca02c", "left_to_ukraine": "#f2a900",
    "left_onward": "#d62728", "not_observed": "#c9ced6", "return_later": "#6baed6", "move_onward": "#9467bd",
    "uncertain": "#9aa5b1",
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13, color="#1f2933")


@dataclass
class ReportFigure:
    """One figure of the report: `figure` is None when the data for it does not exist (then `caption` says why)."""

    figure_id: str
    title: str
    figure: go.Figure | None
    caption: str
    source: str


def _n(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}".replace(",", " ")


def _label(value: str) -> str:
    return LABELS.get(value, str(value).replace("_", " "))


def _style(fig: go.Figure, height: int = 460) -> go.Figure:
    fig.update_layout(template="plotly_white", font=FONT, height=height, margin=dict(l=60, r=30, t=50, b=60),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      hoverlabel=dict(font_size=12))
    return fig


def _absent(figure_id: str, title: str, source: str, why: str) -> ReportFigure:
    return ReportFigure(figure_id, title, None, why, source)


def wave_colours(waves: Sequence[str]) -> dict[str, str]:
    return {wave: PALETTE[i % len(PALETTE)] for i, wave in enumerate(waves)}


# --- aspiration flows -------------------------------------------------------------------------------------------

def consecutive_pairs(waves: Sequence[str]) -> list[tuple[str, str]]:
    return list(zip(waves[:-1], waves[1:]))


def sankey_trace(pairs_frame: pd.DataFrame, waves: Sequence[str], visible: bool = True) -> go.Sankey:
    """One Sankey: columns are waves; a coarse aspiration at a wave flows into the next wave's answer or into
    leaving / non-response, which end the stream. Nodes are placed explicitly (plotly ignores `x` without `y`),
    each wave in its own column, categories in a fixed order from top to bottom."""
    flows = [row for row in pairs_frame.itertuples(index=False) if not pd.isna(row.n_persons) and row.n_persons > 0]
    inflow: dict[tuple[str, str], float] = {}
    outflow: dict[tuple[str, str], float] = {}
    for row in flows:
        outflow[(row.wave_from, row.aspiration_from)] = outflow.get((row.wave_from, row.aspiration_from), 0) + row.n_persons
        inflow[(row.wave_to, row.outcome_to)] = inflow.get((row.wave_to, row.outcome_to), 0) + row.n_persons
    size = {key: max(inflow.get(key, 0), outflow.get(key, 0)) for key in set(inflow) | set(outflow)}
    rank = {category: i for i, category in enumerate(COARSE + LEAVING)}
    column = {wave: i for i, wave in enumerate(waves)}
    keys = sorted(size, key=lambda key: (column.get(key[0], 99), rank.get(key[1], 99), key[1]))
    index = {key: i for i, key in enumerate(keys)}
    span = max(len(waves) - 1, 1)
    xs, ys = [], []
    for wave in dict.fromkeys(key[0] for key in keys):
        in_column = [key for key in keys if key[0] == wave]
        total = sum(size[key] for key in in_column)
        gap = 0.04 if len(in_column) > 1 else 0
        scale = (1 - gap * (len(in_column) - 1)) / total if total else 0
        top = 0.0
        for key in in_column:
            xs.append(min(max(column.get(wave, 0) / span, 0.001), 0.999))
            ys.append(min(max(top + size[key] * scale / 2, 0.001), 0.999))
            top += size[key] * scale + gap
    return go.Sankey(
        visible=visible, arrangement="fixed", valueformat="d", valuesuffix=" persons",
        node=dict(label=[f"{wave}: {_label(category)}" for wave, category in keys],
                  color=[COLOURS.get(category, "#7f7f7f") for _, category in keys],
                  x=xs, y=ys, pad=12, thickness=16, line=dict(width=0)),
        link=dict(source=[index[(row.wave_from, row.aspiration_from)] for row in flows],
                  target=[index[(row.wave_to, row.outcome_to)] for row in flows],
                  value=[int(row.n_persons) for row in flows],
                  color=[_transparent(COLOURS.get(row.outcome_to, "#7f7f7f")) for row in flows]),
    )


def _transparent(hex_colour: str, alpha: float = 0.45) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def flows_figure(transitions: pd.DataFrame | None, waves: Sequence[str], source: str) -> ReportFigure:
    """Sankey of coarse aspirations wave to wave, all persons and (dropdown) every subgroup value."""
    title = "Aspiration flows from wave to wave"
    if transitions is None or transitions.empty or len(waves) < 2:
        return _absent("flows", title, source, "Needs at least two waves in aspiration_transitions.")
    pairs = consecutive_pairs(waves)
    frame = transitions[[(a, b) in set(pairs) for a, b in zip(transitions.wave_from, transitions.wave_to)]]
    groups = (frame[["subgroup", "subgroup_value"]].drop_duplicates()
              .assign(first=lambda f: f.subgroup != "all").sort_values(["first", "subgroup", "subgroup_value"]))
    fig = go.Figure()
    buttons = []
    for i, (subgroup, value) in enumerate(zip(groups.subgroup, groups.subgroup_value)):
        part = frame[(frame.subgroup == subgroup) & (frame.subgroup_value == value)]
        fig.add_trace(sankey_trace(part, waves, visible=(i == 0)))
        name = "all persons" if subgroup == "all" else f"{subgroup.replace('_', ' ')}: {value}"
        buttons.append(dict(label=name, method="update",
                            args=[{"visible": [j == i for j in range(len(groups))]}]))
    fig.update_layout(updatemenus=[dict(buttons=buttons, direction="down", x=0, xanchor="left", y=1.12, yanchor="top",
                                        showactive=True)])
    _style(fig, height=560)
    fig.update_layout(margin=dict(l=20, r=20, t=70, b=20))
    all_rows = frame[frame.subgroup == "all"]
    bases = "; ".join(f"{a} → {b}: n = {_n(all_rows[(all_rows.wave_from == a) & (all_rows.wave_to == b)].n_persons.sum())}"
                      for a, b in pairs)
    suppressed = int(frame.filter(like="_suppressed").any(axis=1).sum()) if frame.filter(like="_suppressed").shape[1] else 0
    caption = ("Where people who gave a coarse aspiration in Norway at one wave stand at the next: their answer "
               "there, or leaving for Ukraine, leaving onward, or not observed (non-response) as streams of their "
               f"own. Choose a subgroup in the menu. Base: persons answering in Norway at the earlier wave ({bases}). "
               f"Flows below the minimum cell size are withheld ({suppressed} suppressed).")
    return ReportFigure("flows", title, fig, caption, source)


# --- aspiration shares ------------------------------------------------------------------------------------------

def shares_figure(shares: pd.DataFrame | None, waves: Sequence[str], source: str, scale: str = "coarse") -> ReportFigure:
    """Shares by wave, unweighted and weighted side by side, with 95 % Wilson intervals as error bars."""
    title = f"Aspiration shares by wave ({scale} scale)"
    if shares is None or shares.empty:
        return _absent(f"shares_{scale}", title, source, "marts.aspiration_by_wave has no rows.")
    frame = shares[shares.scale == scale]
    if frame.empty:
        return _absent(f"shares_{scale}", title, source, f"marts.aspiration_by_wave has no {scale}-scale rows.")
    wave_order = order_waves(frame.wave_id, waves)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05,
                        subplot_titles=("unweighted", "weighted (raked to UDI permits)"))
    categories = [c for c in COARSE if c in set(frame.aspiration)] if scale == "coarse" else sorted(set(frame.aspiration))
    for col, (value, low, high) in enumerate((("share", "share_ci_lower", "share_ci_upper"),
                                              ("weighted_share", "weighted_share_ci_lower", "weighted_share_ci_upper")), 1):
        for aspiration in categories:
            rows = frame[frame.aspiration == aspiration].set_index("wave_id").reindex(wave_order)
            fig.add_trace(go.Scatter(
                x=wave_order, y=rows[value], mode="lines+markers", name=_label(aspiration), legendgroup=aspiration,
                showlegend=(col == 1), line=dict(color=COLOURS.get(aspiration)), marker=dict(size=8),
                error_y=dict(type="data", symmetric=False, array=rows[high] - rows[value],
                             arrayminus=rows[value] - rows[low], thickness=1.2, width=4),
                customdata=list(zip(rows["n"], rows[low], rows[high])),
                hovertemplate="%{x}: %{y:.1%} (95 % CI %{customdata[1]:.1%}–%{customdata[2]:.1%}), n = %{customdata[0]}"
                              "<extra>" + _label(aspiration) + "</extra>",
            ), row=1, col=col)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="share", row=1, col=1)
    _style(fig)
    fig.update_layout(legend=dict(orientation="h", y=-0.14, yanchor="top", x=0), margin=dict(b=90))
    bases = frame.groupby("wave_id").base_n.max().reindex(wave_order)
    answers = ("coarse aspiration (comparable across waves)" if scale == "coarse"
               else "answer as the wave's question put it (fine scale)")
    caption = (f"Share of each {answers} among complete responses given in Norway, unweighted (left) and "
               "weighted by the cross-sectional raking weight (right). Bars are 95 % Wilson intervals; the weighted "
               "ones use Kish's effective sample size. Base: " + ", ".join(f"{w} n = {_n(b)}" for w, b in bases.items())
               + ". Shares of suppressed cells are withheld.")
    return ReportFigure(f"shares_{scale}", title, fig, caption, source)


def shares_with_intervals(mart: pd.DataFrame, release: pd.DataFrame | None) -> pd.DataFrame:
    """The mart's shares with their 95 % intervals (computed here when the mart predates its interval columns)
    and the release table's suppression applied."""
    frame = mart.copy()
    frame["base_n"] = frame.groupby(["wave_id", "scale"]).n.transform("sum")
    if "share_ci_lower" not in frame:
        bounds = [wilson_interval(s, b) for s, b in zip(frame.share, frame.base_n)]
        frame["share_ci_lower"], frame["share_ci_upper"] = zip(*bounds) if bounds else ([], [])
    if "weighted_share_ci_lower" not in frame:
        # a warehouse published before the mart had its intervals: without n_effective no honest weighted interval
        effective = frame["n_effective"] if "n_effective" in frame else pd.Series(float("nan"), index=frame.index)
        bounds = [wilson_interval(s, n) for s, n in zip(frame.weighted_share, effective)]
        frame["weighted_share_ci_lower"], frame["weighted_share_ci_upper"] = zip(*bounds) if bounds else ([], [])
    if release is not None and "n_suppressed" in release:
        flags = release.set_index(["wave_id", "scale", "aspiration"]).n_suppressed
        hidden = frame.set_index(["wave_id", "scale", "aspiration"]).index.map(lambda key: bool(flags.get(key, False)))
        for column in ("n", "share", "weighted_share", "share_ci_lower", "share_ci_upper",
                       "weighted_share_ci_lower", "weighted_share_ci_upper"):
            frame[column] = frame[column].where(~pd.Series(hidden, index=frame.index))
    else:
        frame = suppress_small(frame, "n", ["wave_id", "scale"])
        for column in ("share", "weighted_share", "share_ci_lower", "share_ci_upper",
                       "weighted_share_ci_lower", "weighted_share_ci_upper"):
            frame[column] = frame[column].where(~frame.n_suppressed)
    return frame


# --- retention --------------------------------------------------------------------------------------------------

OUTCOMES = (("n_responded_norway", "answered again in Norway", "#2ca02c"),
            ("n_responded_abroad", "answered again from abroad", "#f2a900"),
            ("n_not_observed", "not observed (dropped out)", "#c9ced6"))


def retention_figure(attrition: pd.DataFrame | None, waves: Sequence[str], source: str) -> ReportFigure:
    """Who drops out: for every subgroup value, the base split into answered again in Norway, from abroad, or not
    observed; one wave pair at a time (menu). Withheld counts leave a gap rather than a recomputable bar."""
    title = "Retention by wave pair and subgroup"
    if attrition is None or attrition.empty:
        return _absent("retention", title, source, "marts.attrition has no rows.")
    frame = attrition.copy()
    rank = {wave: i for i, wave in enumerate(waves)}
    pairs = sorted({(a, b) for a, b in zip(frame.wave_from, frame.wave_to)},
                   key=lambda p: (rank.get(p[1], 99) - rank.get(p[0], 99), rank.get(p[0], 99)))  # next wave first
    frame["subgroup_order"] = (frame.subgroup != "all").astype(int)
    frame = frame.sort_values(["subgroup_order", "subgroup", "subgroup_value"])
    fig = go.Figure()
    for i, pair in enumerate(pairs):
        rows = frame[(frame.wave_from == pair[0]) & (frame.wave_to == pair[1])]
        x = [rows.subgroup.str.replace("_", " ").tolist(), rows.subgroup_value.tolist()]
        for column, name, colour in OUTCOMES:
            fig.add_trace(go.Bar(
                x=x, y=_share(rows[column], rows.n_base), name=name, marker_color=colour, visible=(i == 0),
                legendgroup=name, customdata=list(zip(rows[column], rows.n_base)),
                hovertemplate="%{x}: %{y:.1%} (%{customdata[0]} of %{customdata[1]})<extra>" + name + "</extra>"))
    buttons = [dict(label=f"{a} → {b}", method="update",
                    args=[{"visible": [j // len(OUTCOMES) == i for j in range(len(pairs) * len(OUTCOMES))]}])
               for i, (a, b) in enumerate(pairs)]
    fig.update_yaxes(tickformat=".0%", range=[0, 1], title_text="share of the base")
    _style(fig, height=500)
    fig.update_layout(barmode="stack", bargap=0.3, margin=dict(t=80),
                      updatemenus=[dict(buttons=buttons, direction="down", x=1, xanchor="right", y=1.16,
                                        yanchor="top", showactive=True)])
    all_rows = frame[frame.subgroup == "all"]
    caption = ("Of the persons who answered in Norway at the earlier wave, the share who answered again at the later "
               "one in Norway, from abroad, or were not observed, by subgroup (gender, age band, children in Norway, "
               "region of origin); choose the wave pair in the menu. Base: "
               + "; ".join(f"{a} → {b} n = {_n(all_rows[(all_rows.wave_from == a) & (all_rows.wave_to == b)].n_base.sum())}"
                           for a, b in pairs) + ". Withheld counts leave a gap in their bar.")
    return ReportFigure("retention", title, fig, caption, source)


# --- leaving Norway ---------------------------------------------------------------------------------------------

def months_before_leaving_figure(exits: pd.DataFrame | None, waves: Sequence[str], source: str,
                                 bin_months: int = 3) -> ReportFigure:
    """Months in Norway before leaving, in bins, one bar series per wave the departure was reported in."""
    title = "Months in Norway before leaving"
    if exits is None or exits.dropna(subset=["months_in_norway"]).empty:
        return _absent("months_before_leaving", title, source, "No person with a reported departure and arrival month.")
    frame = exits.dropna(subset=["months_in_norway"]).copy()
    frame["bin_start"] = (frame.months_in_norway // bin_months * bin_months).astype(int)
    counts = frame.groupby(["reported_in_wave", "bin_start"]).size().rename("n").reset_index()
    counts = suppress_small(counts, "n", ["reported_in_wave"])
    if counts.n.isna().all():
        return _absent("months_before_leaving", title, source, _all_withheld(len(frame)))
    fig = go.Figure()
    colours = wave_colours(waves)
    for wave in order_waves(counts.reported_in_wave, waves):
        rows = counts[counts.reported_in_wave == wave]
        labels = [f"{start}–{start + bin_months - 1}" for start in rows.bin_start]
        fig.add_trace(go.Bar(x=labels, y=rows.n, name=f"reported in {wave}", marker_color=colours.get(wave),
                             hovertemplate="%{x} months: %{y} persons<extra>" + wave + "</extra>"))
    fig.update_xaxes(title_text="months in Norway before leaving", type="category",
                     categoryorder="array", categoryarray=[f"{s}–{s + bin_months - 1}" for s in sorted(set(counts.bin_start))])
    fig.update_yaxes(title_text="persons")
    _style(fig, height=400)
    fig.update_layout(barmode="group")
    bases = frame.groupby("reported_in_wave").size()
    caption = (f"Time between arrival and departure, in {bin_months}-month bins, of respondents who reported having "
               "left Norway, by the wave that reported it. Base: "
               + ", ".join(f"{w} n = {_n(bases.get(w))}" for w in order_waves(bases.index, waves))
               + ". Bins below the minimum cell size are withheld (with the next smallest where one alone would be).")
    return ReportFigure("months_before_leaving", title, fig, caption, source)


def destinations_figure(exits: pd.DataFrame | None, waves: Sequence[str], source: str) -> ReportFigure:
    title = "Destinations of those who left"
    if exits is None or exits.empty:
        return _absent("destinations", title, source, "No person reported leaving Norway.")
    counts = exits.groupby(["reported_in_wave", "destination"]).size().rename("n").reset_index()
    counts = suppress_small(counts, "n", ["reported_in_wave"])
    if counts.n.isna().all():
        return _absent("destinations", title, source, _all_withheld(len(exits)))
    fig = go.Figure()
    for destination in sorted(set(counts.destination)):
        rows = counts[counts.destination == destination].set_index("reported_in_wave").reindex(order_waves(counts.reported_in_wave, waves))
        fig.add_trace(go.Bar(x=rows.index, y=rows.n, name=_label(destination) if destination in LABELS else str(destination),
                             marker_color=COLOURS.get({"ukraine": "left_to_ukraine", "other": "left_onward"}.get(destination, ""), None),
                             hovertemplate="%{x}: %{y} persons<extra>" + str(destination) + "</extra>"))
    fig.update_yaxes(title_text="persons")
    fig.update_xaxes(title_text="wave the departure was reported in")
    _style(fig, height=380)
    fig.update_layout(barmode="stack")
    bases = exits.groupby("reported_in_wave").size()
    caption = ("Where respondents who left Norway went (Ukraine or another country), by the wave that reported it. Base: "
               + ", ".join(f"{w} n = {_n(bases.get(w))}" for w in order_waves(bases.index, waves))
               + ". Counts below the minimum cell size are withheld.")
    return ReportFigure("destinations", title, fig, caption, source)


def _share(count: pd.Series, base: pd.Series) -> pd.Series:
    """count / base as plain floats: a withheld (NULL) count or an empty base gives a gap, never NA or 0/0."""
    base = base.astype("float64")
    return count.astype("float64") / base.where(base > 0)


def exit_reasons_figure(reasons: pd.DataFrame | None, waves: Sequence[str], source: str) -> ReportFigure:
    """Table 1 view: share selecting each reason, of those asked, per wave."""
    title = "Reasons for leaving Norway (Table 1 view)"
    if reasons is None or reasons.empty:
        return _absent("exit_reasons", title, source, "marts.exit_reasons has no rows.")
    frame = reasons.copy()
    # plain floats: a suppressed count (NULL) or nobody asked (0) is a missing share, never NA or 0/0 in a max
    frame["share"] = _share(frame.n_selected, frame.n_asked)
    if frame.share.isna().all():
        return _absent("exit_reasons", title, source, _all_withheld(None))
    order = frame.groupby(["reason_code", "reason_label"]).share.mean().sort_values().index
    labels = [f"{code}. {_shorten(label)}" for code, label in order]
    full = dict(zip(labels, [label for _, label in order]))
    fig = go.Figure()
    colours = wave_colours(waves)
    for wave in order_waves(frame.wave_id, waves):
        rows = frame[frame.wave_id == wave].set_index(["reason_code", "reason_label"]).reindex(order)
        fig.add_trace(go.Bar(y=labels, x=rows.share, orientation="h", name=wave, marker_color=colours.get(wave),
                             customdata=list(zip(rows.n_selected, rows.n_asked, [full[l] for l in labels])),
                             hovertemplate="%{customdata[2]}<br>%{x:.1%}: %{customdata[0]} of %{customdata[1]}<extra>"
                                           + wave + "</extra>"))
    fig.update_xaxes(tickformat=".0%", title_text="share of those asked who selected the reason",
                     range=[0, min(1.0, float(frame.share.max()) * 1.15)])
    _style(fig, height=max(420, 34 * len(labels) + 120))
    fig.update_layout(barmode="group", margin=dict(l=330))
    asked = frame.groupby("wave_id").n_asked.max()
    caption = ("Share of respondents who left Norway (or, for reasons asked of everyone, of all asked) selecting each "
               "reason, per wave, as in Table 1 of Aasland & Deineko (2025). Base (largest n asked): "
               + ", ".join(f"{w} n = {_n(asked.get(w))}" for w in order_waves(asked.index, waves))
               + ". Suppressed counts are withheld.")
    return ReportFigure("exit_reasons", title, fig, caption, source)


def _all_withheld(base) -> str:
    return ("Every count of this figure is below the minimum cell size (PANEL_MIN_CELL), so all are withheld"
            + (f" (base n = {_n(base)})." if base is not None else "."))


def _shorten(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- UDI --------------------------------------------------------------------------------------------------------

def udi_monthly_figure(monthly: pd.DataFrame | None, source: str) -> ReportFigure:
    title = "UDI: applications, grants, valid permits and implied departures"
    if monthly is None or monthly.empty:
        return _absent("udi_monthly", title, source, "marts.udi_monthly has no rows.")
    frame = monthly.sort_values("month")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("per month (latest vintage)", "cumulative and stock"))
    fig.add_trace(go.Bar(x=frame.month, y=frame.applications, name="applications", marker_color="#9ecae1"), row=1, col=1)
    fig.add_trace(go.Bar(x=frame.month, y=frame.granted, name="grants", marker_color="#1f77b4"), row=1, col=1)
    for column, name, colour in (("granted_cumulative", "granted, cumulative", "#1f77b4"),
                                 ("valid_stock", "valid permits", "#2ca02c"),
                                 ("implied_departures_cumulative", "implied departures, cumulative", "#d62728")):
        fig.add_trace(go.Scatter(x=frame.month, y=frame[column], name=name, mode="lines", line=dict(color=colour, width=2),
                                 connectgaps=False), row=2, col=1)
    fig.update_yaxes(title_text="persons", row=1, col=1)
    fig.update_yaxes(title_text="persons", row=2, col=1)
    _style(fig, height=620)
    fig.update_layout(barmode="group")
    latest = frame.dropna(subset=["valid_stock"]).tail(1)
    caption = ("Ukrainian citizens: collective-protection applications and grants per month (latest vintage), grants so "
               "far, valid permits on the snapshot dates, and implied departures (granted so far minus valid permits). "
               f"Months: {len(frame)}; latest vintage {pd.Timestamp(frame.vintage_date.max()):%Y-%m-%d}"
               + (f"; valid permits at {latest.month.iloc[0]:%Y-%m}: n = {_n(latest.valid_stock.iloc[0])}" if len(latest) else "")
               + ". UDI's own published aggregates (no small cells).")
    return ReportFigure("udi_monthly", title, fig, caption, source)


def udi_revisions_figure(revisions: pd.DataFrame | None, source: str) -> ReportFigure:
    """Heat maps month x vintage of how far each vintage's figure is from the first one published."""
    title = "UDI: revisions across vintages"
    if revisions is None or revisions.empty:
        return _absent("udi_revisions", title, source, "marts.udi_revisions has no rows.")
    measures = sorted(set(revisions.measure))
    fig = make_subplots(rows=len(measures), cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=[f"{m}: change from the first published figure" for m in measures])
    for i, measure in enumerate(measures, 1):
        grid = (revisions[revisions.measure == measure]
                .pivot_table(index="vintage_date", columns="month", values="revision_from_first", aggfunc="sum"))
        fig.add_trace(go.Heatmap(
            x=[f"{m:%Y-%m}" if hasattr(m, "strftime") else str(m) for m in grid.columns],
            y=[f"{v:%Y-%m-%d}" if hasattr(v, "strftime") else str(v) for v in grid.index],
            z=grid.values, colorscale="RdBu", zmid=0, coloraxis=None, showscale=(i == 1),
            colorbar=dict(title="revision"), hovertemplate="month %{x}, vintage %{y}: %{z:+d}<extra>" + measure + "</extra>",
        ), row=i, col=1)
        fig.update_yaxes(title_text="vintage", type="category", row=i, col=1)
    _style(fig, height=360 * len(measures))
    n_vintages = revisions.vintage_date.nunique()
    revised = revisions[(revisions.revision_from_first.fillna(0) != 0)]
    caption = (f"For every month (columns) and every UDI vintage that reported it (rows, {n_vintages} vintages), how much "
               f"that vintage's figure differs from the first published one; {revised[['month', 'measure']].drop_duplicates().shape[0]} "
               "month-measure figures were revised at least once. White: unchanged.")
    return ReportFigure("udi_revisions", title, fig, caption, source)


# --- linkage ----------------------------------------------------------------------------------------------------

def linkage_quality_figure(quality: pd.DataFrame | None, waves: Sequence[str], source: str) -> ReportFigure:
    title = "Linkage quality against the synthetic truth"
    if quality is None or quality.empty:
        return _absent("linkage_quality", title, source,
                       "No linkage truth in this warehouse (real data): precision and recall cannot be scored.")
    rank = {wave: i for i, wave in enumerate(waves)}
    frame = quality.assign(order=[(rank.get(a, 99), rank.get(b, 99)) for a, b in zip(quality.wave_from, quality.wave_to)])
    frame = frame.sort_values(["order", "method"])
    x = [[f"{a} → {b}" for a, b in zip(frame.wave_from, frame.wave_to)], frame.method.tolist()]
    fig = go.Figure()
    for measure, colour in (("precision", "#1f77b4"), ("recall", "#ff7f0e"), ("f1", "#2ca02c")):
        fig.add_trace(go.Bar(x=x, y=frame[measure], name=measure, marker_color=colour,
                             customdata=list(zip(frame.true_pairs, frame.predicted_pairs)),
                             hovertemplate="%{x}: %{y:.3f} (true pairs %{customdata[0]}, predicted %{customdata[1]})"
                                           "<extra>" + measure + "</extra>"))
    fig.update_yaxes(title_text="score", range=[0, 1.02])
    _style(fig, height=440)
    fig.update_layout(barmode="group")
    overall = frame[frame.method == "all"]
    caption = ("Precision, recall and F1 of the cross-wave links per wave pair and linkage method (`all`: every method "
               "together), scored against the synthetic truth. Base: true cross-wave pairs per pair of waves: "
               + ", ".join(f"{a} → {b} n = {_n(t)}" for a, b, t in zip(overall.wave_from, overall.wave_to, overall.true_pairs))
               + ".")
    return ReportFigure("linkage_quality", title, fig, caption, source)


def link_methods_figure(link_counts: pd.DataFrame | None, waves: Sequence[str], source: str) -> ReportFigure:
    """Responses of record per wave by the method that linked them to their person."""
    title = "How responses were linked to persons"
    if link_counts is None or link_counts.empty:
        return _absent("link_methods", title, source, "marts.panel_tracking has no responses.")
    counts = suppress_small(link_counts, "n", ["wave_id"])
    fig = go.Figure()
    for i, method in enumerate(sorted(set(counts.link_method))):
        rows = counts[counts.link_method == method].set_index("wave_id").reindex(order_waves(counts.wave_id, waves))
        fig.add_trace(go.Bar(x=rows.index, y=rows.n, name=str(method), marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate="%{x}: %{y} responses<extra>" + str(method) + "</extra>"))
    fig.update_yaxes(title_text="responses of record")
    _style(fig, height=400)
    fig.update_layout(barmode="stack")
    bases = link_counts.groupby("wave_id").n.sum()
    caption = ("Responses of record per wave by how they were linked to a person (a new person, invitation token, "
               "equal e-mail hash, probabilistic). Base: " + ", ".join(
                   f"{w} n = {_n(bases.get(w))}" for w in order_waves(bases.index, waves))
               + ". Counts below the minimum cell size are withheld.")
    return ReportFigure("link_methods", title, fig, caption, source)
