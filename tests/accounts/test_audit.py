"""The audit trail: one row per read of a patient's data by someone else and per write, with
actor, patient, action, object, time and request id; never a health value; append-only on
PostgreSQL; shown to the patient as "Who viewed your data"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from celery import shared_task
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, AuditEvent, Role
from ldn_diary.clinic.models import CareLink
from ldn_diary.clinic.services import invite_create, note_add
from ldn_diary.community import services as community
from ldn_diary.diary import services as diary
from ldn_diary.diary.csvio import COLUMNS
from ldn_diary.diary.models import DiaryEntry, DoseChange
from tests.conftest import PASSWORD, make_user

SECRET = "audit-secret-note-3b1c"
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def rows(**filters) -> list[AuditEvent]:
    """The rows written by the test itself (the fixtures' accounts were created before)."""
    events = AuditEvent.objects.exclude(action=AuditAction.ACCOUNT_CREATE)
    return list(events.filter(**filters).order_by("id"))


def entry_form(day: dt.date, **extra) -> dict:
    data = {
        "date": day.isoformat(),
        "pain": "6",
        "fatigue": "5",
        "sleep": "4",
        "mood": "5",
        "dreams": "vivid",
        "note": SECRET,
    }
    return {**data, **extra}


# --- The request id ------------------------------------------------------------------------------


def test_every_response_carries_a_fresh_request_id_that_the_client_cannot_choose(client):
    first = client.get(reverse("home"), HTTP_X_REQUEST_ID="forged-id-0001")
    second = client.get(reverse("home"))
    assert REQUEST_ID.fullmatch(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert first["X-Request-ID"] != "forged-id-0001"


@shared_task
def _task_reporting_its_request_id() -> str:
    return audit.request_id()


def test_a_celery_task_records_its_own_id_and_gives_the_request_its_own_back():
    token = audit.set_request_id("a" * 32)
    try:
        result = _task_reporting_its_request_id.apply()
        assert result.get() == f"task-{result.id}"
        assert audit.request_id() == "a" * 32
    finally:
        audit.reset_request_id(token)


# --- Writes --------------------------------------------------------------------------------------


@pytest.fixture
def today(alice):
    return alice.local_today()


def test_a_diary_entry_save_records_one_row_with_its_request(client, alice, today):
    client.force_login(alice)
    response = client.post(reverse("diary:entry_save"), entry_form(today))
    assert response.status_code == 302
    [row] = rows(action=AuditAction.ENTRY_SAVE)
    entry = DiaryEntry.objects.get()
    assert (row.actor, row.actor_role, row.patient) == (alice, "patient", alice)
    assert (row.object_type, row.object_uuid) == ("DiaryEntry", entry.uuid)
    assert row.request_id == response["X-Request-ID"]


@pytest.mark.parametrize(
    ("write", "action", "object_type"),
    [
        (
            lambda p, t: diary.dose_change_add(patient=p, effective_date=t, dose_ug=1500),
            AuditAction.DOSE_ADD,
            "DoseChange",
        ),
        (
            lambda p, t: diary.plan_set(
                patient=p, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500
            ),
            AuditAction.PLAN_SET,
            "TitrationPlan",
        ),
        (lambda p, t: invite_create(patient=p), AuditAction.INVITE_CREATE, "Invite"),
        (
            lambda p, t: diary.import_stash_put(patient=p, name="d.csv", text="x"),
            AuditAction.IMPORT_UPLOAD,
            "ImportStash",
        ),
    ],
    ids=["dose", "plan", "invite", "upload"],
)
def test_each_write_by_the_patient_records_one_row(alice, today, write, action, object_type):
    write(alice, today)
    [row] = rows()
    assert (row.action, row.actor, row.patient, row.object_type) == (
        action,
        alice,
        alice,
        object_type,
    )


def test_dose_edits_deletes_plan_clear_and_imports_are_recorded(alice, today):
    change = diary.dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    diary.dose_change_edit(
        dose_change=change,
        effective_date=today,
        dose_ug=3000,
        time_of_day="bedtime",
        formulation="capsule",
    )
    diary.dose_change_delete(dose_change=change)
    diary.plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    diary.plan_clear(patient=alice)
    diary.plan_clear(patient=alice)  # nothing to clear: nothing written, no row
    header = ",".join(COLUMNS)
    stash = diary.import_stash_put(
        patient=alice, name="d.csv", text=f"{header}\r\n{today},5,5,5,5,none,,,,\r\n"
    )
    diary.import_confirm(patient=alice, token=stash.token, today=today)
    assert [r.action for r in rows()] == [
        AuditAction.DOSE_ADD,
        AuditAction.DOSE_EDIT,
        AuditAction.DOSE_DELETE,
        AuditAction.PLAN_SET,
        AuditAction.PLAN_CLEAR,
        AuditAction.IMPORT_UPLOAD,
        AuditAction.IMPORT,
    ]
    assert {r.object_uuid for r in rows()[:3]} == {change.uuid}


def test_other_treatments_life_events_and_questionnaires_are_recorded(alice, today):
    """Each write one row naming its object; finishing or hiding a second time writes nothing,
    so records nothing."""
    from ldn_diary.questionnaires import services as questionnaires

    treatment = diary.treatment_add(
        patient=alice, name="Pregabalin", category="gabapentinoid", start_date=today, note=SECRET
    )
    diary.treatment_edit(
        treatment=treatment,
        name="Pregabalin",
        category="gabapentinoid",
        start_date=today,
        stop_date=today,
    )
    diary.treatment_delete(treatment=treatment)
    event = diary.life_event_add(patient=alice, date=today, kind="flare", text=SECRET)
    diary.life_event_delete(life_event=event)
    # The baseline questionnaires are open before the first dose.
    diary.dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    answer = questionnaires.questionnaire_save(
        patient=alice, instrument="acr2016", week=0, answers={"fatigue": 2}, today=today
    )
    questionnaires.questionnaire_dismiss(patient=alice, instrument="acr2016", week=0, today=today)
    questionnaires.questionnaire_dismiss(patient=alice, instrument="acr2016", week=0, today=today)
    fiqr = questionnaires.questionnaire_save(
        patient=alice,
        instrument="fiqr",
        week=0,
        answers={str(n): 5 for n in range(1, 22)},
        today=today,
    )
    questionnaires.questionnaire_finish(patient=alice, instrument="fiqr", week=0, today=today)
    questionnaires.questionnaire_finish(patient=alice, instrument="fiqr", week=0, today=today)
    written = [r for r in rows() if r.action != AuditAction.DOSE_ADD]
    assert [(r.action, r.object_type, r.object_uuid) for r in written] == [
        (AuditAction.TREATMENT_ADD, "Treatment", treatment.uuid),
        (AuditAction.TREATMENT_EDIT, "Treatment", treatment.uuid),
        (AuditAction.TREATMENT_DELETE, "Treatment", treatment.uuid),
        (AuditAction.EVENT_ADD, "LifeEvent", event.uuid),
        (AuditAction.EVENT_DELETE, "LifeEvent", event.uuid),
        (AuditAction.QUESTIONNAIRE_SAVE, "QuestionnaireResponse", answer.uuid),
        (AuditAction.QUESTIONNAIRE_DISMISS, "QuestionnaireResponse", answer.uuid),
        (AuditAction.QUESTIONNAIRE_SAVE, "QuestionnaireResponse", fiqr.uuid),
        (AuditAction.QUESTIONNAIRE_FINISH, "QuestionnaireResponse", fiqr.uuid),
    ]
    assert {(r.actor, r.patient) for r in written} == {(alice, alice)}


def test_reminder_settings_devices_and_switch_offs_are_recorded(alice, bob):
    """The patient's own acts name her; a device another account took over, or one the push
    service forgot, is removed by LDN Diary, naming nobody else."""
    import datetime as dt

    from ldn_diary.reminders import services as reminders

    settings = reminders.reminder_settings_save(
        patient=alice, remind_at=dt.time(18), daily=True, titration=True
    )
    reminders.reminders_unsubscribe(patient=alice, purpose="daily")
    reminders.reminders_unsubscribe(patient=alice, purpose="daily")  # already off: no row
    endpoint = "https://push.example.org/send/one"
    device = reminders.push_device_add(patient=alice, endpoint=endpoint, p256dh="k", auth="a")
    reminders.push_device_add(patient=bob, endpoint=endpoint, p256dh="k", auth="a")
    mine = reminders.push_device_add(patient=alice, endpoint=endpoint + "2", p256dh="k", auth="a")
    reminders.push_device_remove(device=mine)
    assert [(r.action, r.actor, r.patient, r.object_type) for r in rows()] == [
        (AuditAction.REMINDERS_SAVE, alice, alice, "ReminderSettings"),
        (AuditAction.REMINDERS_UNSUBSCRIBE, alice, alice, "ReminderSettings"),
        (AuditAction.PUSH_ADD, alice, alice, "PushSubscription"),
        (AuditAction.PUSH_REMOVE, None, alice, "PushSubscription"),
        (AuditAction.PUSH_ADD, bob, bob, "PushSubscription"),
        (AuditAction.PUSH_ADD, alice, alice, "PushSubscription"),
        (AuditAction.PUSH_REMOVE, alice, alice, "PushSubscription"),
    ]
    assert rows()[3].actor_role == "system" and rows()[3].object_uuid == device.uuid
    assert settings.pk


def test_consent_notes_and_follow_ups_name_who_acted(alice, carol, today):
    link = CareLink.objects.get(patient=alice, clinician=carol)
    assert [(r.action, r.actor) for r in rows()] == [
        (AuditAction.INVITE_CREATE, alice),
        (AuditAction.INVITE_REDEEM, carol),
    ]
    note_add(clinician=carol, patient=alice, text=SECRET)
    from ldn_diary.clinic.services import followup_set, invite_cancel, link_revoke

    followup_set(clinician=carol, patient=alice, due_on=today + dt.timedelta(days=7))
    invite_cancel(invite=invite_create(patient=alice))
    link_revoke(link=link)
    assert [(r.action, r.actor, r.actor_role) for r in rows()[2:]] == [
        (AuditAction.NOTE_ADD, carol, "clinician"),
        (AuditAction.FOLLOWUP_SET, carol, "clinician"),
        (AuditAction.INVITE_CREATE, alice, "patient"),
        (AuditAction.INVITE_CANCEL, alice, "patient"),
        (AuditAction.LINK_REVOKE, alice, "patient"),
    ]
    assert all(r.patient == alice for r in rows())
    assert rows(action=AuditAction.LINK_REVOKE)[0].object_uuid == link.uuid


def test_group_membership_changes_are_recorded(alice, mona):
    group = community.group_create(moderator=mona, name="Leeds", slug="leeds")
    membership, _ = community.membership_join(patient=alice, code=group.join_code)
    for change in (
        community.membership_agree,
        community.membership_stop,
        community.membership_leave,
    ):
        change(patient=alice, membership_uuid=membership.uuid)
    community.membership_leave(patient=alice, membership_uuid=membership.uuid)  # no-op
    assert [r.action for r in rows(patient=alice)] == [
        AuditAction.GROUP_JOIN,
        AuditAction.GROUP_AGREE,
        AuditAction.GROUP_STOP,
        AuditAction.GROUP_LEAVE,
    ]
    assert {r.object_uuid for r in rows(patient=alice)} == {membership.uuid}


def test_account_creation_and_changes_are_recorded(client, alice):
    [created] = AuditEvent.objects.filter(patient=alice)
    assert (created.action, created.actor, created.actor_role) == (
        AuditAction.ACCOUNT_CREATE,
        None,
        "system",
    )
    client.force_login(alice)
    client.post(
        reverse("accounts:profile"),
        # A new email needs the password again (re-authentication).
        {
            "display_name": "Ali",
            "email": "ali@example.org",
            "time_zone": "Europe/Paris",
            "password": PASSWORD,
        },
    )
    [changed] = rows(action=AuditAction.ACCOUNT_UPDATE)
    assert (changed.actor, changed.patient) == (alice, alice)
    alice.refresh_from_db()
    assert (alice.display_name, alice.time_zone) == ("Ali", "Europe/Paris")
    # Choosing another language is a change of the account's details too.
    client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Ali",
            "email": "ali@example.org",
            "language": "es",
            "time_zone": "Europe/Paris",
        },
    )
    assert len(rows(action=AuditAction.ACCOUNT_UPDATE)) == 2
    alice.refresh_from_db()
    assert alice.language == "es"


