"""Reminders: a patient's chosen time, their devices for Web Push, one row per reminder sent,
and the trail of changes to their reminder settings.

``Reminder`` is both the claim and the record of a send: the unique (patient, local date, kind)
row is inserted in its own transaction before anything is sent, so two beat ticks racing for
the same reminder cannot both send it (``services.reminders_tick``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReminderSettings(models.Model):
    """One patient's reminder choices. No row, or ``remind_at`` empty: no reminders.

    ``remind_at`` is a wall-clock time in the patient's own time zone (``User.time_zone``), so
    "20:00" stays 20:00 for them across daylight-saving changes and travel.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_settings"
    )
    remind_at = models.TimeField(null=True, blank=True)
    # The daily "not logged yet" reminder, and the titration step reminder on its due day.
    daily = models.BooleanField(default=True)
    titration = models.BooleanField(default=True)
    # Reminders sent before this instant do not count towards the pause after unanswered days
    # (rules.UNANSWERED_LIMIT): saving the settings switches paused reminders back on.
    resumed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"reminders for {self.patient_id} at {self.remind_at}"

    @property
    def enabled(self) -> bool:
        return self.remind_at is not None and (self.daily or self.titration)


class PushSubscription(models.Model):
    """A browser (phone, computer) that agreed to show this patient's reminders.

    ``endpoint`` is the push service's address for that browser: a capability URL, never
    logged. The push service answers 404 or 410 once the browser has dropped it, and the row is
    deleted then (``services.reminder_deliver``).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    # What the patient sees in their list of devices, e.g. "Chrome on Android".
    label = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"push device {self.uuid} of {self.patient_id}"


class ReminderKind(models.TextChoices):
    DAILY = "daily", _("Today is not logged yet")
    TITRATION = "titration", _("A planned dose step is due")
    # The one message after UNANSWERED_LIMIT unanswered daily reminders: they stop here.
    STOPPED = "stopped", _("Reminders paused")


class ReminderStatus(models.TextChoices):
    CLAIMED = "claimed", _("Being sent")
    SENT = "sent", _("Sent")
    # Sending raised an error that says nothing went out (SMTP refused, no connection): a later
    # tick of the same local day takes it again (services._retry_failed).
    FAILED = "failed", _("Failed, to be retried")


class Reminder(models.Model):
    """One reminder for one patient on one of their local days: claimed, then sent.

    The unique constraint is the "exactly once": whoever inserts the row sends it. A row left
    ``claimed`` by a process that died mid-send is never sent again (the mail may have gone out);
    a ``failed`` one is retried up to ``rules.MAX_ATTEMPTS`` times on the same day.
    """

    Kind = ReminderKind
    Status = ReminderStatus

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    local_date = models.DateField()
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    status = models.CharField(
        max_length=8, choices=ReminderStatus.choices, default=ReminderStatus.CLAIMED
    )
    # For a titration reminder, the planned dose in µg (the message says it in mg).
    dose_ug = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    claimed_at = models.DateTimeField(default=timezone.now)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    push_sent = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # An exception's class name only: no address, link or message text.
    last_error = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-local_date", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "local_date", "kind"], name="one_reminder_per_patient_day_kind"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["patient", "kind", "-sent_at"], name="reminder_sent_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.patient_id} on {self.local_date}: {self.status}"


class ReminderEventKind(models.TextChoices):
    SETTINGS_SAVED = "saved", _("Reminder settings saved")
    UNSUBSCRIBED = "unsubscribed", _("Switched off from a link in a reminder")
    PUSH_ADDED = "push_added", _("Device added for notifications")
    PUSH_REMOVED = "push_removed", _("Device removed from notifications")
    PUSH_GONE = "push_gone", _("Device dropped by its browser")


class ReminderEvent(models.Model):
    """The audit trail of reminder settings: who changed what, when. Written by every service
    in ``reminders/services.py`` that changes settings or devices, in the same transaction;
    never updated. ``detail`` holds the new settings in words, never health data."""

    Kind = ReminderEventKind

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_events"
    )
    kind = models.CharField(max_length=14, choices=ReminderEventKind.choices)
    # False when the change came from a signed link in an email, with nobody signed in.
    by_patient = models.BooleanField(default=True)
    detail = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ReminderEventKind.values), name="reminder_event_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.patient_id} at {self.at:%Y-%m-%d %H:%M}"
