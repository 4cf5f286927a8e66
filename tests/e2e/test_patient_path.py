"""End to end in Chromium: a new patient signs up on a phone (choosing a time zone),
sets a titration plan and a first dose, logs three days (one filled in later), edits one, double-
clicks save (one entry results), and sees the days in the calendar and the chart.

Every step leaves a screenshot in test-artifacts/screenshots (``shot``).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from ldn_diary.accounts.models import User
from ldn_diary.diary.models import DiaryEntry, DoseChange, TitrationPlan
from tests._screens import SCREENSHOTS, shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def tap_scores(page, pain: int, fatigue: int, sleep: int, mood: int) -> None:
    for field, value in (("pain", pain), ("fatigue", fatigue), ("sleep", sleep), ("mood", mood)):
        page.click(f"label[for=id_{field}_{value}]")
    page.click("label[for=id_dreams_1]")  # Normal


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/diary/")


def test_a_new_patient_signs_up_plans_doses_logs_and_sees_their_days(chromium, live_server, clock):
    page = chromium(375, 740)
    url = live_server.url

    # Sign up, choosing a time zone from the grouped list.
    page.goto(f"{url}/accounts/signup/")
    page.fill("input[name=email]", "nora@example.org")
    page.fill("input[name=username]", "nora")
    page.fill("input[name=display_name]", "Nora")
    page.select_option("select[name=time_zone]", "America/New_York")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    shot(page, "patient-01-sign-up-375")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    link = re.search(r"https?://[^/]+(/accounts/activate/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(url + link)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/diary/")
    nora = User.objects.get(username="nora")
    assert nora.time_zone == "America/New_York" and nora.is_active
    today = nora.local_today()

    # A titration plan, then the first dose from it.
    page.goto(f"{url}/diary/doses/")
    page.fill("input[name=start_mg]", "1.5")
    page.fill("input[name=step_mg]", "1.5")
    page.fill("input[name=interval_days]", "14")
    page.fill("input[name=target_mg]", "4.5")
    page.click("text=Save plan")
    page.wait_for_load_state()
    page.click("text=I started 1.5 mg today")
    page.wait_for_load_state()
    assert TitrationPlan.objects.filter(patient=nora).exists()
    assert list(DoseChange.objects.filter(patient=nora).values_list("dose_ug", flat=True)) == [1500]
    # The next step is announced with its date, and not offered until it is due.
    assert page.locator("text=I started 3 mg today").count() == 0
    assert page.locator("text=for 1 day").count() == 1
    shot(page, "patient-02-plan-and-first-dose-375")

    # Today, with a double click on save: one entry, not two.
    page.goto(f"{url}/diary/")
    tap_scores(page, 6, 7, 3, 5)
    page.dblclick("button.save")
    page.locator(".notice.saved").wait_for()
    shot(page, "patient-03-today-saved-375")
    assert DiaryEntry.objects.filter(patient=nora).count() == 1

    # Two days later (the session has ended by then: log in again), today, and yesterday
    # filled in later: three days, one of them backfilled.
    clock.shift(dt.timedelta(days=2))
    first_day, today = today, nora.local_today()
    assert today == first_day + dt.timedelta(days=2)
    log_in(page, url, "nora")
    for day, scores in ((today, (5, 6, 4, 5)), (today - dt.timedelta(days=1), (7, 7, 3, 4))):
        page.goto(f"{url}/diary/?date={day.isoformat()}")
        tap_scores(page, *scores)
        page.click("button.save")
        page.locator(".notice.saved").wait_for()
    shot(page, "patient-04-backfilled-375")
    entries = {e.date: e for e in DiaryEntry.objects.filter(patient=nora)}
    assert sorted(entries) == [first_day, today - dt.timedelta(days=1), today]
    assert [entries[d].backfilled for d in sorted(entries)] == [False, True, False]

    # Edit the first day: pain 6 -> 4.
    page.goto(f"{url}/diary/?date={first_day.isoformat()}")
    page.click("label[for=id_pain_4]")
    page.click("button.save")
    page.locator(".notice.saved").wait_for()
    assert DiaryEntry.objects.get(patient=nora, date=first_day).pain == 4
    assert DiaryEntry.objects.filter(patient=nora).count() == 3

    # The calendar marks the three days; the chart is drawn (rendered SVG, not only JSON).
    page.goto(f"{url}/diary/history/")
    page.wait_for_selector("#history-chart .main-svg")
    assert page.locator("table.calendar td.logged").count() == 2
    assert page.locator("table.calendar td.backfilled").count() == 1
    assert page.locator("table.calendar td.logged", has_text=str(first_day.day)).count() == 1
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('#history-chart .scatterlayer path')]
                 .filter(p => (p.getAttribute('d') || '').length > 3).length"""
    )
    assert drawn >= 4  # pain, fatigue, sleep and mood points at least
    shot(page, "patient-05-history-375")
    page.locator("#history-chart").screenshot(
        path=str(SCREENSHOTS / "patient-05-history-chart-375.png")
    )
    desk = chromium(1280, 900)
    log_in(desk, url, "nora")
    desk.goto(f"{url}/diary/history/")
    desk.wait_for_selector("#history-chart .main-svg")
    shot(desk, "patient-06-history-1280")