def test_a_refused_write_records_nothing(alice, today):
    with pytest.raises(ValidationError):
        diary.dose_change_add(patient=alice, effective_date=dt.date(1, 1, 1), dose_ug=1500)
    assert not AuditEvent.objects.filter(action=AuditAction.DOSE_ADD).exists()


def test_the_row_commits_or_rolls_back_with_its_write(alice, today, monkeypatch):
    """A write that fails after its audit row leaves neither behind."""
    from ldn_diary.diary import services as diary_services

    def broken(**_):
        raise RuntimeError("the listener failed")

    monkeypatch.setattr(diary_services, "send_diary_changed", broken)
    with pytest.raises(RuntimeError):
        diary.dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    assert not DoseChange.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.DOSE_ADD).exists()


def test_rows_hold_no_health_values(client, alice, carol, today):
    client.force_login(alice)
    client.post(reverse("diary:entry_save"), entry_form(today, side_effect_other=SECRET))
    note_add(clinician=carol, patient=alice, text=SECRET)
    text_fields = {
        f.name for f in AuditEvent._meta.concrete_fields if f.get_internal_type() == "CharField"
    }
    assert text_fields == {"actor_role", "action", "object_type", "request_id"}
    dump = repr(list(AuditEvent.objects.values()))
    assert SECRET not in dump and "vivid" not in dump


