"""Charts of a patient's trends against their dose, built in Python with plotly and drawn by the
vendored plotly.js basic bundle (scatter, bar and pie only, so only scatter traces here).

The one palette: every chart of symptoms (the patient's history chart here, the clinician's
dashboard in ``ldn_diary.clinic.charts``) takes its names, colours and line styles from
``SYMPTOM_STYLES`` and ``DOSE_STYLE``, so a symptom looks the same wherever it is drawn; other
treatments, flares and life events are drawn the same way on both by ``context_lane``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from ldn_diary.clinical.constants import SYMPTOMS
from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.diary.selectors import dose_at

from .selectors import TrendDayRow

# The last 12 weeks: LDN's effect usually shows within 4 to 12 weeks (docs/clinical-rules.md §2).
CHART_DAYS = 84


@dataclass(frozen=True)
class SeriesStyle:
    name: str  # as the clinician's chart and tables name it
    short: str  # as the patient's legend names it, where a phone has little room
    colour: str
    dash: str  # plotly line dash, so that colour is never the only way to tell lines apart


# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
SYMPTOM_STYLES = {
    "pain": SeriesStyle("Pain", "Pain", "#D55E00", "solid"),
    "fatigue": SeriesStyle("Fatigue", "Fatigue", "#0072B2", "dash"),
    "sleep": SeriesStyle("Sleep quality", "Sleep", "#009E73", "dot"),
    "mood": SeriesStyle("Mood", "Mood", "#CC79A7", "dashdot"),
}
DOSE_STYLE = SeriesStyle("Dose (mg)", "Dose (mg)", "#3b3b3b", "solid")
# Other treatments, flares and life events: a lane above the 0-10 scores. Each treatment is a bar
# over the days it was taken, labelled with its name (a triangle where it started, a square where
# it stopped); events are black symbols that differ by kind, so neither colour nor position alone
# carries the meaning.
TREATMENT_STYLE = SeriesStyle("Other treatments", "Treatments", "#E69F00", "solid")
EVENT_STYLES = {
    "flare": (SeriesStyle("Flare", "Flare", "#000000", "solid"), "star"),
    "life_event": (SeriesStyle("Life event", "Life event", "#000000", "solid"), "diamond-open"),
}
# At most this many treatment bars (the latest started); the rest are named in a note, and
# every one is in the lists beside the charts.
MAX_TREATMENT_ROWS = 4
SCORE_TOP = 10.3  # the 0-10 axis's upper end without a lane
LANE_START = 11.0  # the lane's first row: events, then one row per treatment above
LANE_ROW = 1.0  # a bar and the name written above it
LANE_HEADROOM = 0.9  # above the top row, for its name


def lane_scale(lane_top: float) -> float:
    """How much taller the score axis is with a lane: the dose axis grows by as much, so the
    dose line stays beside the scores and never runs through the lane."""
    return (lane_top + 0.3) / (SCORE_TOP + 0.3)


@dataclass(frozen=True)
class TreatmentMark:
    """A treatment as the charts draw it; ``category`` is its label ("Gabapentinoid")."""

    name: str
    category: str
    start: dt.date
    stop: dt.date | None


@dataclass(frozen=True)
class EventMark:
    date: dt.date
    kind: str  # a LifeEventKind value


@dataclass
class Lane:
    """What ``context_lane`` adds to a figure: traces, layout annotations, and the y axis top."""

    traces: list[go.Scatter] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    top: float = SCORE_TOP


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%b %Y}"


def _plain(text: str, limit: int) -> str:
    """User text for plotly's pseudo-HTML labels: shortened, with markup characters escaped."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text).replace("%{", "% {")


