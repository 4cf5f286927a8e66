"""The roster's day-relative rules at the instants where dates go wrong, for clinicians anywhere.

The roster counts from the clinician's own local date (hand-worked in tests/conftest.py's
``LOCAL_DATES``): the 14 full days before it for logging and adherence, 7 days of silence for the
"no entries" flag, therapy day 25 for the week-4 review. Each is checked on both sides of its
boundary at every awkward instant.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ldn_diary.accounts.models import Role
from ldn_diary.clinic import presentation
from ldn_diary.clinic.services import link_grant

from ..conftest import INSTANT_CASES, make_user
from .conftest import days_ago, recompute, write_diary


@pytest.mark.parametrize(("instant", "zone", "local"), INSTANT_CASES, indirect=["instant"])
def test_roster_windows_count_back_from_the_clinicians_own_today(db, zone, local):
    clinician = make_user("doc", Role.CLINICIAN, display_name="Doc", time_zone=zone)
    assert clinician.local_today() == local

    def patient(name: str):
        p = make_user(name, Role.PATIENT, display_name=name.title())
        link_grant(patient=p, clinician=clinician)
        return p

    # Every day from therapy day -14 to today: 14 logged days before today, one missed dose.
    steady = patient("steady")
    write_diary(
        steady,
        start=days_ago(local, 27),
        last=27,
        dose_taken=lambda n: "no" if n == 20 else "yes",
        today=local,
    )
    # Silent for exactly 7 days, and for 6.
    quiet7, quiet6 = patient("quiet7"), patient("quiet6")
    write_diary(quiet7, start=days_ago(local, 40), last=33, today=local)
    write_diary(quiet6, start=days_ago(local, 40), last=34, today=local)
    recompute(steady, quiet7, quiet6)

    rows = {r.name: r for r in presentation.roster(clinician).rows}
    s = rows["Steady"]
    assert s.today == local and s.therapy_days == 27 and s.last_entry == local
    # Days -14 .. -1 before today: 14 logged (today itself is not counted), 13.0 of 14 taken.
    assert s.logged_14 == 14
    assert s.dose_adherence == pytest.approx(13 / 14)
    assert [f.code for f in s.flags] == ["review"]  # day 27: the week-4 review opened on day 25

    assert rows["Quiet7"].days_since_entry == 7
    assert "Last entry 7 days ago" in {f.detail for f in rows["Quiet7"].flags}
    assert rows["Quiet6"].days_since_entry == 6
    assert "no_entries" not in {f.code for f in rows["Quiet6"].flags}


@pytest.mark.parametrize(("instant", "zone", "local"), INSTANT_CASES[:8], indirect=["instant"])
def test_the_dashboard_agrees_with_the_roster(db, zone, local):
    clinician = make_user("doc", Role.CLINICIAN, time_zone=zone)
    p = make_user("pat", Role.PATIENT, display_name="Pat")
    link_grant(patient=p, clinician=clinician)
    write_diary(p, start=days_ago(local, 30), last=30, skip=lambda n: n % 5 == 3, today=local)
    recompute(p)
    (row,) = presentation.roster(clinician).rows
    dash = presentation.patient_dashboard(clinician, p)
    assert dash.today == local
    assert (dash.logged_14, dash.dose_adherence_14) == (row.logged_14, row.dose_adherence)
    assert dash.therapy_day == row.therapy_days == 30
    assert dash.last_entry == row.last_entry == local
    assert row.logged_14 == sum(1 for n in range(16, 30) if n % 5 != 3), (
        "days 16..29 are the 14 days before today (day 30)"
    )
    assert dt.date.fromisoformat(dash.trend.data["data_end"]) == local
