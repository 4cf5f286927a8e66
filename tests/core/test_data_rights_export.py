"""The patient's own copy holds what the newer features store: other treatments, flares and life
events, and questionnaire answers with their scores, in the zip and in the FHIR Bundle; nobody
else's rows; a fixed number of queries however many rows there are."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ldn_diary.accounts.models import User
from ldn_diary.diary.services import dose_change_add, entry_save, life_event_add, treatment_add
from ldn_diary.questionnaires.services import (
    questionnaire_dismiss,
    questionnaire_finish,
    questionnaire_save,
)

from ..conftest import SHOTS
from .test_browser_rights import log_in
from .test_data_rights import by_type, fhir, unzip, validate

UTC = dt.UTC
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TREATMENT_CATEGORY = "urn:ldn-diary:CodeSystem:treatment-category"
SCORE_CODES = "urn:ldn-diary:CodeSystem:questionnaire-score"
PROCEDURE_STATUS = {
    "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
    "entered-in-error", "unknown",
}  # fmt: skip
RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
FIQR_ITEMS = range(1, 22)


def fiqr_value(n: int) -> int:
    """Item n's answer in the fixture: 0..10 then 0..9, so function 0..8 (sum 36, /3 = 12),
    overall 9 and 10 (19), symptoms 0..9 (sum 45, /2 = 22.5); total 53.5."""
    return (n - 1) % 11


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


def finish(clock, when: dt.datetime, **kwargs) -> None:
    """Finish at an exact instant, so the expected rows can say when."""
    clock.move_to(when, tick=False)
    questionnaire_finish(**kwargs)


@pytest.fixture
def start(alice) -> dt.date:
    """Alice's first LDN dose, 30 days ago: her baseline and week-4 questionnaires are open."""
    first = alice.local_today() - days(30)
    dose_change_add(patient=alice, effective_date=first, dose_ug=1500)
    return first


@pytest.fixture
def finished(alice, start, clock, instant) -> dict[str, dt.datetime]:
    """Other treatments (two medicines, two therapies), a flare and a life event, and her
    questionnaires: FIQR and ACR finished at baseline; at week 4 an ACR draft with no painful
    area ticked, a finished PGIC, and a FIQR only put off ("Not now")."""
    s = start
    treatment_add(patient=alice, name="Vitamin D", category="supplement", start_date=s - days(100))
    treatment_add(
        patient=alice, name="Pregabalin", category="gabapentinoid", start_date=s - days(60),
        stop_date=s - days(10), note="=SUM(A1)",
    )  # fmt: skip
    treatment_add(
        patient=alice, name="Physio", category="physical_therapy", start_date=s - days(20),
        stop_date=s - days(5), note="twice a week",
    )  # fmt: skip
    treatment_add(
        patient=alice, name="CBT", category="psychological_therapy", start_date=s - days(3)
    )
    life_event_add(patient=alice, date=s + days(5), kind="flare")
    life_event_add(patient=alice, date=s + days(10), kind="life_event", text="-moved house")

    whens = {"fiqr0": at(s, 9), "acr0": at(s, 10), "pgic4": at(s + days(29), 11)}
    fiqr = {str(n): fiqr_value(n) for n in FIQR_ITEMS}
    questionnaire_save(patient=alice, instrument="fiqr", week=0, answers=fiqr, today=s)
    finish(clock, whens["fiqr0"], patient=alice, instrument="fiqr", week=0, today=s)
    acr = {
        "painful_areas": ["neck", "left_hip"],
        "symptoms_3_months": True,
        "fatigue": 2,
        "waking_unrefreshed": 1,
        "cognitive": 0,
        "headaches": True,
        "lower_abdominal": False,
        "depression": False,
    }
    questionnaire_save(patient=alice, instrument="acr2016", week=0, answers=acr, today=s)
    finish(clock, whens["acr0"], patient=alice, instrument="acr2016", week=0, today=s)
    clock.move_to(instant, tick=True)
    questionnaire_save(
        patient=alice, instrument="acr2016", week=4,
        answers={"painful_areas": [], "symptoms_3_months": False},
    )  # fmt: skip
    questionnaire_save(patient=alice, instrument="pgic", week=4, answers={"answer": 2})
    finish(clock, whens["pgic4"], patient=alice, instrument="pgic", week=4)
    clock.move_to(instant, tick=True)
    questionnaire_dismiss(patient=alice, instrument="fiqr", week=4)
    return whens