# --- Reads by someone else ------------------------------------------------------------------------


def test_a_clinicians_dashboard_brief_and_roster_are_recorded_reads(client, alice, carol):
    client.force_login(carol)
    before = AuditEvent.objects.count()
    dashboard = client.get(reverse("clinic:patient", args=[alice.uuid]))
    client.get(reverse("clinic:brief", args=[alice.uuid]))
    client.get(reverse("clinic:roster"))
    client.get(reverse("clinic:roster"))  # cached table: still a read
    client.get(reverse("clinic:roster"), HTTP_HX_REQUEST="true")  # the htmx fragment too
    new = list(AuditEvent.objects.order_by("id"))[before:]
    assert [(r.action, r.actor, r.patient) for r in new] == [
        (AuditAction.CLINIC_DASHBOARD, carol, alice),
        (AuditAction.CLINIC_BRIEF, carol, alice),
        (AuditAction.CLINIC_ROSTER, carol, alice),
        (AuditAction.CLINIC_ROSTER, carol, alice),
        (AuditAction.CLINIC_ROSTER, carol, alice),
    ]
    assert new[0].request_id == dashboard["X-Request-ID"]
    assert (new[0].object_type, new[0].object_uuid) == ("User", alice.uuid)


def test_a_refused_read_and_the_patients_own_pages_record_nothing(client, alice, bob, carol, dave):
    before = AuditEvent.objects.count()
    client.force_login(dave)
    assert client.get(reverse("clinic:patient", args=[alice.uuid])).status_code == 404
    client.force_login(alice)
    for name in ("diary:today", "diary:history", "diary:doses", "accounts:profile"):
        client.get(reverse(name))
    assert AuditEvent.objects.count() == before


