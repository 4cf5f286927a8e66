"""Plotly figures for the clinician's dashboard and the pre-visit brief.

Built in Python with plotly.graph_objects and sent to the page as compact JSON (json_script);
static/js/clinic.js only calls ``Plotly.newPlot``. The vendored bundle is plotly.js 4.1.1
"basic" (scatter, bar, pie), so only scatter traces and layout shapes are used here: the side
effect strip is markers on rows of a third y axis, not a heatmap.

Size budget: under 30 KB of JSON per patient (tests/clinic/test_charts.py). Hence x values are
therapy days (small integers) rather than ISO dates, 7-day means are rounded to one decimal,
hover text comes from one template per trace (never a text per point), and the default
template (about 8 KB of colour scales for trace types we never use) is dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from django.core.serializers.json import DjangoJSONEncoder

from ldn_diary.clinical.constants import (
    IMMPACT_MODERATE_PCT,
    IMMPACT_SUBSTANTIAL_PCT,
    SYMPTOMS,
    WEEK_WINDOWS,
    WINDOW_DAYS,
)
from ldn_diary.diary.models import SideEffect
from ldn_diary.trends.charts import (
    DOSE_STYLE,
    MAX_TREATMENT_ROWS,
    SCORE_TOP,
    SYMPTOM_STYLES,
    EventMark,
    TreatmentMark,
    context_lane,
    level_shape,
    window_shape,
)

PAIN_COLOUR = SYMPTOM_STYLES["pain"].colour
# Each week window the engine assesses is shaded on its own, exactly as it is computed: week w
# is therapy days 7w-14 .. 7w-1 (week 4 is days 14-27), so a rect from 7w-14 to 7w covers its
# days (docs/clinical-rules.md §2). The gaps between them are days no window counts.
RESPONSE_WINDOWS = tuple((w, 7 * w - WINDOW_DAYS, 7 * w) for w in WEEK_WINDOWS)
# The score panel, the dose panel under it, and the strip of side effects and dreams at the
# bottom: the dose has a band of its own, so no dose can sit on a baseline or threshold line
# (with a dose axis overlaying the scores, the top step always sat at score 8).
SCORE_DOMAIN = (0.5, 1.0)
DOSE_DOMAIN = (0.33, 0.45)
STRIP_DOMAIN = (0.0, 0.26)
BRIEF_SCORE_DOMAIN = (0.28, 1.0)
BRIEF_DOSE_DOMAIN = (0.0, 0.16)
DREAM_LEVELS = (
    ("normal", "Dreams: normal", 5, "#9fb7d6"),
    ("vivid", "Dreams: vivid", 8, "#4b6fa5"),
    ("nightmares", "Nightmares", 11, "#1d2433"),
)
BRIEF_LANE_ROWS = 2
# The brief's chart, in CSS pixels: static/css/clinic.css (.brief-chart) draws its box the same.
BRIEF_CHART_HEIGHT = 205


def strip_rows() -> tuple[str, ...]:
    """The strip chart's rows, named when the chart is drawn (the side effects' labels are
    translatable, so they are read in the request's language, never at import)."""
    return ("Dose not taken", *[str(label) for code, label in SideEffect.choices], "Dreams")


@dataclass(frozen=True)
class ChartEntry:
    date: dt.date
    pain: int
    fatigue: int
    sleep: int
    mood: int
    dreams: str
    side_effects: Sequence[str]
    dose_taken: str


@dataclass(frozen=True)
class ChartDay:
    date: dt.date
    pain_r7: float | None
    fatigue_r7: float | None
    sleep_r7: float | None
    mood_r7: float | None


def _series(xs: list[int], ys: list[Any]) -> dict[str, Any]:
    """x and y of a daily trace, as compact as plotly allows.

    Over a run of consecutive days, ``x0`` + ``dx`` replace the x list (plotly computes
    x = x0 + i * dx), with None on a day that has no value (a gap, never filled). Used when the
    days logged are at least half of the span, where the Nones cost less than the x list saves.
    """
    if not xs:
        return {"x": [], "y": []}
    span = xs[-1] - xs[0] + 1
    if len(xs) * 2 < span:
        return {"x": xs, "y": ys}
    dense: list[Any] = [None] * span
    for x, y in zip(xs, ys, strict=True):
        dense[x - xs[0]] = y
    return {"x0": xs[0], "dx": 1, "y": dense}


def _r1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _mg(dose_ug: int) -> float:
    return dose_ug / 1000


