from __future__ import annotations

import datetime as dt
import functools
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def default_time_zone() -> str:
    return settings.DEFAULT_PATIENT_TIME_ZONE


def default_language() -> str:
    return settings.LANGUAGE_CODE


@functools.cache
def known_time_zones() -> tuple[str, ...]:
    """Every zone this machine knows, sorted: read once per process (zoneinfo walks the zone
    files on disk, about 25 ms, and the list only changes with a tzdata upgrade and a restart)."""
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def _known_zone_set() -> frozenset[str]:
    return frozenset(known_time_zones())


def validate_time_zone(value: str) -> None:
    if value not in _known_zone_set():
        raise ValidationError(
            _("%(value)s is not a time zone we know. Pick one from the list, e.g. Europe/London."),
            params={"value": value},
        )


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    CLINICIAN = "clinician", _("Clinician")
    MODERATOR = "moderator", _("Support-group moderator")


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
    # The language pages and emails are in (settings.LANGUAGES). Set at sign-up from the page the
    # patient signed up on and changed on the profile; it wins over Accept-Language once signed
    # in (accounts.middleware.UserLanguageMiddleware) and picks the language of every email.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=default_language
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
    CLINIC_ROSTER = "clinic.roster", _("saw your summary in their list of patients")
    CLINIC_DASHBOARD = "clinic.dashboard", _("opened your dashboard")
    CLINIC_BRIEF = "clinic.brief", _("opened your pre-visit brief")
    GROUP_ROSTER = "community.roster", _("saw your membership in their group's member list")
    # Writes.
    ENTRY_SAVE = "diary.entry.save", _("saved a diary entry")
    DOSE_ADD = "diary.dose.add", _("recorded a dose change")
    DOSE_EDIT = "diary.dose.edit", _("corrected a dose change")
    DOSE_DELETE = "diary.dose.delete", _("deleted a dose change")
    PLAN_SET = "diary.plan.set", _("set the titration plan")
    PLAN_CLEAR = "diary.plan.clear", _("removed the titration plan")
    IMPORT_UPLOAD = "diary.import.upload", _("uploaded a diary file to preview")
    IMPORT = "diary.import", _("imported a diary file")
    TREATMENT_ADD = "diary.treatment.add", _("recorded another treatment")
    TREATMENT_EDIT = "diary.treatment.edit", _("corrected or stopped another treatment")
    TREATMENT_DELETE = "diary.treatment.delete", _("deleted another treatment")
    EVENT_ADD = "diary.event.add", _("recorded a flare or life event")
    EVENT_DELETE = "diary.event.delete", _("deleted a flare or life event")
    QUESTIONNAIRE_SAVE = "questionnaire.save", _("saved questionnaire answers")
    QUESTIONNAIRE_FINISH = "questionnaire.finish", _("finished a questionnaire")
    QUESTIONNAIRE_DISMISS = "questionnaire.dismiss", _("hid a questionnaire's reminder card")
    REMINDERS_SAVE = "reminders.save", _("changed the reminder settings")
    REMINDERS_UNSUBSCRIBE = "reminders.unsubscribe", _("switched reminders off from an email link")
    PUSH_ADD = "reminders.push.add", _("allowed notifications on a device")
    PUSH_REMOVE = "reminders.push.remove", _("removed a device from notifications")
    INVITE_CREATE = "clinic.invite.create", _("created an invite code")
    INVITE_CANCEL = "clinic.invite.cancel", _("cancelled an invite code")
    INVITE_REDEEM = "clinic.invite.redeem", _("used your invite code and gained access")
    LINK_REVOKE = "clinic.link.revoke", _("withdrew a clinician's access")
    NOTE_ADD = "clinic.note.add", _("added a note to their own records about you")
    FOLLOWUP_SET = "clinic.followup.set", _("set a follow-up date")
    GROUP_JOIN = "community.join", _("joined a support group")
    GROUP_AGREE = "community.agree", _("agreed to contribute to a group")
    GROUP_STOP = "community.stop", _("stopped contributing to a group")
    GROUP_LEAVE = "community.leave", _("left a support group")
    ACCOUNT_CREATE = "account.create", _("created the account")
    ACCOUNT_UPDATE = "account.update", _("changed the account's details")
    ACCOUNT_EXPORT = "account.export", _("downloaded all the data")
    ACCOUNT_DELETE = "account.delete", _("deleted the account and its data")


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
        help_text=_("Who acted; empty for the system (a task or a command)."),
    )
    # The actor's role when they acted: patient, clinician, moderator, admin or system.
    actor_role = models.CharField(max_length=16)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        help_text=_("Whose data; empty for an account that is not a patient's."),
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