@pytest.fixture
def bobs_rows(bob):
    """Bob has rows of every new kind too; none may reach Alice's copy."""
    first = bob.local_today() - days(2)
    dose_change_add(patient=bob, effective_date=first, dose_ug=1500)
    treatment_add(patient=bob, name="bob-only-med", category="opioid", start_date=first)
    life_event_add(patient=bob, date=first, kind="flare", text="bob-only-flare")
    questionnaire_save(patient=bob, instrument="fiqr", week=0, answers={"1": 7}, today=first)
    questionnaire_finish(patient=bob, instrument="fiqr", week=0, today=first)
    questionnaire_save(
        patient=bob, instrument="acr2016", week=0, answers={"cognitive": 3}, today=first
    )


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- The zip -------------------------------------------------------------------------------------


def test_the_zip_holds_treatments_events_and_questionnaires(
    client, alice, bob, start, finished, bobs_rows
):
    client.force_login(alice)
    files = unzip(client.get(reverse("accounts:export_csv")).content)
    s = start

    # The same file as the Doses page's download: one writer, one format.
    page = b"".join(client.get(reverse("diary:treatments_export")).streaming_content).decode()
    assert files["treatments.csv"] == page
    assert rows(files["treatments.csv"]) == [
        ["kind", "start_date", "stop_date", "category", "name", "note"],
        ["treatment", str(s - days(100)), "", "supplement", "Vitamin D", ""],
        ["treatment", str(s - days(60)), str(s - days(10)), "gabapentinoid", "Pregabalin",
         "'=SUM(A1)"],
        ["treatment", str(s - days(20)), str(s - days(5)), "physical_therapy", "Physio",
         "twice a week"],
        ["treatment", str(s - days(3)), "", "psychological_therapy", "CBT", ""],
        ["flare", str(s + days(5)), "", "", "", ""],
        ["life_event", str(s + days(10)), "", "", "", "'-moved house"],
    ]  # fmt: skip

    fiqr0 = finished["fiqr0"].isoformat()
    acr0 = finished["acr0"].isoformat()
    pgic4 = finished["pgic4"].isoformat()
    assert rows(files["questionnaires.csv"]) == [
        ["instrument", "week", "status", "completed_at", "item", "answer"],
        *[["fiqr", "0", "finished", fiqr0, str(n), str(fiqr_value(n))] for n in FIQR_ITEMS],
        ["acr2016", "0", "finished", acr0, "painful_areas", "left_hip;neck"],
        ["acr2016", "0", "finished", acr0, "symptoms_3_months", "yes"],
        ["acr2016", "0", "finished", acr0, "fatigue", "2"],
        ["acr2016", "0", "finished", acr0, "waking_unrefreshed", "1"],
        ["acr2016", "0", "finished", acr0, "cognitive", "0"],
        ["acr2016", "0", "finished", acr0, "headaches", "yes"],
        ["acr2016", "0", "finished", acr0, "lower_abdominal", "no"],
        ["acr2016", "0", "finished", acr0, "depression", "no"],
        # A draft, with no painful area ticked: answered, and empty.
        ["acr2016", "4", "draft", "", "painful_areas", ""],
        ["acr2016", "4", "draft", "", "symptoms_3_months", "no"],
        ["pgic", "4", "finished", pgic4, "answer", "2"],
        # The week-4 FIQR was only put off: no answer, no row.
    ]

    # Scored as the clinician's dashboard scores them, by hand: FIQR 36/3, 19, 45/2; ACR WPI 2
    # (left hip, neck), SSS 2+1+0+1+0+0, pain in 2 of 5 regions.
    d0, d4 = str(s), str(s + days(29))
    assert rows(files["questionnaire_scores.csv"]) == [
        ["instrument", "week", "completed_on", "score", "value"],
        ["fiqr", "0", d0, "function", "12.0"],
        ["fiqr", "0", d0, "overall", "19.0"],
        ["fiqr", "0", d0, "symptoms", "22.5"],
        ["fiqr", "0", d0, "total", "53.5"],
        ["fiqr", "0", d0, "answered", "21"],
        ["fiqr", "0", d0, "fall_from_week0_pct", ""],
        ["fiqr", "0", d0, "mcid_met", ""],
        ["acr2016", "0", d0, "wpi", "2"],
        ["acr2016", "0", d0, "sss", "4"],
        ["acr2016", "0", d0, "fs", "6"],
        ["acr2016", "0", d0, "generalized", "no"],
        ["acr2016", "0", d0, "met", "no"],
        ["pgic", "4", d4, "answer", "2"],
        ["pgic", "4", d4, "label", "Much improved"],
        ["pgic", "4", d4, "responder", "yes"],
    ]
    readme = files["README.txt"]
    for name in ("treatments.csv", "questionnaires.csv", "questionnaire_scores.csv"):
        assert name in readme
    assert "bob-only" not in "".join(files.values())