def timeline_figure(
    *,
    anchor: dt.date,
    therapy_started: bool,
    entries: Sequence[ChartEntry],
    days: Sequence[ChartDay],
    doses: Sequence[tuple[dt.date, int]],
    baseline_pain: float | None,
    end: dt.date,
    compact: bool = False,
    treatments: Sequence[TreatmentMark] = (),
    events: Sequence[EventMark] = (),
) -> go.Figure:
    """The therapy-timeline figure. ``compact`` is the brief's version: pain only, no strip.

    x is the therapy day (days since ``anchor``, the first non-zero dose; or the first entry
    when there is no dose yet, in which case no response window is drawn). Other treatments,
    flares and life events are drawn above the scores (``trends.charts.context_lane``).
    """

    def day(d: dt.date) -> int:
        return (d - anchor).days

    fig = go.Figure()
    symptoms = ("pain",) if compact else SYMPTOMS
    for symptom in symptoms:
        style = SYMPTOM_STYLES[symptom]
        name = style.name
        # Every symptom is drawn from the start; pain, the primary outcome, is the boldest, and
        # each symptom has its own line dash and point shape so colour never carries it alone.
        primary = symptom == "pain"
        colour = style.colour
        fig.add_trace(
            go.Scatter(
                **_series([day(e.date) for e in entries], [getattr(e, symptom) for e in entries]),
                mode="markers",
                name=f"{name} (daily)",
                legendgroup=symptom,
                showlegend=False,
                marker={
                    "color": colour,
                    "symbol": style.symbol,
                    "size": 4 if compact or not primary else 5,
                    "opacity": 0.45 if primary else 0.3,
                },
                hovertemplate=f"Day %{{x}}: {name.lower()} %{{y}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                **_series(
                    [day(d.date) for d in days], [_r1(getattr(d, f"{symptom}_r7")) for d in days]
                ),
                mode="lines",
                name=f"{name} (7-day mean)",
                legendgroup=symptom,
                line={"color": colour, "width": 3 if primary else 2, "dash": style.dash},
                hovertemplate=f"Day %{{x}}: {name.lower()} 7-day mean %{{y}}<extra></extra>",
            )
        )

    if doses:
        xs = [day(d) for d, _ in doses]
        ys = [_mg(ug) for _, ug in doses]
        last = day(end)
        if last > xs[-1]:
            xs.append(last)
            ys.append(ys[-1])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line_shape="hv",
                name=DOSE_STYLE.name,
                yaxis="y2",
                line={"color": DOSE_STYLE.colour, "width": 2},
                hovertemplate="From day %{x}: %{y} mg<extra></extra>",
            )
        )

    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if therapy_started:
        for week, x0, x1 in RESPONSE_WINDOWS:
            shapes.append(
                window_shape(f"Week {week} window", f"wk {week}", x0, x1, yref="y domain", y0=0)
            )
    if baseline_pain is not None:
        levels = (
            ("Baseline pain", baseline_pain, "solid", f"baseline {baseline_pain:.1f}"),
            (
                "Pain -30 %",
                baseline_pain * (1 - IMMPACT_MODERATE_PCT / 100),
                "dash",
                "-30 % (moderate)",
            ),
            (
                "Pain -50 %",
                baseline_pain * (1 - IMMPACT_SUBSTANTIAL_PCT / 100),
                "dash",
                "-50 % (substantial)",
            ),
        )
        for name, level, dash, text in levels:
            shapes.append(
                level_shape(name, level, text, colour=PAIN_COLOUR, dash=dash, yref="y", at="start")
            )
    else:
        annotations.append(
            {
                "text": "No valid baseline: baseline and -30 %/-50 % lines not drawn",
                "xref": "paper",
                "yref": "y domain",
                "x": 0.01,
                "y": 0.01,
                "xanchor": "left",
                "yanchor": "bottom",
                "bgcolor": "rgba(255,255,255,0.8)",
                "showarrow": False,
                "font": {"size": 11, "color": "#9a5b00"},
            }
        )

    main_domain = list(BRIEF_SCORE_DOMAIN if compact else SCORE_DOMAIN)
    if not compact:
        _strip(fig, entries, day)
    last_day = max(day(end), 7)
    first_day = min([day(e.date) for e in entries] + [0])
    lane = context_lane(
        treatments,
        events,
        x=day,
        first=anchor + dt.timedelta(days=first_day),
        last=end,
        x_words="day %{x}",
        font_size=9 if compact else 10,
        # The brief's chart is small: two bars at most, the rest are in its list.
        max_rows=BRIEF_LANE_ROWS if compact else MAX_TREATMENT_ROWS,
        short_names=compact,
    )
    for trace in lane.traces:
        fig.add_trace(trace)
    annotations += lane.annotations
    # The legend wraps to a second row when treatments or events join the dashboard's.
    wide_legend = bool(lane.traces) and not compact
    if lane.traces:
        # The response window shades the scores only, so its label stays clear of the lane.
        for shape in shapes:
            if shape["type"] == "rect":
                shape.update(yref="y", y0=-0.3, y1=SCORE_TOP)
    ticks = list(range(first_day - first_day % 14, last_day + 1, 14))
    start_text = f"{anchor.day} {anchor:%b %Y}"
    x_title = (
        f"Weeks since the first LDN dose ({start_text})"
        if therapy_started
        else f"Weeks since the first entry ({start_text}); no LDN dose recorded"
    )
    yaxis2 = {
        "title": {"text": "Dose (mg)" if compact else "Dose<br>(mg)", "font": {"size": 10}},
        "domain": list(BRIEF_DOSE_DOMAIN if compact else DOSE_DOMAIN),
        "anchor": "x",
        "side": "left",
        "showgrid": True,
        "gridcolor": "#f0f2f5",
        "zeroline": False,
        "fixedrange": True,
        "tickfont": {"size": 9},
        **_dose_axis([ug for _, ug in doses], compact=compact),
    }
    fig.update_layout(
        template=None,
        # The brief's chart has no title: its legend and axes say what it shows, and the page
        # has no line to spare (it prints on one page; tests/clinic/test_browser.py).
        title=_title(compact, wide_legend),
        height=BRIEF_CHART_HEIGHT if compact else 560,
        # The brief is drawn at a fixed size so that it prints the same on A4 and Letter
        # (static/css/clinic.css, .brief-chart); the dashboard follows its container.
        width=700 if compact else None,
        autosize=not compact,
        margin={
            "l": 44 if compact else 112,
            "r": 16,
            "t": 30 if compact else 96 if wide_legend else 64,
            "b": 40,
        },
        font={"family": "system-ui, sans-serif", "size": 11 if compact else 12},
        paper_bgcolor="#fff",
        plot_bgcolor="#fff",
        hovermode="closest",
        legend={
            "orientation": "h",
            "x": 0,
            "y": 1.0,
            "yanchor": "bottom",
            # One row on the brief: small print, narrow symbols.
            "font": {"size": 10 if compact else 11},
            **({"itemwidth": 30, "tracegroupgap": 0} if compact else {}),
        },
        xaxis={
            "title": {"text": x_title},
            "anchor": "y2" if compact else "y3",
            "tickmode": "array",
            "tickvals": ticks,
            "ticktext": [str(t // 7) for t in ticks],
            "range": [first_day - 1, last_day + 1],
            "zeroline": False,
            "gridcolor": "#e6e9ee",
        },
        yaxis={
            "title": {"text": "Score 0-10"},
            "domain": main_domain,
            "range": [-0.3, lane.top],
            "tickmode": "array",
            "tickvals": [0, 2, 4, 6, 8, 10],
            "zeroline": False,
            "gridcolor": "#e6e9ee",
        },
        yaxis2=yaxis2,
        shapes=shapes,
        annotations=annotations,
    )
    if not compact:
        # A phone-width container gets these layout overrides (static/js/clinic.js merges them
        # before drawing): shorter texts, a narrower left margin, room for a wrapped legend.
        fig.update_layout(
            meta={
                "narrow": {
                    "title": {"text": "Scores (0-10) against the LDN dose", "font": {"size": 14}},
                    "margin": {"l": 84, "r": 16, "t": 40, "b": 160},
                    "height": 700,
                    # A phone is too narrow for a legend row above the plot: list it underneath.
                    "legend": {
                        "orientation": "v",
                        "font": {"size": 11},
                        "x": 0,
                        "y": -0.14,
                        "yanchor": "top",
                    },
                    "xaxis": {"title": {"text": f"Weeks on LDN (from {start_text})"}},
                    "yaxis2": {"title": {"text": ""}},
                    "yaxis3": {"tickfont": {"size": 9}},
                }
            }
        )
    return fig


def _title(compact: bool, wide_legend: bool) -> dict[str, Any]:
    """The figure's title. The brief's chart has none: its legend and axes say what it shows,
    and the page has no line to spare (it prints on one page; tests/clinic/test_browser.py)."""
    if compact:
        return {"text": ""}
    title: dict[str, Any] = {
        "text": "Pain, fatigue, sleep and mood (0-10) against the LDN dose",
        "x": 0,
        "xanchor": "left",
        "font": {"size": 16},
    }
    if wide_legend:
        # With a two-row legend the title keeps to the top edge, above it.
        title.update(y=1, yref="container", yanchor="top", pad={"t": 6})
    return title


def _dose_axis(doses_ug: Sequence[int], *, compact: bool = False) -> dict[str, Any]:
    """Ticks for the dose band: the doses taken from 0, or decades for an ultra-low titration.

    An ultra-low titration (e.g. 0.001 -> 0.01 -> 0.1 -> 1 mg) spans three orders of magnitude;
    on a linear axis its first steps would all sit on zero, so it gets a log axis (a paused
    0 mg day then has no point, and the line breaks there).
    """
    nonzero = [ug for ug in doses_ug if ug > 0]
    if nonzero and max(nonzero) >= 100 * min(nonzero):
        low = math.floor(math.log10(min(nonzero) / 1000))
        high = math.ceil(math.log10(max(nonzero) / 1000))
        decades = [10.0**e for e in range(low, high + 1)]
        bottom, top = low - 0.2, high + 0.2
        return {
            "type": "log",
            "range": [bottom, top],
            "tickmode": "array",
            "tickvals": decades,
            "ticktext": [f"{v:g}" for v in decades],
        }
    # Ticks at the doses taken (up to four), else at 0 and the highest: the band is short, and
    # round steps of 1 mg would crowd it without naming the doses actually taken.
    taken = sorted({_mg(ug) for ug in nonzero})
    ticks = [0.0, *taken] if len(taken) <= 4 else [0.0, taken[-1]]
    if compact:  # the brief's band is a few pixels high: the highest dose only
        ticks = taken[-1:]
    top = max(taken + [1.0]) * 1.15
    return {
        "range": [0, round(top, 3)],
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [f"{t:g}" for t in ticks],
    }


def _strip(fig: go.Figure, entries: Sequence[ChartEntry], day) -> None:
    """Side effects, dreams and missed doses by day: markers on rows of the y3 axis."""
    rows = strip_rows()
    row_of = {label: i for i, label in enumerate(rows)}
    missed = [e for e in entries if e.dose_taken in ("no", "partly")]
    traces: list[tuple[str, list[int], int, str, int]] = []
    traces.append(
        (
            "Dose not taken",
            [day(e.date) for e in missed if e.dose_taken == "no"],
            row_of["Dose not taken"],
            "#b3261e",
            7,
        )
    )
    traces.append(
        (
            "Dose partly taken",
            [day(e.date) for e in missed if e.dose_taken == "partly"],
            row_of["Dose not taken"],
            "#e8a29c",
            7,
        )
    )
    for code, lazy_label in SideEffect.choices:
        label = str(lazy_label)
        xs = [day(e.date) for e in entries if code in e.side_effects]
        traces.append((label, xs, row_of[label], "#9a5b00", 7))
    for level, label, size, colour in DREAM_LEVELS:
        xs = [day(e.date) for e in entries if e.dreams == level]
        traces.append((label, xs, row_of["Dreams"], colour, size))
    for name, xs, row, colour, size in traces:
        fig.add_trace(
            go.Scatter(
                x=xs,
                # Every point is on its row. (Not y0 with dy=0: plotly.js 4 ignores a zero dy
                # and steps each point up one row, as the dashboard screenshot showed.)
                y=[row] * len(xs),
                mode="markers",
                name=name,
                yaxis="y3",
                showlegend=False,
                marker={"color": colour, "size": size, "symbol": "square"},
                hovertemplate=f"Day %{{x}}: {name.lower()}<extra></extra>",
            )
        )
    fig.update_layout(
        yaxis3={
            "domain": list(STRIP_DOMAIN),
            "anchor": "x",
            "tickmode": "array",
            "tickvals": list(range(len(rows))),
            "ticktext": list(rows),
            "range": [-0.6, len(rows) - 0.4],
            "showgrid": True,
            "gridcolor": "#f0f2f5",
            "zeroline": False,
            "fixedrange": True,
            "tickfont": {"size": 10},
        }
    )


def figure_json(fig: go.Figure) -> dict[str, Any]:
    """``fig.to_plotly_json()`` without the template: plotly.js's own defaults are enough."""
    data = fig.to_plotly_json()
    data["layout"].pop("template", None)
    return data


def json_size(figure: dict[str, Any]) -> int:
    """Bytes of the compact JSON the page embeds (what the 30 KB budget counts)."""
    return len(json.dumps(figure, separators=(",", ":")).encode())


class CompactJSONEncoder(DjangoJSONEncoder):
    """For ``json_script``: no spaces after separators (about a tenth of a figure's bytes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)