def context_lane(
    treatments: Sequence[TreatmentMark],
    events: Sequence[EventMark],
    *,
    x: Callable[[dt.date], Any],
    first: dt.date,
    last: dt.date,
    x_words: str = "%{x}",
    font_size: int = 10,
    max_rows: int = MAX_TREATMENT_ROWS,
    short_names: bool = False,
) -> Lane:
    """Treatment bars and event symbols for the days ``first``..``last``, drawn above the scores.

    ``x`` maps a date to the chart's x (a therapy day, or an ISO date) and ``x_words`` says it in
    an event's hover text ("day %{x}" for therapy days). At most ``max_rows`` treatments are
    drawn, the latest started; the others are named in a note. ``short_names`` gives the
    legend the short names (a small chart's legend keeps to one row). Treatments and events
    outside the days shown are left out; a bar that runs past an edge stops at it.
    """
    lane = Lane()
    shown = [t for t in treatments if t.start <= last and (t.stop is None or t.stop >= first)]
    shown.sort(key=lambda t: (t.start, t.name))
    hidden = shown[:-max_rows] if len(shown) > max_rows else []
    shown = shown[-max_rows:]
    in_view = [e for e in events if first <= e.date <= last]
    if not shown and not in_view and not hidden:
        return lane
    row = 0
    if in_view:
        for kind, (style, symbol) in EVENT_STYLES.items():
            days = [e.date for e in in_view if e.kind == kind]
            if days:
                lane.traces.append(
                    go.Scatter(
                        x=[x(d) for d in days],
                        y=[LANE_START] * len(days),
                        mode="markers",
                        name=style.short if short_names else style.name,
                        marker={"color": style.colour, "symbol": symbol, "size": 11},
                        hovertemplate=f"{style.name}: {x_words}<extra></extra>",
                    )
                )
        row = 1
    for i, t in enumerate(shown):
        y = LANE_START + row * LANE_ROW
        row += 1
        start, end = max(t.start, first), min(t.stop or last, last)
        stopped = t.stop is not None and t.stop <= last
        until = _day(t.stop) if t.stop else "now"
        lane.traces.append(
            go.Scatter(
                x=[x(start), x(end)],
                y=[y, y],
                mode="lines+markers",
                name=TREATMENT_STYLE.short if short_names else TREATMENT_STYLE.name,
                legendgroup="treatments",
                showlegend=i == 0,
                line={"color": TREATMENT_STYLE.colour, "width": 5},
                marker={
                    "color": TREATMENT_STYLE.colour,
                    "symbol": ["triangle-right", "square"],
                    "size": [10 if t.start >= first else 0, 8 if stopped else 0],
                },
                hovertemplate=(
                    f"{_plain(t.name, 60)} ({_plain(t.category, 40)}): {_day(t.start)} to "
                    f"{until}<extra></extra>"
                ),
            )
        )
        # The name sits above the bar, from its start; a bar in the last third of the chart
        # gets it right-aligned to its end instead, so it never runs off the plot.
        late = (start - first).days > 0.6 * max((last - first).days, 1)
        lane.annotations.append(
            {
                "text": _plain(t.name, 28),
                "x": x(end) if late else x(start),
                "y": y,
                "xref": "x",
                "yref": "y",
                "xanchor": "right" if late else "left",
                "yanchor": "bottom",
                "yshift": 3,
                "showarrow": False,
                "font": {"size": font_size, "color": "#3b3b3b"},
            }
        )
    if hidden:
        names = ", ".join(_plain(t.name, 20) for t in hidden)
        lane.annotations.append(
            {
                "text": f"Also: {names}",
                "xref": "paper",
                "yref": "y",
                "x": 0,
                "y": LANE_START + row * LANE_ROW - LANE_ROW / 2,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": font_size - 1, "color": "#505a6b"},
            }
        )
        row += 1
    lane.top = LANE_START + (row - 1) * LANE_ROW + LANE_HEADROOM
    return lane