def test_a_fiqr_too_gappy_to_score_has_its_answers_and_no_total(client, bob, clock):
    first = bob.local_today() - days(1)
    dose_change_add(patient=bob, effective_date=first, dose_ug=1500)
    # Items 10 and 11 (overall impact) unanswered: that part, and so the total, is not scored.
    answers = {str(n): 5 for n in FIQR_ITEMS if n not in (10, 11)}
    questionnaire_save(patient=bob, instrument="fiqr", week=0, answers=answers, today=first)
    questionnaire_finish(patient=bob, instrument="fiqr", week=0, today=first)
    client.force_login(bob)
    files = unzip(client.get(reverse("accounts:export_csv")).content)
    assert len(rows(files["questionnaires.csv"])) == 1 + 19
    scores = {r[3]: r[4] for r in rows(files["questionnaire_scores.csv"])[1:]}
    assert scores == {
        "function": "15.0", "overall": "", "symptoms": "25.0", "total": "", "answered": "19",
        "fall_from_week0_pct": "", "mcid_met": "",
    }  # fmt: skip
    bundle = fhir(client)
    validate(bundle)
    [response] = by_type(bundle, "QuestionnaireResponse")
    assert response["status"] == "completed" and len(response["item"]) == 19
    assert not [o for o in by_type(bundle, "Observation") if "fiqr" in json.dumps(o["code"])]


# --- The FHIR bundle -----------------------------------------------------------------------------