def test_a_moderator_reads_only_membership(client, alice, bob, mona):
    group = community.group_create(moderator=mona, name="Leeds", slug="leeds")
    memberships = {
        p: community.membership_join(patient=p, code=group.join_code)[0] for p in (alice, bob)
    }
    client.force_login(mona)
    before = AuditEvent.objects.count()
    client.get(reverse("community:group", args=[group.uuid]))
    new = list(AuditEvent.objects.order_by("id"))[before:]
    assert {(r.action, r.actor, r.patient, r.object_type, r.object_uuid) for r in new} == {
        (AuditAction.GROUP_ROSTER, mona, p, "Membership", m.uuid) for p, m in memberships.items()
    }


# --- Append-only ---------------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite (development only) does not enforce it"
)
@pytest.mark.parametrize(
    "change",
    [
        lambda: AuditEvent.objects.update(action="diary.entry.save"),
        lambda: AuditEvent.objects.all().delete(),
        lambda: AuditEvent.objects.first().delete(),
        lambda: connection.cursor().execute("UPDATE accounts_auditevent SET request_id = 'x'"),
        lambda: connection.cursor().execute("DELETE FROM accounts_auditevent"),
    ],
    ids=["update", "delete", "delete-one", "sql-update", "sql-delete"],
)
def test_postgresql_refuses_to_change_or_delete_audit_rows(alice, change):
    count = AuditEvent.objects.count()
    assert count >= 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change()
    assert AuditEvent.objects.count() == count
    assert AuditEvent.objects.filter(request_id="x").count() == 0


