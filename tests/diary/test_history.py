"""The history page: month calendar, streak, and the 12-week chart with the dose as a step line."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db.models import F
from django.urls import reverse

from ldn_diary.diary.selectors import current_streak, dose_timeline, entries_between
from ldn_diary.diary.services import dose_change_add
from ldn_diary.trends.charts import history_figure
from ldn_diary.trends.selectors import trend_days_for
from ldn_diary.trends.services import trends_recompute_patients

from ..conftest import INSTANTS
from .conftest import save_entry, seed_days

HISTORY_URL = reverse("diary:history")


def _cells(response) -> dict:
    """The calendar's cells by date (padding days outside the view have state "outside")."""
    return {cell.date: cell for week in response.context["weeks"] for cell in week}


def test_the_calendar_marks_logged_backfilled_and_open_days(alice_client, alice, today):
    assert today == dt.date(2026, 11, 18)  # the suite's instant: mid-month (tests/conftest.py)
    save_entry(alice, today)
    save_entry(alice, today - dt.timedelta(days=2))  # backfilled
    response = alice_client.get(HISTORY_URL, {"month": today.strftime("%Y-%m")})
    cells = _cells(response)
    assert cells[today].state == "logged" and cells[today].today
    assert cells[today - dt.timedelta(days=2)].state == "backfilled"
    # Alice joined today, but the days she may still fill in are open, not "before".
    assert cells[today - dt.timedelta(days=1)].state == "open"
    assert cells[today + dt.timedelta(days=1)].state == "future"
    body = response.content.decode()
    assert "Filled in later" in body and "No entry" in body
    for word in ("missed", "failed", "broke"):
        assert word not in body.lower()


def test_days_before_the_patient_started_are_not_counted_as_gaps(alice_client, alice, today):
    save_entry(alice, today)
    cells = _cells(alice_client.get(HISTORY_URL))
    # 1 November is 17 days back: outside the backfill window, and before Alice joined.
    first = today.replace(day=1)
    assert cells[first].state == "before" and not cells[first].editable


@pytest.mark.parametrize("instant", [INSTANTS["first-of-month-after-midnight-utc"]], indirect=True)
def test_on_the_first_the_calendar_reaches_back_into_last_month(alice_client, alice, today):
    assert today == dt.date(2026, 12, 1)
    save_entry(alice, today - dt.timedelta(days=1))  # 30 November, filled in on 1 December
    response = alice_client.get(HISTORY_URL)
    assert response.context["month"] == dt.date(2026, 12, 1)
    cells = _cells(response)
    assert (
        cells[dt.date(2026, 11, 30)].state == "backfilled" and cells[dt.date(2026, 11, 30)].editable
    )
    assert cells[dt.date(2026, 11, 17)].editable and cells[dt.date(2026, 11, 17)].show_month
    assert cells[dt.date(2026, 11, 16)].state == "outside"  # before the window: not shown
    body = response.content.decode()
    assert '?date=2026-11-30"' in body and '?date=2026-11-17"' in body
    assert "with the end of November that you can still fill in" in body
    # Going back to November shows the month itself, with its last 14 days tappable.
    november = _cells(alice_client.get(HISTORY_URL, {"month": "2026-11"}))
    assert november[dt.date(2026, 11, 17)].editable and not november[dt.date(2026, 11, 16)].editable


def test_months_are_navigable_back_to_the_first_data_and_not_into_the_future(
    alice_client, alice, today
):
    seed_days(alice, 70, end=today)
    response = alice_client.get(HISTORY_URL)
    assert response.context["next_month"] is None
    assert response.context["prev_month"] is not None
    earlier = alice_client.get(
        HISTORY_URL, {"month": response.context["prev_month"].strftime("%Y-%m")}
    )
    assert earlier.status_code == 200 and earlier.context["next_month"] is not None
    future = alice_client.get(HISTORY_URL, {"month": "2999-01"})
    assert future.context["month"] == today.replace(day=1)
    for bad in ("garbage", "0001-01", "2026-13", "1-1"):
        assert alice_client.get(HISTORY_URL, {"month": bad}).status_code == 200


def test_the_streak_counts_back_from_today_or_yesterday():
    today = dt.date(2026, 11, 24)
    days = [today - dt.timedelta(days=n) for n in (1, 2, 3, 5)]
    assert current_streak(days, today) == 3  # today not logged yet does not break it
    assert current_streak([*days, today], today) == 4
    assert current_streak([today - dt.timedelta(days=2)], today) == 0
    assert current_streak([], today) == 0