def test_the_bundle_holds_treatments_events_and_questionnaires(
    client, alice, bob, start, finished, bobs_rows
):
    client.force_login(alice)
    bundle = fhir(client)
    validate(bundle)
    text = json.dumps(bundle)
    assert "bob-only" not in text and str(bob.uuid) not in text
    s = start

    statements = by_type(bundle, "MedicationStatement")
    ldn, vitamin, pregabalin = statements
    assert ldn["medicationCodeableConcept"]["coding"][0]["code"] == "7243"
    assert vitamin == {
        "resourceType": "MedicationStatement",
        "id": vitamin["id"],
        "status": "active",
        "category": {
            "coding": [
                {"system": TREATMENT_CATEGORY, "code": "supplement", "display": "Supplement"}
            ]
        },
        "medicationCodeableConcept": {"text": "Vitamin D"},
        "subject": {"reference": f"urn:uuid:{alice.uuid}"},
        "effectivePeriod": {"start": str(s - days(100))},
        "dateAsserted": vitamin["dateAsserted"],
        "informationSource": {"reference": f"urn:uuid:{alice.uuid}"},
    }
    assert pregabalin["status"] == "completed"
    assert pregabalin["effectivePeriod"] == {"start": str(s - days(60)), "end": str(s - days(10))}
    assert pregabalin["category"]["coding"][0]["code"] == "gabapentinoid"
    assert pregabalin["note"] == [{"text": "=SUM(A1)"}]  # JSON, not a spreadsheet: as typed

    physio, cbt = by_type(bundle, "Procedure")
    assert [p["status"] for p in (physio, cbt)] == ["completed", "in-progress"]
    assert all(p["status"] in PROCEDURE_STATUS for p in (physio, cbt))
    assert physio["code"] == {"text": "Physio"}
    assert physio["performedPeriod"] == {"start": str(s - days(20)), "end": str(s - days(5))}
    assert physio["note"] == [{"text": "twice a week"}]
    assert physio["category"]["coding"][0] == {
        "system": TREATMENT_CATEGORY, "code": "physical_therapy", "display": "Physical therapy",
    }  # fmt: skip
    assert cbt["performedPeriod"] == {"start": str(s - days(3))}
    assert cbt["category"]["coding"][0]["code"] == "psychological_therapy"

    observations = by_type(bundle, "Observation")
    [flare] = [o for o in observations if o["code"]["coding"][0]["code"] == "flare"]
    [event] = [o for o in observations if o["code"]["coding"][0]["code"] == "life-event"]
    assert flare["category"][0]["coding"][0] == {
        "system": CATEGORY, "code": "survey", "display": "Survey"
    }  # fmt: skip
    assert event["category"][0]["coding"][0]["code"] == "social-history"
    assert flare["effectiveDateTime"] == str(s + days(5)) and "valueString" not in flare
    assert event["effectiveDateTime"] == str(s + days(10))
    assert event["valueString"] == "-moved house"
    assert flare["code"]["coding"][0]["system"] == "urn:ldn-diary:CodeSystem:diary"

    responses = by_type(bundle, "QuestionnaireResponse")
    assert [(r["questionnaire"], r["status"]) for r in responses] == [
        ("urn:ldn-diary:Questionnaire/fiqr", "completed"),
        ("urn:ldn-diary:Questionnaire/acr2016", "completed"),
        ("urn:ldn-diary:Questionnaire/acr2016", "in-progress"),
        ("urn:ldn-diary:Questionnaire/pgic", "completed"),
    ]
    assert all(r["status"] in RESPONSE_STATUS for r in responses)
    fiqr0, acr0, acr4, pgic4 = responses
    assert fiqr0["authored"] == finished["fiqr0"].isoformat()
    assert [r["extension"][0]["valueInteger"] for r in responses] == [0, 0, 4, 4]
    assert [i["linkId"] for i in fiqr0["item"]] == [str(n) for n in FIQR_ITEMS]
    assert fiqr0["item"][0] == {
        "linkId": "1", "text": "Brush or comb your hair", "answer": [{"valueInteger": 0}],
    }  # fmt: skip
    answers = {i["linkId"]: i["answer"] for i in acr0["item"]}
    area = "urn:ldn-diary:CodeSystem:acr-body-area"
    assert answers["painful_areas"] == [
        {"valueCoding": {"system": area, "code": "left_hip",
                         "display": "Left hip (buttock, trochanter)"}},
        {"valueCoding": {"system": area, "code": "neck", "display": "Neck"}},
    ]  # fmt: skip
    assert answers["symptoms_3_months"] == [{"valueBoolean": True}]
    assert answers["lower_abdominal"] == [{"valueBoolean": False}]
    assert answers["fatigue"] == [{"valueInteger": 2}]
    assert acr4["item"][0]["answer"] == [
        {"valueCoding": {"system": area, "code": "none", "display": "No painful area"}}
    ]
    assert pgic4["item"] == [
        {
            "linkId": "answer",
            "text": pgic4["item"][0]["text"],
            "answer": [{"valueCoding": {"system": "urn:ldn-diary:CodeSystem:pgic", "code": "2",
                                        "display": "Much improved"}}],
        }
    ]  # fmt: skip

    [total] = [o for o in observations if o["code"]["coding"][0]["code"] == "fiqr-total"]
    assert total["code"]["coding"][0]["system"] == SCORE_CODES
    assert total["valueQuantity"] == {
        "value": 53.5, "unit": "score", "system": "http://unitsofmeasure.org", "code": "{score}",
    }  # fmt: skip
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"])
            for c in total["component"]] == [
        ("fiqr-function", 12.0), ("fiqr-overall", 19.0), ("fiqr-symptoms", 22.5),
    ]  # fmt: skip
    assert total["derivedFrom"] == [{"reference": f"urn:uuid:{fiqr0['id']}"}]
    assert total["effectiveDateTime"] == finished["fiqr0"].isoformat()

    # The same data exports the same ids, each once.
    ids = [e["fullUrl"] for e in bundle["entry"]]
    assert ids == [e["fullUrl"] for e in fhir(client)["entry"]] and len(set(ids)) == len(ids)


