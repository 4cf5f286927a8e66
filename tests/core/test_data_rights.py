"""Data rights: a patient downloads everything (CSV files in a zip, and a FHIR R4 Bundle that
validates with fhir.resources), and can erase their account: data gone, clinicians' access
gone at once, groups leave them out of later releases, an audit row without health data kept."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import reverse

from ldn_diary.accounts.models import AuditAction, AuditEvent, User
from ldn_diary.clinic.models import CareLink, ClinicianNote, ConsentEvent, FollowUp, Invite
from ldn_diary.clinic.services import followup_set, invite_create, note_add
from ldn_diary.community import services as community
from ldn_diary.community.models import Membership, Release
from ldn_diary.diary.csvio import parse_diary_csv
from ldn_diary.diary.models import DiaryEntry, DoseChange, ImportStash, TitrationPlan
from ldn_diary.diary.services import (
    diary_import,
    dose_change_add,
    entry_save,
    import_stash_put,
    plan_set,
)
from ldn_diary.trends.models import ResponseSummary, TrendSeries, TrendState
from ldn_diary.trends.services import trends_recompute_patients
from tests.conftest import PASSWORD

SECRET = "data-rights-secret-note-91d2"
NALTREXONE_RXNORM = "7243"


@pytest.fixture
def today(alice) -> dt.date:
    return alice.local_today()


def save(patient: User, day: dt.date, **values) -> DiaryEntry:
    defaults = {
        "pain": 6,
        "fatigue": 5,
        "sleep": 4,
        "mood": 5,
        "dreams": "normal",
        "dose_taken": "yes",
    }
    defaults.update(values)
    entry, _ = entry_save(patient=patient, date=day, version=None, request_key=None, **defaults)
    return entry


@pytest.fixture
def alices_diary(alice, carol, today):
    """Two weeks with a dose step, a plan, side effects, notes and a formula-looking note."""
    start = today - dt.timedelta(days=13)
    dose_change_add(patient=alice, effective_date=start, dose_ug=1500, note="=start low")
    dose_change_add(patient=alice, effective_date=start + dt.timedelta(days=7), dose_ug=3000)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=7, target_ug=4500)
    for n in range(14):
        day = start + dt.timedelta(days=n)
        extra = {}
        if n == 3:
            extra = {"side_effects": ["headache", "other"], "side_effect_other": "ringing ears"}
        if n == 13:
            extra = {"note": SECRET, "dose_taken": "partly"}
        if n == 12:
            extra = {"note": "=HYPERLINK(1)"}
        save(alice, day, pain=7 - n // 4, **extra)
    return start


# --- The CSV zip ---------------------------------------------------------------------------------


def unzip(body: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name.split("/", 1)[1]: archive.read(name).decode() for name in archive.namelist()}


def test_the_zip_holds_the_diary_as_exported_and_everything_else(
    client, alice, carol, bob, mona, alices_diary, today
):
    note_add(clinician=carol, patient=alice, text="a private clinician note")
    group = community.group_create(moderator=mona, name="=Leeds circle", slug="leeds")
    community.membership_join(patient=alice, code=group.join_code)
    client.force_login(carol)
    client.get(reverse("clinic:patient", args=[alice.uuid]))

    client.force_login(alice)
    response = client.get(reverse("accounts:export_csv"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    files = unzip(response.content)
    assert set(files) == {
        "README.txt",
        "diary.csv",
        "doses.csv",
        "plan.csv",
        "treatments.csv",
        "questionnaires.csv",
        "questionnaire_scores.csv",
        "reminders.csv",
        "reminder_settings.csv",
        "sharing.csv",
        "groups.csv",
        "access_log.csv",
    }
    # The diary exactly as the History page exports it, which imports back.
    page_export = b"".join(client.get(reverse("diary:export")).streaming_content)
    assert files["diary.csv"].encode() == page_export
    parsed = parse_diary_csv(page_export, today=today)
    assert parsed.ok and len(parsed.rows) == 14
    diary_import(patient=bob, rows=parsed.rows, today=today)

    doses = list(csv.DictReader(io.StringIO(files["doses.csv"])))
    assert [(d["dose_mg"], d["note"]) for d in doses] == [("1.5", "'=start low"), ("3", "")]
    assert list(csv.DictReader(io.StringIO(files["plan.csv"])))[0]["target_mg"] == "4.5"
    sharing = files["sharing.csv"]
    assert "Invite used, access granted" in sharing and "Dr Carol" in sharing
    assert "'=Leeds circle" in files["groups.csv"]  # a name a spreadsheet would run, defused
    log = list(csv.DictReader(io.StringIO(files["access_log.csv"])))
    assert {"who": "Dr Carol", "action": "opened your dashboard"}.items() <= log[-1].items()
    everything = "".join(files.values())
    assert "a private clinician note" not in everything  # the clinician's own record
    assert "bob" not in everything.lower()


# --- The FHIR bundle ------------------------------------------------------------------------------

# R4 value sets the fhir.resources models do not check (they check structure and types).
MEDICATION_STATEMENT_STATUS = {
    "active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown",
    "not-taken",
}  # fmt: skip
OBSERVATION_STATUS = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled",
    "entered-in-error", "unknown",
}  # fmt: skip


def validate(bundle: dict) -> None:
    """Every resource against its FHIR R4 (4.0.1) model, and the bundle itself."""
    from fhir.resources import __fhir_version__, construct_fhir_element

    assert __fhir_version__ == "4.0.1"
    construct_fhir_element("Bundle", bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        construct_fhir_element(resource["resourceType"], resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"


def fhir(client) -> dict:
    response = client.get(reverse("accounts:export_fhir"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "no-store" in response["Cache-Control"]
    return json.loads(response.content)


def by_type(bundle: dict, resource_type: str) -> list[dict]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def test_the_fhir_bundle_validates_and_says_what_the_diary_says(client, alice, alices_diary, today):
    client.force_login(alice)
    bundle = fhir(client)
    validate(bundle)
    assert bundle["type"] == "collection"

    [patient] = by_type(bundle, "Patient")
    assert patient["id"] == str(alice.uuid) and patient["name"] == [{"text": "Alice"}]
    text = json.dumps(bundle)
    assert f'"{alice.username}"' not in text and alice.email not in text

    statements = by_type(bundle, "MedicationStatement")
    assert [s["status"] for s in statements] == ["completed", "active"]
    assert all(s["status"] in MEDICATION_STATEMENT_STATUS for s in statements)
    first, current = statements
    assert first["medicationCodeableConcept"]["coding"][0]["code"] == NALTREXONE_RXNORM
    assert first["effectivePeriod"] == {
        "start": alices_diary.isoformat(),
        "end": (alices_diary + dt.timedelta(days=6)).isoformat(),
    }
    assert "end" not in current["effectivePeriod"]
    dose = current["dosage"][0]["doseAndRate"][0]["doseQuantity"]
    assert dose == {"value": 3.0, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
    assert current["dosage"][0]["timing"]["repeat"]["when"] == ["HS"]

    observations = by_type(bundle, "Observation")
    assert all(o["status"] in OBSERVATION_STATUS for o in observations)
    pain = [o for o in observations if o["code"]["coding"][0]["code"] == "72514-3"]
    assert len(pain) == 14 and pain[0]["code"]["coding"][0]["system"] == "http://loinc.org"
    assert sorted(o["effectiveDateTime"] for o in pain)[0] == alices_diary.isoformat()
    assert {o["valueInteger"] for o in pain} == {7, 6, 5, 4}
    local = {c["system"] for o in observations for c in o["code"]["coding"]} - {"http://loinc.org"}
    assert local == {"urn:ldn-diary:CodeSystem:diary"}
    codes = [o["code"]["coding"][-1]["code"] for o in observations]
    for code in ("fatigue", "sleep-quality", "mood", "dreams", "side-effects", "dose-taken"):
        assert codes.count(code) == 14, code
    [note] = [o for o in observations if o["code"]["coding"][0]["code"] == "diary-note"
              and o["valueString"] == SECRET]  # fmt: skip
    assert note["effectiveDateTime"] == today.isoformat()
    [effects] = [o for o in observations if "component" in o]
    assert [
        (c["code"]["coding"][0]["code"], c.get("valueString")) for c in effects["component"]
    ] == [
        ("headache", None),
        ("other", "ringing ears"),
    ]


def test_the_same_diary_exports_the_same_ids(client, alice, alices_diary):
    client.force_login(alice)
    ids = [e["fullUrl"] for e in fhir(client)["entry"]]
    assert ids == [e["fullUrl"] for e in fhir(client)["entry"]] and len(set(ids)) == len(ids)


def test_an_empty_diary_exports_a_valid_bundle_and_zip(client, bob):
    client.force_login(bob)
    bundle = fhir(client)
    validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    files = unzip(client.get(reverse("accounts:export_csv")).content)
    assert files["diary.csv"].startswith("date,pain,")


@pytest.mark.parametrize("name", ["accounts:export_csv", "accounts:export_fhir", "accounts:delete"])
def test_only_the_patient_reaches_their_data_rights_pages(client, alice, carol, mona, name):
    save(alice, alice.local_today(), note=SECRET)
    assert client.get(reverse(name))["Location"].startswith(reverse("accounts:login"))
    for user in (carol, mona):
        client.force_login(user)
        response = client.get(reverse(name))
        # Another role: the wrong-role page (403), with none of Alice's data.
        assert response.status_code == 403 and SECRET not in response.content.decode()
    client.force_login(alice)
    assert client.get(reverse(name)).status_code == 200


def test_exports_are_audited(client, alice):
    client.force_login(alice)
    client.get(reverse("accounts:export_csv"))
    client.get(reverse("accounts:export_fhir"))
    assert AuditEvent.objects.filter(action=AuditAction.ACCOUNT_EXPORT, actor=alice).count() == 2


# --- Erasure -------------------------------------------------------------------------------------


@pytest.fixture
def alice_everywhere(alice, carol, mona, alices_diary, today):
    """Alice with a diary, trends, a clinician with notes, a pending upload, open invites,
    and a contributing membership of a group that has published a release counting her."""
    trends_recompute_patients(patient_ids=[alice.pk])
    note_add(clinician=carol, patient=alice, text="note about alice")
    followup_set(clinician=carol, patient=alice, due_on=today + dt.timedelta(days=7))
    invite_create(patient=alice)
    import_stash_put(patient=alice, name="d.csv", text="x")
    group = community.group_create(moderator=mona, name="Leeds", slug="leeds")
    membership, _ = community.membership_join(patient=alice, code=group.join_code)
    community.membership_agree(patient=alice, membership_uuid=membership.uuid)
    release = community.release_request(group=group, enqueue=False)
    community.release_compute(release_id=release.pk)
    return group, release


def delete(client, password: str = PASSWORD, confirm: bool = True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "on"
    return client.post(reverse("accounts:delete"), data)


def test_a_wrong_password_or_no_tick_deletes_nothing(client, alice, alice_everywhere):
    client.force_login(alice)
    entries = DiaryEntry.objects.count()
    response = delete(client, password="not it")
    assert response.status_code == 200
    assert "That is not your password. Nothing was deleted." in response.content.decode()
    response = delete(client, confirm=False)
    assert "Tick the box" in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists() and DiaryEntry.objects.count() == entries
    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_DELETE).exists()


def test_deleting_the_account_erases_the_patient_and_keeps_an_audit_row(
    client, alice, bob, carol, mona, alice_everywhere, today
):
    group, release = alice_everywhere
    save(bob, today)
    alice_id, alice_uuid, username = alice.pk, alice.uuid, alice.username
    published = Release.objects.get(pk=release.pk).results
    assert published["tables"]
    client.force_login(alice)
    response = delete(client)
    assert response.status_code == 302 and response["Location"] == reverse("home")

    assert not User.objects.filter(pk=alice_id).exists()
    for model in (
        DiaryEntry,
        DoseChange,
        TitrationPlan,
        ImportStash,
        CareLink,
        Invite,
        ConsentEvent,
        FollowUp,
        Membership,
        TrendSeries,
        TrendState,
        ResponseSummary,
    ):
        assert not model.objects.filter(patient_id=alice_id).exists(), model.__name__  # fmt: skip
    assert not ClinicianNote.objects.filter(patient_id=alice_id).exists()
    assert DiaryEntry.objects.filter(patient=bob).count() == 1  # nobody else's data
    # The session is over, and the clinician lost access at once.
    assert client.get(reverse("accounts:profile")).status_code == 302
    client.force_login(carol)
    assert client.get(reverse("clinic:patient", args=[alice_uuid])).status_code == 404
    assert "Alice" not in client.get(reverse("clinic:roster")).content.decode()

    # The published release stays; the next one does not count her.
    from ldn_diary.community.selectors import contributing_patient_ids

    assert Release.objects.get(pk=release.pk).results == published
    assert contributing_patient_ids(group) == []
    later = community.release_request(group=group, epsilon=1, enqueue=False)
    assert community.release_compute(release_id=later.pk).status == Release.Status.READY

    # What is left: the audit trail, by id, with the deletion itself and no health data.
    trail = AuditEvent.objects.filter(patient_id=alice_id)
    [deleted] = trail.filter(action=AuditAction.ACCOUNT_DELETE)
    assert (deleted.actor_id, deleted.patient_id, deleted.object_uuid) == (
        alice_id,
        alice_id,
        alice_uuid,
    )
    assert trail.count() > 20
    dump = repr(list(trail.values()))
    assert SECRET not in dump and username not in dump


def test_login_records_naming_the_username_go_too(client, alice):
    from axes.models import AccessAttempt, AccessLog

    client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert (
        AccessAttempt.objects.filter(username="alice").exists()
        or AccessLog.objects.filter(username="alice").exists()
    )
    client.force_login(alice)
    delete(client)
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert not AccessLog.objects.filter(username="alice").exists()


def test_a_clinician_cannot_delete_through_this_page(client, carol, alice):
    client.force_login(carol)
    assert delete(client).status_code == 403  # the wrong-role page
    assert User.objects.filter(pk=carol.pk).exists()
