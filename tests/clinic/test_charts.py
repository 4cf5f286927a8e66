"""The dashboard figure: its traces and shapes, the basic plotly.js bundle, the 30 KB budget."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from ldn_diary.clinic import charts, presentation

from .conftest import days_ago, recompute, write_diary

SYMPTOMS = ("Pain", "Fatigue", "Sleep quality", "Mood")
# plotly.js 4.1.1 "basic" registers scatter, bar and pie only (static/vendor).
BASIC_TRACE_TYPES = {"scatter", "bar", "pie"}


@pytest.fixture
def figure(alice, carol):
    today = carol.local_today()
    write_diary(
        alice,
        start=days_ago(today, 90),
        last=90,
        pain=lambda n: 7 if n < 20 else 4,
        dose_ug=lambda n: 1500 if n < 21 else 3000 if n < 42 else 4500,
        dreams=lambda n: ("vivid", "normal", "nightmares", "none")[n % 4],
        side_effects=lambda n: ("vivid_dreams", "insomnia") if n < 21 else (),
        dose_taken=lambda n: "no" if n % 17 == 0 else "yes",
        skip=lambda n: n % 11 == 5,
    )
    recompute(alice)
    return presentation.patient_dashboard(carol, alice).figure


def points(trace) -> list[tuple[int, float]]:
    """(x, y) of a trace's non-empty points, whether it has an x list or x0 + dx."""
    ys = trace["y"]
    xs = trace.get("x") or [trace["x0"] + i * trace["dx"] for i in range(len(ys))]
    return [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]


def traces(figure):
    return {t["name"]: t for t in figure["data"]}


def shapes(figure):
    return {s["name"]: s for s in figure["layout"]["shapes"]}


def test_daily_points_and_7_day_lines_for_four_symptoms_with_legend_toggles(figure):
    by_name = traces(figure)
    for symptom in SYMPTOMS:
        daily, mean = by_name[f"{symptom} (daily)"], by_name[f"{symptom} (7-day mean)"]
        assert daily["mode"] == "markers" and mean["mode"] == "lines"
        assert daily["legendgroup"] == mean["legendgroup"]  # one legend click toggles both
        # Every symptom is shown from the start, told apart by dash and point shape
        # as well as colour.
        assert daily.get("visible", True) is True and mean.get("visible", True) is True
    daily = points(by_name["Pain (daily)"])
    assert len(daily) == 91 + 14 - 9  # days logged (every 11th skipped)
    assert daily[0] == (-14, 7) and daily[-1] == (90, 4)
    assert (5, 7) not in daily and (16, 7) not in daily  # missed days stay missing
    # Rolling means keep their gaps (None), never carried forward; one decimal.
    assert all(v is None or round(v, 1) == v for v in by_name["Pain (7-day mean)"]["y"])


def test_dose_is_a_step_line_on_a_second_axis_in_mg(figure):
    dose = traces(figure)["Dose (mg)"]
    assert dose["line"]["shape"] == "hv" and dose["yaxis"] == "y2"
    assert dose["y"][:3] == [1.5, 3.0, 4.5]
    assert dose["x"][:3] == [0, 21, 42]
    axis = figure["layout"]["yaxis2"]
    # A band of its own under the scores (overlaid, the top step always sat at score
    # height 8, on top of a baseline of 8.0).
    assert "overlaying" not in axis
    scores = figure["layout"]["yaxis"]["domain"]
    assert (
        axis["domain"][1] < scores[0]
        and axis["domain"][0] > figure["layout"]["yaxis3"]["domain"][1]
    )
    assert axis["title"]["text"].replace("<br>", " ") == "Dose (mg)"


def test_symptoms_differ_by_line_dash_and_point_shape_not_only_colour(figure):
    by_name = traces(figure)
    dashes = {by_name[f"{s} (7-day mean)"]["line"]["dash"] for s in SYMPTOMS}
    shapes_ = {by_name[f"{s} (daily)"]["marker"]["symbol"] for s in SYMPTOMS}
    assert len(dashes) == len(shapes_) == len(SYMPTOMS)


def test_baseline_thresholds_and_the_response_window(figure, alice):
    from ldn_diary.trends.selectors import trend_summary_for

    baseline = trend_summary_for(alice).data["baseline"]["pain"]
    s = shapes(figure)
    assert s["Baseline pain"]["type"] == "line"
    assert s["Baseline pain"]["y0"] == pytest.approx(baseline, abs=0.01)
    assert s["Pain -30 %"]["y0"] == pytest.approx(0.7 * baseline, abs=0.01)
    assert s["Pain -50 %"]["y0"] == pytest.approx(0.5 * baseline, abs=0.01)
    assert s["Pain -30 %"]["line"]["dash"] == "dash" == s["Pain -50 %"]["line"]["dash"]
    # Each week window shaded as the engine computes it: week 4 is days 14-27, and so on
    # (docs/clinical-rules.md §2); the label names the week it shades.
    for week, first, last in ((4, 14, 27), (8, 42, 55), (12, 70, 83)):
        window = s[f"Week {week} window"]
        assert window["type"] == "rect" and (window["x0"], window["x1"]) == (first, last + 1)
        assert window["xref"] == "x" and window["layer"] == "below"
        assert window["label"]["text"] == f"wk {week}"