def test_a_draft_alone_is_in_progress(client, alice, start):
    questionnaire_save(patient=alice, instrument="fiqr", week=4, answers={"1": 3})
    client.force_login(alice)
    bundle = fhir(client)
    validate(bundle)
    [response] = by_type(bundle, "QuestionnaireResponse")
    assert response["status"] == "in-progress"
    assert response["item"] == [
        {"linkId": "1", "text": "Brush or comb your hair", "answer": [{"valueInteger": 3}]}
    ]
    assert not [o for o in by_type(bundle, "Observation") if "fiqr" in json.dumps(o["code"])]
    files = unzip(client.get(reverse("accounts:export_csv")).content)
    assert rows(files["questionnaires.csv"])[1:] == [["fiqr", "4", "draft", "", "1", "3"]]
    assert rows(files["questionnaire_scores.csv"]) == [
        ["instrument", "week", "completed_on", "score", "value"]
    ]


def test_a_formula_in_a_treatment_is_defused_on_the_doses_page_too(client, alice, today):
    treatment_add(patient=alice, name="@cmd", category="other", start_date=today, note="+1")
    life_event_add(patient=alice, date=today, kind="life_event", text="=HYPERLINK(1)")
    client.force_login(alice)
    page = b"".join(client.get(reverse("diary:treatments_export")).streaming_content).decode()
    assert rows(page)[1:] == [
        ["treatment", str(today), "", "other", "'@cmd", "'+1"],
        ["life_event", str(today), "", "", "", "'=HYPERLINK(1)"],
    ]
    assert unzip(client.get(reverse("accounts:export_csv")).content)["treatments.csv"] == page


@pytest.fixture
def today(alice) -> dt.date:
    return alice.local_today()


def test_the_zip_holds_the_reminders_sent_and_the_settings_history(client, alice, bob, today):
    from ldn_diary.reminders.models import Reminder, ReminderKind, ReminderStatus
    from ldn_diary.reminders.services import (
        push_device_add,
        reminder_settings_save,
        reminders_unsubscribe,
    )

    for who in (alice, bob):
        reminder_settings_save(patient=who, remind_at=dt.time(18, 30), daily=True, titration=True)
    reminders_unsubscribe(patient=alice, purpose="titration")
    push_device_add(
        patient=alice, endpoint="https://push.example.org/a", p256dh="k", auth="a", label="=Phone"
    )
    sent = dt.datetime.combine(today, dt.time(17, 31), UTC)
    Reminder.objects.create(
        patient=alice, local_date=today, kind=ReminderKind.DAILY, status=ReminderStatus.SENT,
        sent_at=sent,
    )  # fmt: skip
    Reminder.objects.create(
        patient=bob, local_date=today, kind=ReminderKind.DAILY, status=ReminderStatus.SENT
    )
    client.force_login(alice)
    files = unzip(client.get(reverse("accounts:export_csv")).content)
    assert rows(files["reminders.csv"]) == [
        ["local_date", "kind", "status", "sent_at"],
        [today.isoformat(), "daily", "sent", sent.isoformat()],
    ]
    history = rows(files["reminder_settings.csv"])
    assert history[0] == ["at", "event", "detail", "by"]
    assert [r[1:] for r in history[1:]] == [
        ["Reminder settings saved", "daily and dose steps at 18:30", "you"],
        ["Switched off from a link in a reminder", "titration reminders off", "link"],
        ["Device added for notifications", "'=Phone", "you"],
    ]


