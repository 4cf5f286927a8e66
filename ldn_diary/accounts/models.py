from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


def default_time_zone() -> str:
    return settings.DEFAULT_PATIENT_TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not a time zone we know. Pick one from the list, e.g. Europe/London.",
            params={"value": value},
        )


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    MODERATOR = "moderator", "Support-group moderator"


class User(AbstractUser):
    """Everyone who logs in. An administrator is a superuser; everyone else has one role."""

    # URLs name people by this, never by the sequential primary key.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    display_name = models.CharField(max_length=80, blank=True)
    # "Today" in the diary is the patient's own local date, so travel and late nights behave.
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def is_moderator(self) -> bool:
        return self.role == Role.MODERATOR

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.DEFAULT_PATIENT_TIME_ZONE)

    def local_today(self) -> dt.date:
        return timezone.now().astimezone(self.tzinfo).date()


class AuditAction(models.TextChoices):
    """What an audit row records. The label completes "<who> ..." on the patient's profile."""

    # Reads of a patient's data by someone else.
    CLINIC_ROSTER = "clinic.roster", "saw your summary in their list of patients"
    CLINIC_DASHBOARD = "clinic.dashboard", "opened your dashboard"
    CLINIC_BRIEF = "clinic.brief", "opened your pre-visit brief"
    GROUP_ROSTER = "community.roster", "saw your membership in their group's member list"
    # Writes.
    ENTRY_SAVE = "diary.entry.save", "saved a diary entry"
    DOSE_ADD = "diary.dose.add", "recorded a dose change"
    DOSE_EDIT = "diary.dose.edit", "corrected a dose change"
    DOSE_DELETE = "diary.dose.delete", "deleted a dose change"
    PLAN_SET = "diary.plan.set", "set the titration plan"
    PLAN_CLEAR = "diary.plan.clear", "removed the titration plan"
    IMPORT_UPLOAD = "diary.import.upload", "uploaded a diary file to preview"
    IMPORT = "diary.import", "imported a diary file"
    TREATMENT_ADD = "diary.treatment.add", "recorded another treatment"
    TREATMENT_EDIT = "diary.treatment.edit", "corrected or stopped another treatment"
    TREATMENT_DELETE = "diary.treatment.delete", "deleted another treatment"
    EVENT_ADD = "diary.event.add", "recorded a flare or life event"
    EVENT_DELETE = "diary.event.delete", "deleted a flare or life event"
    QUESTIONNAIRE_SAVE = "questionnaire.save", "saved questionnaire answers"
    QUESTIONNAIRE_FINISH = "questionnaire.finish", "finished a questionnaire"
    QUESTIONNAIRE_DISMISS = "questionnaire.dismiss", "hid a questionnaire's reminder card"
    REMINDERS_SAVE = "reminders.save", "changed the reminder settings"
    REMINDERS_UNSUBSCRIBE = "reminders.unsubscribe", "switched reminders off from an email link"
    PUSH_ADD = "reminders.push.add", "allowed notifications on a device"
    PUSH_REMOVE = "reminders.push.remove", "removed a device from notifications"
    INVITE_CREATE = "clinic.invite.create", "created an invite code"
    INVITE_CANCEL = "clinic.invite.cancel", "cancelled an invite code"
    INVITE_REDEEM = "clinic.invite.redeem", "used your invite code and gained access"
    LINK_REVOKE = "clinic.link.revoke", "withdrew a clinician's access"
    NOTE_ADD = "clinic.note.add", "added a note to their own records about you"
    FOLLOWUP_SET = "clinic.followup.set", "set a follow-up date"
    GROUP_JOIN = "community.join", "joined a support group"
    GROUP_AGREE = "community.agree", "agreed to contribute to a group"
    GROUP_STOP = "community.stop", "stopped contributing to a group"
    GROUP_LEAVE = "community.leave", "left a support group"
    ACCOUNT_CREATE = "account.create", "created the account"
    ACCOUNT_UPDATE = "account.update", "changed the account's details"
    ACCOUNT_EXPORT = "account.export", "downloaded all the data"
    ACCOUNT_DELETE = "account.delete", "deleted the account and its data"


class AuditEvent(models.Model):
    """One row for every read of a patient's data by someone else and for every write.

    Written only through ``ldn_diary.accounts.audit``: writes inside the same transaction as
    the change, reads by the access doors. It names people and objects, never health values:
    who, whose data, what, which object (type and UUID), when, and the request or task id.

    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002); SQLite,
    the development database, does not enforce it. ``actor`` and ``patient`` are ids without
    a database constraint or a cascade, so the rows outlive the accounts they name (an erased
    patient's trail keeps their id and the account's deletion).
    """

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        help_text="Who acted; empty for the system (a task or a command).",
    )
    # The actor's role when they acted: patient, clinician, moderator, admin or system.
    actor_role = models.CharField(max_length=16)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        help_text="Whose data; empty for an account that is not a patient's.",
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_uuid = models.UUIDField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"], name="audit_patient_time_idx")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id or 'system'} on {self.patient_id} at {self.at}"