def history_figure(
    entries: Iterable[DiaryEntry],
    trend_days: Iterable[TrendDayRow],
    timeline: Sequence[DoseChange],
    start: dt.date,
    end: dt.date,
    treatments: Sequence[TreatmentMark] = (),
    events: Sequence[EventMark] = (),
) -> dict:
    """The figure as a plain dict for ``json_script``.

    Each score is drawn as its daily values (points) and its 7-day mean (line): four noisy daily
    series as lines are unreadable on a phone. The means are the trend engine's stored ones
    (``TrendSeries``, docs/clinical-rules.md §2), never recomputed here; a day without one breaks
    the line (null, never carried forward).
    """
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    x = [d.isoformat() for d in days]
    entries = list(entries)
    rolling = {t.date: t for t in trend_days}
    fig = go.Figure()
    for name in SYMPTOMS:
        style = SYMPTOM_STYLES[name]
        label, colour = style.short, style.colour
        values = {e.date: getattr(e, name) for e in entries}
        logged = [d for d in days if d in values]
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in logged],
                y=[values[d] for d in logged],
                name=label,
                legendgroup=name,
                showlegend=False,
                mode="markers",
                marker={"color": colour, "size": 5, "opacity": 0.45},
                hovertemplate=f"{label} %{{y}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[_rounded(getattr(rolling.get(d), f"{name}_r7", None)) for d in days],
                name=label,
                legendgroup=name,
                mode="lines",
                connectgaps=False,
                line={"color": colour, "width": 2.5, "dash": style.dash},
                hoverinfo="skip",
            )
        )
    dose_x, dose_y = _dose_steps(timeline, days)
    if dose_x:
        fig.add_trace(
            go.Scatter(
                x=dose_x,
                y=dose_y,
                name=DOSE_STYLE.name,
                yaxis="y2",
                mode="lines",
                line={"color": DOSE_STYLE.colour, "width": 3, "shape": "hv"},
                hovertemplate="Dose %{y} mg<extra></extra>",
            )
        )
    lane = context_lane(treatments, events, x=lambda d: d.isoformat(), first=start, last=end)
    for trace in lane.traces:
        fig.add_trace(trace)
    # Ticks at the doses actually taken (1.5, 3, 4.5 ...) rather than at plotly's round numbers.
    dose_ticks = sorted({y for y in dose_y if y is not None})
    top_mg = max(dose_ticks, default=0)
    fig.update_layout(
        template="none",
        height=360,
        margin={"l": 34, "r": 44 if dose_x else 8, "t": 8, "b": 8},
        font={"family": "system-ui, sans-serif", "size": 12, "color": "#1d2433"},
        hovermode="x unified",
        legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"},
        xaxis={
            "type": "date",
            "tickformat": "%-d %b",
            "showgrid": False,
            "fixedrange": True,
            # Half a day either side, so the first and last markers are not cut in half.
            "range": [_half_day(start, -1), _half_day(end, 1)],
        },
        annotations=lane.annotations,
        yaxis={
            "range": [-0.3, lane.top],
            "tickvals": [0, 2, 4, 6, 8, 10],
            "gridcolor": "#e3e7ee",
            "zeroline": False,
            "fixedrange": True,
            "title": {"text": "0–10"},
        },
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, max(top_mg * 1.15, 1) * lane_scale(lane.top)],
            "tickvals": dose_ticks,
            "ticktext": [f"{mg:g}" for mg in dose_ticks],
            "title": {"text": "mg"},
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
    )
    figure = json.loads(fig.to_json())
    # "none" still serialises as a stub template; plotly.js draws the same without it.
    figure["layout"].pop("template", None)
    return figure


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 1)


def _half_day(day: dt.date, direction: int) -> str:
    """Noon before (direction -1) or after (+1) midnight starting ``day``, as plotly reads it."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=12 * direction)
    return moment.isoformat(sep=" ")


def _dose_steps(
    timeline: Sequence[DoseChange], days: list[dt.date]
) -> tuple[list[str], list[float | None]]:
    """Points for a step line (shape "hv"): the dose at the window start, each change inside the
    window, and the dose again at the window end so the last step reaches the right edge."""
    start, end = days[0], days[-1]
    points: list[tuple[dt.date, int | None]] = []
    first = dose_at(timeline, start)
    points.append((start, first.dose_ug if first else None))
    points += [(c.effective_date, c.dose_ug) for c in timeline if start < c.effective_date <= end]
    last = dose_at(timeline, end)
    points.append((end, last.dose_ug if last else None))
    if all(ug is None for _, ug in points):
        return [], []
    return (
        [d.isoformat() for d, _ in points],
        [round(ug / 1000, 3) if ug is not None else None for _, ug in points],
    )
