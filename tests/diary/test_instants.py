"""The diary's date rules at the instants where dates go wrong, for patients around the world.

Each case is (instant, the patient's time zone, the patient's local date at that instant). The
local dates are worked out by hand from the zones' offsets (Kiritimati UTC+14, Pago Pago UTC-11,
London GMT/BST, New York EST/EDT), not by the code under test, so they are an independent
oracle for ``User.local_today``. Every date rule a patient meets is then checked at that date:
the entry page's "today", the future and 14-day limits, the calendar's backfill window across
month and year ends, the list of days still to fill in, dose dates and the CSV import.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ldn_diary.accounts.models import Role
from ldn_diary.diary.csvio import parse_diary_csv
from ldn_diary.diary.models import BACKFILL_DAYS, DiaryEntry
from ldn_diary.diary.services import dose_change_add

from ..conftest import INSTANT_CASES as CASES
from ..conftest import make_user
from .conftest import entry_post

ONE_DAY = dt.timedelta(days=1)


@pytest.fixture
def patient(db):
    def make(zone: str):
        return make_user("pat", Role.PATIENT, display_name="Pat", time_zone=zone)

    return make


def _cells(response) -> dict[dt.date, object]:
    return {
        cell.date: cell
        for week in response.context["weeks"]
        for cell in week
        if cell.state != "outside"
    }


@pytest.mark.parametrize(("instant", "zone", "local"), CASES, indirect=["instant"])
def test_the_entry_page_and_saves_follow_the_patients_own_date(client, patient, zone, local):
    pat = patient(zone)
    assert pat.local_today() == local
    client.force_login(pat)
    page = client.get(reverse("diary:today"))
    assert page.context["today"] == local and page.context["date"] == local

    save = reverse("diary:entry_save")
    assert client.post(save, entry_post(local)).status_code == 302
    assert client.post(save, entry_post(local - BACKFILL_DAYS * ONE_DAY)).status_code == 302
    refused = client.post(save, entry_post(local + ONE_DAY))
    assert "is in the future" in refused.content.decode()
    too_old = client.post(save, entry_post(local - (BACKFILL_DAYS + 1) * ONE_DAY))
    assert f"more than {BACKFILL_DAYS} days ago" in too_old.content.decode()
    saved = set(DiaryEntry.objects.filter(patient=pat).values_list("date", "backfilled"))
    assert saved == {(local, False), (local - BACKFILL_DAYS * ONE_DAY, True)}

    missed = client.get(reverse("diary:today")).context["missed"]
    assert missed == [local - n * ONE_DAY for n in range(1, BACKFILL_DAYS)]


@pytest.mark.parametrize(("instant", "zone", "local"), CASES, indirect=["instant"])
def test_the_calendar_shows_and_links_every_day_of_the_backfill_window(
    client, patient, zone, local
):
    pat = patient(zone)
    client.force_login(pat)
    yesterday = local - ONE_DAY
    assert client.post(reverse("diary:entry_save"), entry_post(yesterday)).status_code == 302

    response = client.get(reverse("diary:history"))
    assert response.context["month"] == local.replace(day=1)
    cells = _cells(response)
    window = [local - n * ONE_DAY for n in range(BACKFILL_DAYS + 1)]
    body = response.content.decode()
    for day in window:
        assert cells[day].editable, f"{day} is in the backfill window but not tappable"
        if day != local:
            assert f'?date={day.isoformat()}"' in body
    assert cells[yesterday].state == "backfilled"
    assert cells[local].today and cells[local].state == "open"
    # Nothing after today is tappable, and nothing before the window.
    assert not any(c.editable for d, c in cells.items() if d > local or d < window[-1])
    assert "Tap any of the last 14 days" in body


@pytest.mark.parametrize(("instant", "zone", "local"), CASES, indirect=["instant"])
def test_dose_dates_and_csv_rows_stop_at_the_patients_today(patient, zone, local):
    pat = patient(zone)
    dose_change_add(patient=pat, effective_date=local, dose_ug=1500)
    with pytest.raises(Exception, match="is in the future"):
        dose_change_add(patient=pat, effective_date=local + ONE_DAY, dose_ug=3000)

    header = "date,pain,fatigue,sleep,mood,dreams,side_effects,dose_taken,dose_mg,note\r\n"
    today_row = f"{local.isoformat()},5,5,5,5,none,,yes,1.5,\r\n"
    tomorrow_row = f"{(local + ONE_DAY).isoformat()},5,5,5,5,none,,yes,1.5,\r\n"
    assert parse_diary_csv(header + today_row, today=pat.local_today()).ok
    parsed = parse_diary_csv(header + today_row + tomorrow_row, today=pat.local_today())
    assert parsed.errors == [
        f"line 3: {(local + ONE_DAY).isoformat()} is in the future "
        f"(today is {local.isoformat()}); remove that line"
    ]
