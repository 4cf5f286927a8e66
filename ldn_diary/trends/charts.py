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
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.utils import dateformat
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop

from ldn_diary.clinical.constants import (
    IMMPACT_MODERATE_PCT,
    IMMPACT_SUBSTANTIAL_PCT,
    SYMPTOMS,
    WEEK_WINDOWS,
    WINDOW_DAYS,
)
from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.diary.selectors import dose_at

from .selectors import TrendDayRow

# The last 12 weeks: LDN's effect usually shows within 4 to 12 weeks (docs/clinical-rules.md §2).
CHART_DAYS = 84


@dataclass(frozen=True)
class SeriesStyle:
    name: str  # as the clinician's chart and tables name it (English: clinician pages are)
    # As the patient's chart names it, where a phone has little room: marked for the catalogue
    # here and translated where the patient's chart is built (``history_figure``), per request.
    short: str
    colour: str
    dash: str  # plotly line dash, so that colour is never the only way to tell lines apart
    symbol: str = "circle"  # plotly marker of the daily points, for the same reason


# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
SYMPTOM_STYLES = {
    "pain": SeriesStyle("Pain", gettext_noop("Pain"), "#D55E00", "solid", "circle"),
    "fatigue": SeriesStyle("Fatigue", gettext_noop("Fatigue"), "#0072B2", "dash", "square"),
    "sleep": SeriesStyle("Sleep quality", gettext_noop("Sleep"), "#009E73", "dot", "diamond"),
    "mood": SeriesStyle("Mood", gettext_noop("Mood"), "#CC79A7", "dashdot", "triangle-up"),
}
DOSE_STYLE = SeriesStyle("Dose (mg)", "Dose (mg)", "#3b3b3b", "solid")
# Other treatments, flares and life events: a lane above the 0-10 scores. Each treatment is a bar
# over the days it was taken, labelled with its name (a triangle where it started, a square where
# it stopped); events are black symbols that differ by kind, so neither colour nor position alone
# carries the meaning.
TREATMENT_STYLE = SeriesStyle(
    gettext_noop("Other treatments"), gettext_noop("Treatments"), "#E69F00", "solid"
)
EVENT_STYLES = {
    "flare": (SeriesStyle("Flare", gettext_noop("Flare"), "#000000", "solid"), "star"),
    "life_event": (
        SeriesStyle("Life event", gettext_noop("Life event"), "#000000", "solid"),
        "diamond-open",
    ),
}
# At most this many treatment bars (the latest started); the rest are named in a note, and
# every one is in the lists beside the charts.
MAX_TREATMENT_ROWS = 4
SCORE_TOP = 10.3  # the 0-10 axis's upper end without a lane
LANE_START = 11.0  # the lane's first row: events, then one row per treatment above
LANE_ROW = 1.0  # a bar and the name written above it
LANE_HEADROOM = 0.9  # above the top row, for its name


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
    # Django's month abbreviation follows the active language ("1 Dec 2026", "1 Dic 2026").
    return dateformat.format(date, "j M Y")


def _english(text: str) -> str:
    """The clinician's charts keep their English words (clinician pages are English only)."""
    return text