def test_the_page_shows_the_streak_kindly(alice_client, alice, today):
    seed_days(alice, 5, end=today - dt.timedelta(days=1))
    body = alice_client.get(HISTORY_URL).content.decode()
    assert "5</span> days in a row" in body
    assert "5 days logged in the last 12 weeks" in body


def test_the_chart_has_daily_points_weekly_means_and_a_dose_step_line(alice, today):
    start = today - dt.timedelta(days=83)
    dose_change_add(patient=alice, effective_date=start - dt.timedelta(days=10), dose_ug=1500)
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=10), dose_ug=4500)
    for n, pain in [(0, 7), (2, 5), (3, 4), (4, 6), (5, 2)]:
        save_entry(alice, today - dt.timedelta(days=n), pain=pain)
    trends_recompute_patients(patient_ids=[alice.pk])
    fig = history_figure(
        entries_between(alice, start, today),
        trend_days_for(alice, start, today),
        dose_timeline(alice),
        start,
        today,
    )
    names = [(t["name"], t["mode"]) for t in fig["data"]]
    assert names == [
        ("Pain", "markers"),
        ("Pain", "lines"),
        ("Fatigue", "markers"),
        ("Fatigue", "lines"),
        ("Sleep", "markers"),
        ("Sleep", "lines"),
        ("Mood", "markers"),
        ("Mood", "lines"),
        ("Dose (mg)", "lines"),
    ]
    points, mean = fig["data"][0], fig["data"][1]
    assert points["y"] == [2, 6, 4, 5, 7]  # only the logged days, oldest first
    assert len(mean["x"]) == 84 and mean["connectgaps"] is False
    # Today's window holds 7, 5, 4, 6, 2 (five of seven days): mean 4.8. Three days earlier the
    # window has only 4, 6, 2 (three days): too few, so no value rather than a guess.
    assert mean["y"][-1] == 4.8 and mean["y"][-4] is None
    dose = fig["data"][-1]
    assert dose["yaxis"] == "y2" and dose["line"]["shape"] == "hv"
    assert dose["x"] == [
        start.isoformat(),
        (today - dt.timedelta(days=10)).isoformat(),
        today.isoformat(),
    ]
    assert dose["y"] == [1.5, 4.5, 4.5]
    assert fig["layout"]["yaxis2"]["tickvals"] == [1.5, 4.5]
    assert "template" not in fig["layout"]
    assert len(json.dumps(fig)) < 16_000


def test_the_lines_are_the_stored_trends_and_a_lag_is_said(alice_client, alice, today):
    from ldn_diary.trends.models import TrendSeries, TrendState

    seed_days(alice, 10, end=today, dose_steps=[(0, 1500)])
    trends_recompute_patients(patient_ids=[alice.pk])
    body = alice_client.get(HISTORY_URL).content.decode()
    assert 'id="trend-status"' not in body
    # A write the trend engine has not caught up with yet (as with the broker down).
    TrendState.objects.filter(patient=alice).update(data_version=F("data_version") + 1)
    series = TrendSeries.objects.get(patient=alice)
    series.pain_total7[(today - series.start).days] = 65  # a 7-day mean of 65 / 7 = 9.29
    series.save(update_fields=["pain_total7"])
    response = alice_client.get(HISTORY_URL)
    body = response.content.decode()
    assert "The 7-day lines: Not yet updated with the latest entries" in body
    pain_line = response.context["figure"]["data"][1]
    assert pain_line["y"][-1] == 9.3  # the stored value, rounded for display, not recomputed


def test_the_chart_has_no_dose_line_before_any_ldn(alice, today):
    save_entry(alice, today)
    start = today - dt.timedelta(days=83)
    fig = history_figure(entries_between(alice, start, today), [], [], start, today)
    assert "Dose (mg)" not in [t["name"] for t in fig["data"]]
    assert len(fig["data"]) == 8


def test_the_page_embeds_the_figure_and_loads_plotly_only_here(alice_client, alice, today):
    seed_days(alice, 20, end=today, dose_steps=[(0, 1500)])
    body = alice_client.get(HISTORY_URL).content.decode()
    assert '<script id="history-fig" type="application/json">' in body
    assert "vendor/plotly-basic-4.1.1.min.js" in body and "js/diary.js" in body
    assert "plotly" not in alice_client.get(reverse("diary:today")).content.decode()


