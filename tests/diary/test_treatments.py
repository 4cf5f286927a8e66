"""Other treatments and life events (docs/clinical-rules.md §1): recorded with clear refusals,
every write tells the rest of the app, the patient's own only, a CSV file of their own; and the
opioid warning, from both directions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ldn_diary.diary import rules
from ldn_diary.diary.csvio import COLUMNS
from ldn_diary.diary.models import LifeEvent, Treatment
from ldn_diary.diary.services import (
    dose_change_add,
    life_event_add,
    life_event_delete,
    treatment_add,
    treatment_delete,
    treatment_edit,
)
from ldn_diary.diary.signals import diary_changed

from .conftest import save_entry

TREATMENTS_URL = reverse("diary:treatments")
ADD_URL = reverse("diary:treatment_add")
EVENT_URL = reverse("diary:event_add")
WARNING = "LDN can trigger withdrawal with opioids"
PRESCRIBER = "Speak to the prescriber before the next dose."


def ago(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days)


def treatment_post(today: dt.date, **overrides) -> dict:
    data = {
        "name": "Pregabalin 75 mg",
        "category": "gabapentinoid",
        "start_date": ago(today, 3).isoformat(),
        "stop_date": "",
        "note": "",
    }
    data.update(overrides)
    return data


# --- Recording ------------------------------------------------------------------------------------


def test_a_treatment_and_an_event_are_recorded_and_listed(alice_client, alice, today):
    response = alice_client.post(ADD_URL, treatment_post(today), follow=True)
    html = response.content.decode()
    assert "Recorded Pregabalin 75 mg (gabapentinoid)" in html
    assert "Taking now" in html and "Pregabalin 75 mg" in html
    response = alice_client.post(
        EVENT_URL, {"date": today.isoformat(), "kind": "flare", "text": " after a long drive "}
    )
    assert response.status_code == 302
    event = LifeEvent.objects.get(patient=alice)
    assert (event.kind, event.text, event.date) == ("flare", "after a long drive", today)
    html = alice_client.get(TREATMENTS_URL).content.decode()
    assert "after a long drive" in html and WARNING not in html


def test_stopping_moves_a_treatment_to_stopped(alice_client, alice, today):
    t = treatment_add(
        patient=alice, name="Physiotherapy", category="physical_therapy", start_date=ago(today, 40)
    )
    response = alice_client.post(
        reverse("diary:treatment_edit", args=[t.uuid]),
        treatment_post(
            today,
            name="Physiotherapy",
            category="physical_therapy",
            start_date=ago(today, 40).isoformat(),
            stop_date=ago(today, 2).isoformat(),
        ),
    )
    assert response.status_code == 302
    t.refresh_from_db()
    assert t.stop_date == ago(today, 2)
    html = alice_client.get(TREATMENTS_URL).content.decode()
    taking_now, stopped = html.split('id="past-title"')
    assert "<strong>Physiotherapy</strong>" in stopped
    assert "<strong>Physiotherapy</strong>" not in taking_now


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": "  "}, "name", "Enter the name."),
        ({"name": "x" * 101}, "name", "Keep the name to 100 characters (it has 101)."),
        ({"name": "Trama\x00dol"}, "name", "NUL character"),
        ({"note": "y" * 501}, "note", "Keep the note to 500 characters"),
        ({"category": "wizardry"}, "category", "Choose the kind of treatment"),
        ({"start_date": "tomorrow"}, "start_date", "is in the future"),
        (
            {"start_date": dt.date(1899, 12, 31)},
            "start_date",
            "1899-12-31 is before 1900-01-01, the earliest day the diary accepts; check the year",
        ),
        ({"stop_date": "tomorrow"}, "stop_date", "is in the future"),
        ({"stop_date": "before start"}, "stop_date", "is before the start"),
    ],
)
def test_the_service_refuses_bad_treatments_with_the_fix(alice, today, overrides, field, words):
    values = {
        "name": "Pregabalin",
        "category": "gabapentinoid",
        "start_date": ago(today, 10),
        "stop_date": None,
        "note": "",
    }
    for key, value in overrides.items():
        if value == "tomorrow":
            value = today + dt.timedelta(days=1)
        elif value == "before start":
            value = ago(today, 11)
        values[key] = value
    with pytest.raises(ValidationError) as refused:
        treatment_add(patient=alice, today=today, **values)
    assert words in " ".join(refused.value.message_dict[field])
    assert not Treatment.objects.exists()


def test_a_stop_on_the_start_day_and_1900_are_allowed(alice, today):
    t = treatment_add(
        patient=alice,
        name="Codeine",
        category="opioid",
        start_date=dt.date(1900, 1, 1),
        stop_date=dt.date(1900, 1, 1),
    )
    assert t.stop_date == t.start_date


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"kind": "party"}, "Choose whether this was a flare or another life event."),
        ({"text": "z" * 201}, "Keep the description to 200 characters (it has 201)."),
        ({"text": "moved\x00house"}, "NUL character"),
        ({"date": "tomorrow"}, "is in the future"),
        ({"date": dt.date(1066, 10, 14)}, "is before 1900"),
    ],
)
def test_the_service_refuses_bad_events_with_the_fix(alice, today, overrides, words):
    values = {"date": today, "kind": "life_event", "text": "Moved house"}
    values.update(overrides)
    if values["date"] == "tomorrow":
        values["date"] = today + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        life_event_add(patient=alice, today=today, **values)
    assert words in " ".join(refused.value.messages)
    assert not LifeEvent.objects.exists()


def test_a_bad_form_keeps_what_is_saved_and_says_what_to_fix(alice_client, alice, today):
    treatment_add(patient=alice, name="Vitamin D", category="supplement", start_date=today)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    response = alice_client.post(ADD_URL, treatment_post(today, start_date=tomorrow, name="Tapen"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "is in the future; record it once it has happened." in html
    assert 'value="Tapen"' in html  # what was typed is still in the form
    assert "Vitamin D" in html and Treatment.objects.count() == 1
    response = alice_client.post(EVENT_URL, {"date": "", "kind": "flare"})
    assert "Enter the day it happened." in response.content.decode()


def test_every_write_tells_the_rest_of_the_app(alice, today):
    sent = []

    def receiver(sender, *, patient_id, **kwargs):
        sent.append(patient_id)

    diary_changed.connect(receiver)
    try:
        t = treatment_add(
            patient=alice, name="CBT", category="psychological_therapy", start_date=today
        )
        treatment_edit(
            treatment=t,
            name="CBT",
            category="psychological_therapy",
            start_date=today,
            stop_date=today,
        )
        treatment_delete(treatment=t)
        e = life_event_add(patient=alice, date=today, kind="flare")
        life_event_delete(life_event=e)
    finally:
        diary_changed.disconnect(receiver)
    assert sent == [alice.pk] * 5


# --- Only the patient's own -----------------------------------------------------------------------

OWN_PAGES = [
    ("get", "diary:treatments", False),
    ("get", "diary:treatments_export", False),
    ("post", "diary:treatment_add", False),
    ("post", "diary:event_add", False),
    ("get", "diary:treatment_edit", "treatment"),
    ("post", "diary:treatment_edit", "treatment"),
    ("get", "diary:treatment_delete", "treatment"),
    ("post", "diary:treatment_delete", "treatment"),
    ("get", "diary:event_delete", "event"),
    ("post", "diary:event_delete", "event"),
]


@pytest.fixture
def alices_records(alice, today):
    t = treatment_add(
        patient=alice, name="alice-secret-med", category="opioid", start_date=ago(today, 5)
    )
    e = life_event_add(patient=alice, date=today, kind="life_event", text="alice-secret-event")
    return {"treatment": t.uuid, "event": e.uuid}


@pytest.mark.parametrize(("method", "name", "arg"), OWN_PAGES)
@pytest.mark.parametrize("who", ["bob", "carol", "dave", "mona"])
def test_others_get_a_404_and_see_nothing(
    request, client, alice, alices_records, today, method, name, arg, who
):
    client.force_login(request.getfixturevalue(who))
    url = reverse(name, args=[alices_records[arg]] if arg else [])
    data = treatment_post(today) if name != "diary:event_add" else {"date": today, "kind": "flare"}
    response = getattr(client, method)(url, data)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if who == "bob" and not arg:
        # Bob's own pages work, and show only his (empty) records.
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 404
    assert b"alice-secret" not in body
    assert Treatment.objects.filter(patient=alice).count() == 1
    assert LifeEvent.objects.filter(patient=alice).count() == 1
    assert not Treatment.objects.exclude(patient=alice).filter(name="alice-secret-med").exists()
    # The valid request still works for Alice after the refused one.
    client.force_login(alice)
    assert client.get(TREATMENTS_URL).status_code == 200


def test_a_made_up_code_is_the_same_404(alice_client):
    assert alice_client.get(reverse("diary:treatment_edit", args=[uuid.uuid4()])).status_code == 404


def test_visitors_are_sent_to_log_in(client):
    response = client.get(TREATMENTS_URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


# --- The CSV file of their own --------------------------------------------------------------------


def test_treatments_and_events_export_as_their_own_csv(alice_client, alice, bob, today):
    treatment_add(
        patient=alice,
        name='Tramadol "SR", 50 mg',
        category="opioid",
        start_date=dt.date(2026, 10, 1),
        stop_date=dt.date(2026, 10, 20),
        note="for a tooth",
    )
    treatment_add(
        patient=alice, name="Physio", category="physical_therapy", start_date=dt.date(2026, 9, 1)
    )
    life_event_add(patient=alice, date=dt.date(2026, 10, 1), kind="flare", text="bad, week")
    treatment_add(patient=bob, name="bob-med", category="supplement", start_date=today)
    save_entry(alice, today)
    response = alice_client.get(reverse("diary:treatments_export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert "ldn-diary-treatments-" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert body == (
        "kind,start_date,stop_date,category,name,note\r\n"
        "treatment,2026-09-01,,physical_therapy,Physio,\r\n"
        'treatment,2026-10-01,2026-10-20,opioid,"Tramadol ""SR"", 50 mg",for a tooth\r\n'
        'flare,2026-10-01,,,,"bad, week"\r\n'
    )
    # The diary's own file keeps its format exactly.
    diary = b"".join(alice_client.get(reverse("diary:export")).streaming_content).decode()
    assert diary.splitlines()[0] == ",".join(COLUMNS)
    assert "Physio" not in diary


# --- Opioids with LDN: the rule -------------------------------------------------------------------

D = dt.date


@pytest.mark.parametrize(
    ("opioid", "steps", "day", "expected"),
    [
        # Both taken that day.
        ((D(2026, 1, 1), None), [(D(2026, 1, 10), 4500)], D(2026, 2, 1), ["Tramadol"]),
        # Started on the day, stopped on the day: both ends count.
        ((D(2026, 2, 1), None), [(D(2026, 1, 10), 4500)], D(2026, 2, 1), ["Tramadol"]),
        ((D(2026, 1, 1), D(2026, 2, 1)), [(D(2026, 1, 10), 4500)], D(2026, 2, 1), ["Tramadol"]),
        ((D(2026, 1, 1), D(2026, 1, 31)), [(D(2026, 1, 10), 4500)], D(2026, 2, 1), []),
        # The first dose on the day counts; an ultra-low dose is still LDN.
        ((D(2026, 1, 1), None), [(D(2026, 2, 1), 1)], D(2026, 2, 1), ["Tramadol"]),
        ((D(2026, 1, 1), None), [(D(2026, 2, 2), 4500)], D(2026, 2, 1), []),
        # Paused at 0, or no LDN at all.
        ((D(2026, 1, 1), None), [(D(2026, 1, 2), 4500), (D(2026, 1, 20), 0)], D(2026, 2, 1), []),
        ((D(2026, 1, 1), None), [], D(2026, 2, 1), []),
        # Not yet started.
        ((D(2026, 3, 1), None), [(D(2026, 1, 10), 4500)], D(2026, 2, 1), []),
    ],
)
def test_the_opioid_rule_needs_both_on_the_same_day(opioid, steps, day, expected):
    assert rules.opioids_with_ldn([("Tramadol", *opioid)], steps, day) == expected


# --- Opioids with LDN: the patient is warned from both directions --------------------------------


def test_recording_an_opioid_while_on_ldn_warns_at_once_and_on_every_page(
    alice_client, alice, today
):
    dose_change_add(patient=alice, effective_date=ago(today, 20), dose_ug=4500)
    response = alice_client.post(
        ADD_URL, treatment_post(today, name="Tramadol", category="opioid"), follow=True
    )
    html = response.content.decode()
    assert WARNING in html and PRESCRIBER in html and "(Tramadol)" in html
    assert 'role="alert"' in html
    assert Treatment.objects.filter(patient=alice, category="opioid").exists()  # still saved
    for url in (reverse("diary:today"), reverse("diary:doses")):
        assert WARNING in alice_client.get(url).content.decode()
    # Once the opioid has a stop date in the past, the warning goes.
    t = Treatment.objects.get(patient=alice)
    treatment_edit(
        treatment=t,
        name=t.name,
        category="opioid",
        start_date=t.start_date,
        stop_date=ago(today, 1),
    )
    for url in (reverse("diary:today"), reverse("diary:doses"), TREATMENTS_URL):
        assert WARNING not in alice_client.get(url).content.decode()


def test_adding_an_ldn_dose_while_on_an_opioid_warns_at_once(alice_client, alice, today):
    treatment_add(patient=alice, name="Codeine", category="opioid", start_date=ago(today, 30))
    assert WARNING not in alice_client.get(reverse("diary:doses")).content.decode()
    response = alice_client.post(
        reverse("diary:dose_add"),
        {
            "effective_date": today.isoformat(),
            "dose_mg": "1.5",
            "time_of_day": "bedtime",
            "formulation": "capsule",
            "note": "",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Recorded 1.5 mg" in html
    assert WARNING in html and "(Codeine)" in html and PRESCRIBER in html
    assert WARNING in alice_client.get(reverse("diary:today")).content.decode()


def test_no_warning_for_other_categories_or_a_paused_dose(alice_client, alice, today):
    dose_change_add(patient=alice, effective_date=ago(today, 20), dose_ug=4500)
    treatment_add(
        patient=alice, name="Paracetamol", category="analgesic", start_date=ago(today, 30)
    )
    assert WARNING not in alice_client.get(reverse("diary:today")).content.decode()
    dose_change_add(patient=alice, effective_date=ago(today, 2), dose_ug=0)
    treatment_add(patient=alice, name="Tramadol", category="opioid", start_date=ago(today, 1))
    for url in (reverse("diary:today"), reverse("diary:doses"), TREATMENTS_URL):
        assert WARNING not in alice_client.get(url).content.decode()