def _month_tick(date: dt.date) -> str:
    return dateformat.format(date, "j M")


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
    words: Callable[[str], str] = _english,
) -> Lane:
    """Treatment bars and event symbols for the days ``first``..``last``, drawn above the scores.

    ``x`` maps a date to the chart's x (a therapy day, or an ISO date) and ``x_words`` says it in
    an event's hover text ("day %{x}" for therapy days). At most ``max_rows`` treatments are
    drawn, the latest started; the others are named in a note. ``short_names`` gives the
    legend the short names (a small chart's legend keeps to one row). Treatments and events
    outside the days shown are left out; a bar that runs past an edge stops at it. ``words``
    says the lane's own words: ``gettext`` on the patient's chart, English on the clinician's.
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
                        name=words(style.short) if short_names else words(style.name),
                        marker={"color": style.colour, "symbol": symbol, "size": 11},
                        hovertemplate=f"{words(style.name)}: {x_words}<extra></extra>",
                    )
                )
        row = 1
    for i, t in enumerate(shown):
        y = LANE_START + row * LANE_ROW
        row += 1
        start, end = max(t.start, first), min(t.stop or last, last)
        stopped = t.stop is not None and t.stop <= last
        until = _day(t.stop) if t.stop else words(gettext_noop("now"))
        lane.traces.append(
            go.Scatter(
                x=[x(start), x(end)],
                y=[y, y],
                mode="lines+markers",
                name=words(TREATMENT_STYLE.short if short_names else TREATMENT_STYLE.name),
                legendgroup="treatments",
                showlegend=i == 0,
                line={"color": TREATMENT_STYLE.colour, "width": 5},
                marker={
                    "color": TREATMENT_STYLE.colour,
                    "symbol": ["triangle-right", "square"],
                    "size": [10 if t.start >= first else 0, 8 if stopped else 0],
                },
                hovertemplate=words(gettext_noop("%(name)s (%(category)s): %(start)s to %(stop)s"))
                % {
                    "name": _plain(t.name, 60),
                    "category": _plain(t.category, 40),
                    "start": _day(t.start),
                    "stop": until,
                }
                + "<extra></extra>",
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
                "text": words(gettext_noop("Also: %(names)s")) % {"names": names},
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


# The patient's history chart is small multiples: one panel per symptom, so four noisy series
# never tangle, and the dose in a band of its own at the bottom. (axis, bottom, top) per panel;
# the dose keeps y2, the axis it had when it overlaid the scores.
HISTORY_PANELS = {
    "pain": ("y", 0.8, 1.0),
    "fatigue": ("y3", 0.57, 0.755),
    "sleep": ("y4", 0.34, 0.525),
    "mood": ("y5", 0.11, 0.295),
}
HISTORY_DOSE_DOMAIN = (0.0, 0.07)
HISTORY_HEIGHT = 720
# Which way is better, as each panel's title says it (docs/clinical-rules.md §1); translated
# where the title is built.
BETTER = {"pain": gettext_noop("lower is better"), "fatigue": gettext_noop("lower is better")}
HIGHER_IS_BETTER = gettext_noop("higher is better")


def history_figure(
    entries: Iterable[DiaryEntry],
    trend_days: Iterable[TrendDayRow],
    timeline: Sequence[DoseChange],
    start: dt.date,
    end: dt.date,
    treatments: Sequence[TreatmentMark] = (),
    events: Sequence[EventMark] = (),
    *,
    baseline: dict[str, float] | None = None,
    therapy_start: dt.date | None = None,
) -> dict:
    """The figure as a plain dict for ``json_script``: one panel per symptom.

    Each panel has its daily values (points) and 7-day mean (line), the patient's baseline for
    that symptom (``baseline``: the stored summary's, when valid), for pain the -30 % and -50 %
    lines the clinician sees, and the week 4, 8 and 12 response windows shaded from
    ``therapy_start`` (docs/clinical-rules.md §2), as on the clinician's chart. The means are the
    trend engine's stored ones (``TrendSeries``), never recomputed here; a day without one breaks
    the line (null, never carried forward). Its words are in the active language (the patient's,
    per request: tests/core/test_translations.py reads them).
    """
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    x = [d.isoformat() for d in days]
    entries = list(entries)
    rolling = {t.date: t for t in trend_days}
    fig = go.Figure()
    for name in SYMPTOMS:
        style = SYMPTOM_STYLES[name]
        label, colour = gettext(style.short), style.colour
        axis = HISTORY_PANELS[name][0]
        values = {e.date: getattr(e, name) for e in entries}
        logged = [d for d in days if d in values]
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in logged],
                y=[values[d] for d in logged],
                name=label,
                legendgroup=name,
                showlegend=False,
                yaxis=axis,
                mode="markers",
                marker={"color": colour, "size": 5, "opacity": 0.5, "symbol": style.symbol},
                hovertemplate=f"{label} %{{y}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[_rounded(getattr(rolling.get(d), f"{name}_r7", None)) for d in days],
                name=label,
                legendgroup=name,
                showlegend=False,
                yaxis=axis,
                mode="lines",
                connectgaps=False,
                line={"color": colour, "width": 2.5, "dash": style.dash},
                hovertemplate=gettext("%(symptom)s 7-day mean") % {"symptom": label}
                + " %{y}<extra></extra>",
            )
        )
    dose_x, dose_y = _dose_steps(timeline, days)
    if dose_x:
        fig.add_trace(
            go.Scatter(
                x=dose_x,
                y=dose_y,
                name=gettext("Dose (mg)"),
                showlegend=False,
                yaxis="y2",
                mode="lines",
                line={"color": DOSE_STYLE.colour, "width": 3, "shape": "hv"},
                hovertemplate=gettext("Dose %(mg)s mg") % {"mg": "%{y}"} + "<extra></extra>",
            )
        )
    # Treatments and events above the top (pain) panel's scores.
    lane = context_lane(
        treatments, events, x=lambda d: d.isoformat(), first=start, last=end, words=gettext
    )
    for trace in lane.traces:
        trace.update(showlegend=False)
        fig.add_trace(trace)
    shapes, annotations = _history_marks(start, end, baseline or {}, therapy_start)
    # Ticks at the doses actually taken (1.5, 3, 4.5 ...) rather than at plotly's round numbers.
    dose_ticks = sorted({y for y in dose_y if y is not None})
    top_mg = max(dose_ticks, default=0)
    # The band is short: at most three labels, else the lowest and highest dose.
    shown_ticks = dose_ticks if len(dose_ticks) <= 3 else [dose_ticks[0], dose_ticks[-1]]
    axes: dict[str, Any] = {}
    for name, (axis, bottom, top) in HISTORY_PANELS.items():
        style = SYMPTOM_STYLES[name]
        better = gettext(BETTER.get(name, HIGHER_IS_BETTER))
        axes["yaxis" if axis == "y" else f"yaxis{axis[1:]}"] = {
            "domain": [bottom, top],
            "anchor": "x",
            "range": [-0.5, lane.top if axis == "y" else 10.5],
            "tickvals": [0, 5, 10],
            "gridcolor": "#e3e7ee",
            "zeroline": False,
            "fixedrange": True,
        }
        annotations.append(
            {
                # Plain text: plotly draws <b> as an inline style attribute, which the
                # Content-Security-Policy refuses (tests/core/test_axe.py).
                "text": gettext("%(symptom)s 0–10, %(better)s")
                % {"symptom": gettext(style.short), "better": better},
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12, "color": "#1d2433"},
            }
        )
    if dose_x:
        annotations.append(
            {
                "text": gettext("LDN dose, mg"),
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": HISTORY_DOSE_DOMAIN[1],
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12, "color": "#1d2433"},
            }
        )
    fig.update_layout(
        template="none",
        height=HISTORY_HEIGHT,
        margin={"l": 34, "r": 12, "t": 22, "b": 28},
        font={"family": "system-ui, sans-serif", "size": 12, "color": "#1d2433"},
        hovermode="x unified",
        showlegend=False,
        xaxis={
            "type": "date",
            # Ticks on the first of each month, written here so the month is in the page's
            # language ("1 Sep", "1 sep"); plotly.js would write it in English.
            "tickvals": [d.isoformat() for d in days if d.day == 1],
            "ticktext": [_month_tick(d) for d in days if d.day == 1],
            # The hover's date is plotly's, so in English ("18 Nov") in every language.
            "hoverformat": "%-d %b",
            "showgrid": False,
            "fixedrange": True,
            "anchor": "y2" if dose_x else "y5",
            # Half a day either side, so the first and last markers are not cut in half.
            "range": [_half_day(start, -1), _half_day(end, 1)],
        },
        shapes=shapes,
        annotations=lane.annotations + annotations,
        yaxis2={
            "domain": list(HISTORY_DOSE_DOMAIN),
            "anchor": "x",
            "range": [0, max(top_mg * 1.2, 1)],
            "tickvals": shown_ticks,
            "ticktext": [number_format(Decimal(f"{mg:g}")) for mg in shown_ticks],  # 1,5 in es
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
            "visible": bool(dose_x),
        },
        **axes,
    )
    figure = json.loads(fig.to_json())
    # "none" still serialises as a stub template; plotly.js draws the same without it.
    figure["layout"].pop("template", None)
    return figure


def _history_marks(
    start: dt.date, end: dt.date, baseline: dict[str, float], therapy_start: dt.date | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shaded week windows across the symptom panels, and each panel's baseline line (pain
    also its -30 % and -50 % lines), as on the clinician's chart."""
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if therapy_start is not None:
        for week in WEEK_WINDOWS:
            first = therapy_start + dt.timedelta(days=7 * week - WINDOW_DAYS)
            last = therapy_start + dt.timedelta(days=7 * week - 1)
            if last < start or first > end:
                continue
            shapes.append(
                window_shape(
                    gettext("Week %(week)s window") % {"week": week},
                    # Short: it sits above a window a few days wide on a phone.
                    gettext("wk %(week)s") % {"week": week},
                    _half_day(max(first, start), -1),
                    _half_day(min(last, end), 1),
                    yref="paper",
                    y0=HISTORY_PANELS["mood"][1],
                )
            )
    for name, (axis, _bottom, _top) in HISTORY_PANELS.items():
        level = baseline.get(name)
        if level is None:
            continue
        symptom = gettext(SYMPTOM_STYLES[name].short)
        lines = [
            (
                gettext("%(symptom)s baseline") % {"symptom": symptom},
                level,
                "solid",
                gettext("baseline %(level)s") % {"level": number_format(level, 1)},
            )
        ]
        if name == "pain":
            lines += [
                (f"{symptom} -30 %", level * (1 - IMMPACT_MODERATE_PCT / 100), "dash", "-30 %"),
                (f"{symptom} -50 %", level * (1 - IMMPACT_SUBSTANTIAL_PCT / 100), "dash", "-50 %"),
            ]
        colour = SYMPTOM_STYLES[name].colour
        for line_name, y, dash, text in lines:
            shapes.append(
                level_shape(line_name, y, text, colour=colour, dash=dash, yref=axis, at="end")
            )
    return shapes, annotations


def window_shape(name: str, text: str, x0: Any, x1: Any, *, yref: str, y0: float) -> dict[str, Any]:
    """A shaded response window from x0 to x1 behind the lines, labelled above: the patient's
    history and the clinician's chart draw them alike."""
    return {
        "type": "rect",
        "name": name,
        "xref": "x",
        "yref": yref,
        "x0": x0,
        "x1": x1,
        "y0": y0,
        "y1": 1,
        "fillcolor": "#1f5fa8",
        "opacity": 0.08,
        "line": {"width": 0},
        "layer": "below",
        "label": {
            "text": text,
            "textposition": "top center",
            "font": {"size": 10, "color": "#505a6b"},
        },
    }


def level_shape(
    name: str, y: float, text: str, *, colour: str, dash: str, yref: str, at: str
) -> dict[str, Any]:
    """A level across the whole chart (a baseline, or its -30 % / -50 % line), labelled at its
    ``at`` end: the patient's history and the clinician's chart draw them alike."""
    return {
        "type": "line",
        "name": name,
        "xref": "x domain",
        "yref": yref,
        "x0": 0,
        "x1": 1,
        "y0": round(y, 2),
        "y1": round(y, 2),
        "line": {"color": colour, "width": 1.2, "dash": dash},
        "label": {
            "text": text,
            "textposition": at,
            "yanchor": "bottom",
            "font": {"size": 10, "color": colour},
        },
    }


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
