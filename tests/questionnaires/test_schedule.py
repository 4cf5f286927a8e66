"""When each questionnaire is offered (docs/clinical-rules.md §4), worked out by hand from the
rule: week w's day is therapy day 7w; it opens 3 days before and closes 14 days after; the
baseline runs from 14 days before the first dose to the first dose day, and while no dose is
recorded at all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ldn_diary.accounts.models import Role
from ldn_diary.diary.services import dose_change_delete
from ldn_diary.questionnaires import schedule
from ldn_diary.questionnaires.schedule import SCHEDULE, Window, open_week, window
from tests.conftest import INSTANT_CASES, make_user

from .conftest import start_ldn

START = dt.date(2026, 3, 2)  # a Monday; day 0


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def test_the_schedule_is_the_issue_s():
    assert SCHEDULE == {"fiqr": (0, 4, 8, 12), "acr2016": (0, 4, 8, 12), "pgic": (4, 8, 12)}


@pytest.mark.parametrize(
    ("week", "opens", "closes"),
    [(0, -14, 0), (4, 25, 42), (8, 53, 70), (12, 81, 98)],
)
def test_each_week_s_window_by_hand(week, opens, closes):
    w = window(week, START)
    assert (w.opens, w.closes) == (day(opens), day(closes))
    # Both ends are in; the days just outside are not.
    assert w.contains(day(opens)) and w.contains(day(closes))
    assert not w.contains(day(opens - 1)) and not w.contains(day(closes + 1))
    assert w.has_closed(day(closes + 1)) and not w.has_closed(day(closes))


def test_the_windows_never_overlap_and_leave_gaps_between():
    covered = [n for n in range(-30, 120) if open_week(START, day(n)) is not None]
    expected = [*range(-14, 1), *range(25, 43), *range(53, 71), *range(81, 99)]
    assert covered == expected
    assert open_week(START, day(42)).week == 4 and open_week(START, day(53)).week == 8


def test_without_a_dose_only_the_baseline_is_open_for_as_long_as_it_takes():
    assert window(0, None) == Window(0, None, None)
    assert window(0, None).contains(dt.date(1990, 1, 1))
    assert window(4, None) is None and window(12, None) is None
    assert open_week(None, dt.date(2026, 11, 18)).week == 0


def test_is_scheduled():
    assert schedule.is_scheduled("pgic", 4) and not schedule.is_scheduled("pgic", 0)
    assert not schedule.is_scheduled("fiqr", 5) and not schedule.is_scheduled("sf36", 0)


@pytest.mark.parametrize(("instant", "zone", "local"), INSTANT_CASES, indirect=["instant"])
def test_a_card_opens_on_the_patient_s_own_date(client, db, instant, zone, local):
    """At awkward instants the card follows the patient's local date, not UTC's."""
    pat = make_user("pat", Role.PATIENT, display_name="Pat", time_zone=zone)
    assert pat.local_today() == local
    # Therapy day 24 today: week 4 opens tomorrow, so nothing is due.
    start_ldn(pat, 24, local)
    client.force_login(pat)
    url = reverse("questionnaires:due")
    assert "q-card" not in client.get(url, HTTP_HX_REQUEST="true").content.decode()
    # A first dose one day earlier makes today therapy day 25: the week-4 cards are due.
    dose_change_delete(dose_change=pat.dose_changes.get())
    start_ldn(pat, 25, local)
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="q-fiqr-4"' in html and 'id="q-pgic-4"' in html