def test_side_effect_and_dream_strip(figure):
    by_name = traces(figure)
    strip = {name: t for name, t in by_name.items() if t.get("yaxis") == "y3"}
    assert {"Vivid dreams", "Insomnia", "Headache", "Nausea", "Anxiety", "Other"} <= set(strip)
    assert {"Dreams: normal", "Dreams: vivid", "Nightmares", "Dose not taken"} <= set(strip)
    assert strip["Insomnia"]["x"] and max(strip["Insomnia"]["x"]) < 21
    assert set(strip["Insomnia"]["y"]) == {labels_row(figure, "Insomnia")}
    assert not strip["Nausea"]["x"]
    assert strip["Nightmares"]["marker"]["size"] > strip["Dreams: normal"]["marker"]["size"]
    labels = figure["layout"]["yaxis3"]["ticktext"]
    assert "Dreams" in labels and "Vivid dreams" in labels


def labels_row(figure, label):
    axis = figure["layout"]["yaxis3"]
    return axis["tickvals"][axis["ticktext"].index(label)]


def test_titles_axes_and_only_basic_bundle_traces(figure):
    layout = figure["layout"]
    assert "against the LDN dose" in layout["title"]["text"]
    assert layout["xaxis"]["title"]["text"].startswith("Weeks since the first LDN dose")
    assert layout["yaxis"]["title"]["text"] == "Score 0-10"
    assert {t["type"] for t in figure["data"]} <= BASIC_TRACE_TYPES
    assert "template" not in layout


def test_figure_json_is_under_30_kb_with_no_per_point_text(figure):
    assert charts.json_size(figure) < 30 * 1024
    for trace in figure["data"]:
        assert "text" not in trace and "customdata" not in trace and "hovertext" not in trace


def test_a_long_busy_diary_stays_under_30_kb(alice, carol):
    today = carol.local_today()
    write_diary(
        alice,
        start=days_ago(today, 365),
        last=365,
        pain=lambda n: 3 + n % 5,
        fatigue=lambda n: 2 + n % 7,
        dose_ug=lambda n: 1500 * (1 + min(n // 30, 7)),
        dreams=lambda n: ("vivid", "normal", "nightmares")[n % 3],
        side_effects=lambda n: ("vivid_dreams", "headache", "nausea", "anxiety")[: 1 + n % 4],
        dose_taken=lambda n: ("yes", "no", "partly")[n % 3],
    )
    recompute(alice)
    figure = presentation.patient_dashboard(carol, alice).figure
    assert charts.json_size(figure) < 30 * 1024


def test_without_a_valid_baseline_no_threshold_lines_are_drawn(alice, carol):
    today = carol.local_today()
    write_diary(alice, start=days_ago(today, 40), last=40, skip=lambda n: n < -5)
    recompute(alice)
    figure = presentation.patient_dashboard(carol, alice).figure
    assert set(shapes(figure)) == {"Week 4 window", "Week 8 window", "Week 12 window"}
    assert "No valid baseline" in figure["layout"]["annotations"][0]["text"]


def test_an_ultra_low_titration_gets_a_log_dose_axis(alice, carol):
    today = carol.local_today()
    write_diary(
        alice,
        start=days_ago(today, 60),
        last=60,
        dose_ug=lambda n: (1, 10, 100, 1000)[min(n // 14, 3)],
    )
    recompute(alice)
    axis = presentation.patient_dashboard(carol, alice).figure["layout"]["yaxis2"]
    assert axis["type"] == "log" and axis["tickvals"] == [0.001, 0.01, 0.1, 1.0]


def test_the_page_embeds_the_figure_once_and_loads_plotly_once(client, carol, alice, figure):
    client.force_login(carol)
    html = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert html.count("vendor/plotly-basic-4.1.1.min.js") == 1
    assert html.count("js/clinic.js") == 1
    match = re.search(
        r'<script id="timeline-figure" type="application/json">(.*?)</script>', html, re.S
    )
    embedded = json.loads(match.group(1))
    assert embedded == json.loads(json.dumps(figure))
    assert len(match.group(1).encode()) < 30 * 1024
    assert 'data-figure="timeline-figure"' in html