@pytest.mark.parametrize("entries", [10, 100])
def test_the_history_query_count_does_not_grow(
    alice_client, alice, today, entries, django_assert_max_num_queries
):
    seed_days(alice, entries, end=today, dose_steps=[(0, 1500), (5, 3000), (9, 4500)])
    trends_recompute_patients(patient_ids=[alice.pk])
    # 6 for the page and calendar, 3 for the stored trend lines and their status.
    with django_assert_max_num_queries(9):
        response = alice_client.get(HISTORY_URL)
    assert response.status_code == 200


def test_a_new_patient_sees_an_invitation_not_a_reproach(alice_client):
    response = alice_client.get(HISTORY_URL)
    body = response.content.decode()
    assert "No days logged yet." in body
    assert response.context["prev_month"] is None and response.context["streak"] == 0
    assert [t["name"] for t in response.context["figure"]["data"]][::2] == [
        "Pain",
        "Fatigue",
        "Sleep",
        "Mood",
    ]


def test_the_chart_is_one_panel_per_symptom_with_baseline_thresholds_and_windows(alice, today):
    # The patient's chart no longer tangles four symptoms; each has its own panel,
    # with the baseline, pain's -30 % / -50 % lines and the week windows the clinician sees.
    start = today - dt.timedelta(days=83)
    first_dose = today - dt.timedelta(days=40)
    fig = history_figure(
        [],
        [],
        [],
        start,
        today,
        baseline={"pain": 7.0, "fatigue": 6.0, "sleep": 4.0, "mood": 5.0},
        therapy_start=first_dose,
    )
    axes = [t["yaxis"] for t in fig["data"]]
    assert axes == ["y", "y", "y3", "y3", "y4", "y4", "y5", "y5"]
    domains = [fig["layout"][k]["domain"] for k in ("yaxis", "yaxis3", "yaxis4", "yaxis5")]
    assert all(a[0] > b[1] for a, b in zip(domains, domains[1:], strict=False))  # no overlap
    shapes = {s["name"]: s for s in fig["layout"]["shapes"]}
    assert shapes["Pain baseline"]["y0"] == 7.0 and shapes["Pain baseline"]["yref"] == "y"
    assert shapes["Pain -30 %"]["y0"] == 4.9 and shapes["Pain -50 %"]["y0"] == 3.5
    assert shapes["Mood baseline"]["yref"] == "y5"
    week4 = shapes["Week 4 window"]  # therapy days 14-27
    assert week4["x0"].startswith((first_dose + dt.timedelta(days=13)).isoformat())
    assert week4["x1"].startswith((first_dose + dt.timedelta(days=27)).isoformat())
    assert week4["label"]["text"] == "wk 4"
    assert "Week 12 window" not in shapes  # not reached yet: nothing shaded
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert "Pain 0–10, lower is better" in titles
    assert "Sleep 0–10, higher is better" in titles


def test_the_chart_is_built_once_per_diary_version_and_again_after_any_change(
    alice_client, alice, today, monkeypatch
):
    """The figure is cached (building it is most of the page's work), under a key that moves
    with every write: an entry, and a treatment, which is not an entry but is drawn."""
    from ldn_diary.core import views
    from ldn_diary.diary.services import treatment_add

    built = []

    def counted(*args, **kwargs):
        built.append(1)
        return history_figure(*args, **kwargs)

    monkeypatch.setattr(views, "history_figure", counted)
    seed_days(alice, 10, end=today - dt.timedelta(days=1), dose_steps=[(0, 1500)])
    first = alice_client.get(HISTORY_URL).context["figure"]
    assert alice_client.get(HISTORY_URL).context["figure"] == first
    assert alice_client.get(HISTORY_URL, {"month": "2026-10"}).context["figure"] == first
    assert len(built) == 1

    save_entry(alice, today, pain=9)
    pain_points = alice_client.get(HISTORY_URL).context["figure"]["data"][0]
    assert len(built) == 2 and pain_points["x"][-1] == today.isoformat()
    assert pain_points["y"][-1] == 9

    treatment_add(patient=alice, name="Duloxetine", category="antidepressant", start_date=today)
    figure = alice_client.get(HISTORY_URL).context["figure"]
    assert len(built) == 3
    assert "Duloxetine" in json.dumps(figure)