# --- What the patient sees -------------------------------------------------------------------------


def test_the_patient_sees_who_viewed_their_data(client, alice, carol, bob):
    client.force_login(carol)
    client.get(reverse("clinic:patient", args=[alice.uuid]))
    client.force_login(alice)
    body = client.get(reverse("accounts:profile")).content.decode()
    section = body[body.index('id="access"') : body.index('id="your-data"')]
    assert "Dr Carol" in section and "(Clinician)" in section
    assert "opened your dashboard" in section
    assert "used your invite code and gained access" in section
    assert "created an invite code" not in section  # her own actions are not listed
    # Bob's page lists nothing of Alice's.
    client.force_login(bob)
    body = client.get(reverse("accounts:profile")).content.decode()
    section = body[body.index('id="access"') : body.index('id="your-data"')]
    assert "Dr Carol" not in section and "opened" not in section
    assert "created the account" in section  # by an administrator's command (the fixture)


def test_the_list_is_paginated_and_names_deleted_accounts(client, alice, carol):
    client.force_login(carol)
    for _ in range(25):
        client.get(reverse("clinic:brief", args=[alice.uuid]))
    temp = make_user("tempdoc", Role.CLINICIAN, display_name="Dr Temp")
    audit.record(actor=temp, patient=alice, action=AuditAction.CLINIC_DASHBOARD)
    temp.delete()
    client.force_login(alice)
    first = client.get(reverse("accounts:profile")).content.decode()
    assert first.count("opened your pre-visit brief") == 19  # 20 a page, the newest first
    assert "A deleted account" in first and "Page 1 of 2" in first
    second = client.get(reverse("accounts:profile"), {"access_page": "2"}).content.decode()
    assert second.count("opened your pre-visit brief") == 6 and "used your invite code" in second


def test_clinicians_and_moderators_have_no_such_section(client, carol, mona):
    for user in (carol, mona):
        client.force_login(user)
        body = client.get(reverse("accounts:profile")).content.decode()
        assert 'id="access"' not in body and 'id="your-data"' not in body


def test_an_import_upload_by_page_is_recorded_with_its_request(client, alice, today):
    header = ",".join(COLUMNS)
    client.force_login(alice)
    response = client.post(
        reverse("diary:import"),
        {
            "file": SimpleUploadedFile(
                "d.csv", f"{header}\r\n{today},5,5,5,5,none,,,,\r\n".encode(), "text/csv"
            )
        },
    )
    [row] = rows(action=AuditAction.IMPORT_UPLOAD)
    assert row.request_id == response["X-Request-ID"]


def test_signing_up_is_recorded_as_the_persons_own_act(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "new@example.org",
            "username": "newbie",
            "display_name": "",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
            "time_zone": "Europe/London",
        },
    )
    assert response.status_code == 302  # to "check your email"
    [row] = AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CREATE, actor__username="newbie")
    assert row.patient == row.actor and row.actor_role == "patient"
    from ldn_diary.accounts.services import signup_activate

    client.force_login(signup_activate(user=row.actor))  # as the emailed link would
    client.get(reverse("accounts:profile"))
    body = client.get(reverse("accounts:profile")).content.decode()
    assert "Nobody but you has opened your data." in body