# --- Queries -------------------------------------------------------------------------------------

# Pinned: the session, the user and the audit row the view writes (3), and one query per kind of
# data. The zip: doses, plan, diary, treatments, events, questionnaire responses, the finished
# ones for the scores, reminders sent, reminder settings history, sharing, groups, the audit
# trail (12). The bundle: doses, diary, treatments, events, questionnaire responses (5).
CSV_QUERIES = 15
FHIR_QUERIES = 8


def fill(patient: User, n: int, today: dt.date) -> None:
    """n treatments, n events and n diary days, and every questionnaire of weeks 0 and 4."""
    for k in range(n):
        day = today - days(k)
        treatment_add(patient=patient, name=f"med {k}", category="other", start_date=day)
        life_event_add(patient=patient, date=day, kind="flare", text=f"flare {k}")
        entry_save(
            patient=patient, date=day, pain=5, fatigue=5, sleep=5, mood=5, dreams="none",
            dose_taken="yes", version=None, request_key=None, today=day,
        )  # fmt: skip
    first = today - days(30)
    for instrument, week, answers, when in (
        ("fiqr", 0, {"1": 4}, first),
        ("acr2016", 0, {"painful_areas": ["neck"]}, first),
        ("fiqr", 4, {"2": 4}, today),
        ("pgic", 4, {"answer": 3}, today),
    ):
        questionnaire_save(
            patient=patient, instrument=instrument, week=week, answers=answers, today=when
        )
        if instrument != "acr2016":
            questionnaire_finish(patient=patient, instrument=instrument, week=week, today=when)


def count(client, name: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name)).status_code == 200
    return len(queries)


def test_the_downloads_read_a_fixed_number_of_queries(
    client, alice, today, django_assert_max_num_queries
):
    dose_change_add(patient=alice, effective_date=today - days(30), dose_ug=1500)
    fill(alice, 1, today)
    client.force_login(alice)
    few = {name: count(client, name) for name in ("accounts:export_csv", "accounts:export_fhir")}
    assert few == {"accounts:export_csv": CSV_QUERIES, "accounts:export_fhir": FHIR_QUERIES}

    fill(alice, 25, today - days(1))
    with django_assert_max_num_queries(CSV_QUERIES):
        files = unzip(client.get(reverse("accounts:export_csv")).content)
    assert len(rows(files["treatments.csv"])) == 1 + 2 * 26
    with django_assert_max_num_queries(FHIR_QUERIES):
        bundle = json.loads(client.get(reverse("accounts:export_fhir")).content)
    assert len(by_type(bundle, "MedicationStatement")) == 1 + 26


# --- In the browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_profiles_downloads_hold_the_new_files(chromium, live_server, alice):
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - days(3), dose_ug=1500)
    treatment_add(patient=alice, name="Duloxetine", category="antidepressant", start_date=today)
    life_event_add(patient=alice, date=today, kind="flare", text="rough night")
    questionnaire_save(
        patient=alice, instrument="fiqr", week=0, answers={"1": 6}, today=today - days(3)
    )
    page = chromium(375, 800)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/profile/#your-data")
    page.locator("#your-data").screenshot(path=str(SHOTS / "export-your-data-375.png"))

    with page.expect_download() as download:
        page.click("text=All your data as CSV files (zip)")
    with open(download.value.path(), "rb") as body:
        files = unzip(body.read())
    assert "Duloxetine" in files["treatments.csv"] and "rough night" in files["treatments.csv"]
    assert rows(files["questionnaires.csv"])[1:] == [["fiqr", "0", "draft", "", "1", "6"]]

    with page.expect_download() as download:
        page.click("text=Your health record as a FHIR R4 file (JSON)")
    with open(download.value.path(), "rb") as body:
        bundle = json.load(body)
    validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("MedicationStatement") == 2 and "QuestionnaireResponse" in kinds
