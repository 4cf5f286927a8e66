"""Dose history: mg with up to 3 decimals in, integer µg stored; add, edit, delete, stop."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ldn_diary.diary.dosing import format_mg, parse_dose_mg
from ldn_diary.diary.models import DoseChange
from ldn_diary.diary.selectors import dose_on
from ldn_diary.diary.services import dose_change_add, dose_change_delete, dose_change_edit
from ldn_diary.trends.models import TrendState

DOSES_URL = reverse("diary:doses")
ADD_URL = reverse("diary:dose_add")
DOSE_HELP = "Enter a dose between 0.001 mg (1 µg) and 50 mg, with at most 3 decimals, e.g. 4.5."


@pytest.mark.parametrize(
    ("text", "micrograms"),
    [
        ("4.5", 4500),
        ("0.001", 1),
        ("50", 50_000),
        ("1.25", 1250),
        (" 3 mg", 3000),
        ("4,5", 4500),
        (".75", 750),
        ("4.500", 4500),
        ("4.5000", 4500),  # more digits, but still a whole number of µg
    ],
)
def test_it_reads_doses_in_mg_exactly(text, micrograms):
    assert parse_dose_mg(text) == micrograms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "0 mg is not a dose (to record a stop or pause, use “Stopped or paused?”"),
        ("0.0004", "0.0004 mg has more than 3 decimals."),
        ("1.2345", "1.2345 mg has more than 3 decimals."),
        ("50.001", "50.001 mg is more than 50 mg."),
        ("60", "60 mg is more than 50 mg."),
        ("-1", "'-1' is not a dose in mg."),
        ("abc", "'abc' is not a dose in mg."),
        ("1e3", "'1e3' is not a dose in mg."),
        ("NaN", "'NaN' is not a dose in mg."),
        ("", ""),
    ],
)
def test_it_refuses_a_bad_dose_with_the_fix(text, reason):
    with pytest.raises(ValidationError) as refused:
        parse_dose_mg(text)
    assert refused.value.message.startswith(reason)
    assert refused.value.message.endswith(DOSE_HELP)


def test_zero_is_only_allowed_where_asked_for():
    assert parse_dose_mg("0", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("micrograms", "text"), [(4500, "4.5"), (1, "0.001"), (12_000, "12"), (0, "0"), (None, "")]
)
def test_it_writes_mg_canonically(micrograms, text):
    assert format_mg(micrograms) == text


def test_the_dose_on_a_day_is_the_latest_change_on_or_before_it(alice, today):
    d = today - dt.timedelta(days=30)
    dose_change_add(patient=alice, effective_date=d, dose_ug=1500)
    dose_change_add(patient=alice, effective_date=d + dt.timedelta(days=14), dose_ug=3000)
    assert dose_on(alice, d - dt.timedelta(days=1)) is None
    assert dose_on(alice, d + dt.timedelta(days=13)).dose_ug == 1500
    assert dose_on(alice, d + dt.timedelta(days=14)).dose_ug == 3000
    assert dose_on(alice, today).dose_ug == 3000


def test_the_service_refuses_out_of_range_doses(alice, today):
    for bad in (-1, 50_001, 4.5, "4500"):
        with pytest.raises(ValidationError) as refused:
            dose_change_add(patient=alice, effective_date=today, dose_ug=bad)
        assert refused.value.message_dict["dose_mg"] == [DOSE_HELP]
    assert not DoseChange.objects.exists()


def test_it_refuses_a_second_change_on_the_same_day(alice, today):
    dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    with pytest.raises(ValidationError) as refused:
        dose_change_add(patient=alice, effective_date=today, dose_ug=3000)
    assert "already have a dose change" in refused.value.message_dict["effective_date"][0]
    assert "(1.5 mg)" in refused.value.message_dict["effective_date"][0]


def test_it_refuses_a_future_dose_change(alice, today):
    with pytest.raises(ValidationError) as refused:
        dose_change_add(patient=alice, effective_date=today + dt.timedelta(days=1), dose_ug=1500)
    assert "in the future" in refused.value.message_dict["effective_date"][0]


def test_edit_and_delete_mark_trends_dirty(alice, today):
    change = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    version = TrendState.objects.get(patient=alice).data_version
    dose_change_edit(
        dose_change=change,
        effective_date=today - dt.timedelta(days=1),
        dose_ug=1000,
        time_of_day="morning",
        formulation="liquid",
        note="typo",
    )
    change.refresh_from_db()
    assert (change.dose_ug, change.time_of_day, change.formulation) == (1000, "morning", "liquid")
    dose_change_delete(dose_change=change)
    assert not DoseChange.objects.exists()
    assert TrendState.objects.get(patient=alice).data_version == version + 2


def test_the_page_adds_a_dose_in_mg(alice_client, alice, today):
    response = alice_client.post(
        ADD_URL,
        {
            "effective_date": today.isoformat(),
            "dose_mg": "4.5",
            "time_of_day": "bedtime",
            "formulation": "capsule",
        },
    )
    assert response.status_code == 302 and response["Location"] == DOSES_URL
    assert DoseChange.objects.get(patient=alice).dose_ug == 4500
    page = alice_client.get(DOSES_URL).content.decode()
    assert "4.5 mg" in page and "Recorded 4.5 mg from" in page


@pytest.mark.parametrize(
    ("dose", "reason"),
    [("60", "is more than 50 mg"), ("1.2345", "more than 3 decimals"), ("0", "is not a dose")],
)
def test_the_page_explains_a_bad_dose(alice_client, today, dose, reason):
    response = alice_client.post(
        ADD_URL,
        {
            "effective_date": today.isoformat(),
            "dose_mg": dose,
            "time_of_day": "bedtime",
            "formulation": "capsule",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert DOSE_HELP in body and reason in body
    assert not DoseChange.objects.exists()


def test_stopping_records_zero(alice_client, alice, today):
    dose_change_add(
        patient=alice,
        effective_date=today - dt.timedelta(days=5),
        dose_ug=3000,
        formulation="liquid",
    )
    alice_client.post(reverse("diary:dose_stop"), {"effective_date": today.isoformat()})
    stop = DoseChange.objects.get(patient=alice, effective_date=today)
    assert stop.dose_ug == 0 and stop.formulation == "liquid"
    assert "Stopped or paused" in alice_client.get(DOSES_URL).content.decode()


def test_the_timeline_lists_changes_newest_first_with_durations(alice_client, alice, today):
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=20), dose_ug=1500)
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=6), dose_ug=3000)
    rows = alice_client.get(DOSES_URL).context["rows"]
    assert [r["mg"] for r in rows] == ["3", "1.5"]
    assert rows[0]["current"] and rows[0]["days"] == 7
    assert rows[1]["days"] == 14 and rows[1]["until"] == today - dt.timedelta(days=7)


def test_the_page_edits_a_change(alice_client, alice, today):
    change = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    url = reverse("diary:dose_edit", args=[change.uuid])
    assert alice_client.get(url).status_code == 200
    response = alice_client.post(
        url,
        {
            "effective_date": today.isoformat(),
            "dose_mg": "1.75",
            "time_of_day": "morning",
            "formulation": "capsule",
        },
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.dose_ug == 1750 and change.time_of_day == "morning"


def test_editing_a_stop_keeps_it_a_stop(alice_client, alice, today):
    stop = dose_change_add(patient=alice, effective_date=today, dose_ug=0)
    url = reverse("diary:dose_edit", args=[stop.uuid])
    alice_client.post(url, {"effective_date": today.isoformat(), "note": "holiday"})
    stop.refresh_from_db()
    assert stop.dose_ug == 0 and stop.note == "holiday"


def test_the_page_deletes_a_change_after_confirming(alice_client, alice, today):
    change = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    url = reverse("diary:dose_delete", args=[change.uuid])
    assert "Delete this dose change?" in alice_client.get(url).content.decode()
    assert DoseChange.objects.exists()  # a GET never deletes
    assert alice_client.post(url).status_code == 302
    assert not DoseChange.objects.exists()


@pytest.mark.parametrize("name", ["diary:dose_edit", "diary:dose_delete"])
def test_another_patients_dose_change_is_a_404(alice_client, alice, bob, today, name):
    bobs = dose_change_add(patient=bob, effective_date=today, dose_ug=1500)
    url = reverse(name, args=[bobs.uuid])
    assert alice_client.get(url).status_code == 404
    response = alice_client.post(
        url,
        {
            "effective_date": today.isoformat(),
            "dose_mg": "9",
            "time_of_day": "bedtime",
            "formulation": "capsule",
        },
    )
    assert response.status_code == 404
    bobs.refresh_from_db()
    assert bobs.dose_ug == 1500
    # The same request on her own change works, so the 404 was about ownership.
    hers = dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    assert alice_client.get(reverse(name, args=[hers.uuid])).status_code == 200


def test_an_unknown_dose_change_is_the_same_404(alice_client):
    url = reverse("diary:dose_edit", args=["00000000-0000-0000-0000-000000000000"])
    assert alice_client.get(url).status_code == 404
