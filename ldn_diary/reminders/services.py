"""Writes for reminders: the patient's settings and devices, the signed-link switch-off, and the
beat tick that claims and sends the reminders that are due.

Exactly once per patient, local day and kind: ``reminders_tick`` first inserts the
``Reminder`` row in a transaction of its own (the unique constraint lets one inserter win, so
a second tick racing it, in another worker or thread, skips that reminder), and only the
winner sends. A send that raises is marked failed, logged with the patient's id only, and taken
again by a later tick of the same day through a conditional update that again only one tick
can win; a process that dies mid-send leaves its row claimed and it is not sent again, since
the mail may already have gone.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, User

from . import messages, push, selectors
from .models import (
    PushSubscription,
    Reminder,
    ReminderEvent,
    ReminderEventKind,
    ReminderKind,
    ReminderSettings,
    ReminderStatus,
)
from .selectors import Due

log = logging.getLogger(__name__)


# --- The patient's settings and devices -------------------------------------------------------


def _describe(row: ReminderSettings) -> str:
    if row.remind_at is None or not (row.daily or row.titration):
        return "off"
    kinds = [name for name, on in (("daily", row.daily), ("dose steps", row.titration)) if on]
    return f"{' and '.join(kinds)} at {row.remind_at:%H:%M}"


@transaction.atomic
def reminder_settings_save(
    *, patient: User, remind_at: dt.time | None, daily: bool, titration: bool
) -> ReminderSettings:
    """Save the patient's reminder time (None: no reminders) and kinds.

    Saving also switches reminders paused after unanswered days back on (``resumed_at``).
    """
    row, _created = ReminderSettings.objects.select_for_update().get_or_create(patient=patient)
    row.remind_at = remind_at
    row.daily = daily
    row.titration = titration
    row.resumed_at = timezone.now()
    row.full_clean(exclude=["patient"])
    row.save()
    ReminderEvent.objects.create(
        patient=patient, kind=ReminderEventKind.SETTINGS_SAVED, detail=_describe(row)
    )
    audit.record(actor=patient, patient=patient, action=AuditAction.REMINDERS_SAVE, obj=row)
    return row


@dataclass(frozen=True)
class UnsubscribeResult:
    purpose: str
    changed: bool  # False when that kind was already off


@transaction.atomic
def reminders_unsubscribe(*, patient: User, purpose: str) -> UnsubscribeResult:
    """Switch one kind of reminder off, from a signed link (tokens.PURPOSES), signed in or not."""
    row, _created = ReminderSettings.objects.select_for_update().get_or_create(patient=patient)
    changed = bool(getattr(row, purpose))
    if changed:
        setattr(row, purpose, False)
        row.save(update_fields=[purpose, "updated_at"])
        ReminderEvent.objects.create(
            patient=patient,
            kind=ReminderEventKind.UNSUBSCRIBED,
            by_patient=False,
            detail=f"{purpose} reminders off",
        )
        # The link was mailed to the patient: their own act, signed in or not.
        audit.record(
            actor=patient, patient=patient, action=AuditAction.REMINDERS_UNSUBSCRIBE, obj=row
        )
    return UnsubscribeResult(purpose, changed)


@transaction.atomic
def push_device_add(
    *, patient: User, endpoint: str, p256dh: str, auth: str, label: str = ""
) -> PushSubscription:
    """Remember a browser for this patient's notifications.

    A push endpoint belongs to one browser profile: if another account on the same browser had
    it, it is this patient's now (that account no longer gets notifications there).
    """
    device = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
    if device is None:
        device = PushSubscription(endpoint=endpoint)
    elif device.patient_id != patient.pk:
        ReminderEvent.objects.create(
            patient_id=device.patient_id,
            kind=ReminderEventKind.PUSH_REMOVED,
            by_patient=False,
            detail="taken over by another account on the same browser",
        )
        # The other account is not named to this one's owner: the actor is left out.
        audit.record(
            actor=None, patient=device.patient_id, action=AuditAction.PUSH_REMOVE, obj=device
        )
    device.patient = patient
    device.p256dh = p256dh
    device.auth = auth
    device.label = label[:80]
    device.full_clean(exclude=["patient"], validate_unique=False)
    device.save()
    ReminderEvent.objects.create(
        patient=patient, kind=ReminderEventKind.PUSH_ADDED, detail=device.label
    )
    audit.record(actor=patient, patient=patient, action=AuditAction.PUSH_ADD, obj=device)
    return device


@transaction.atomic
def push_device_remove(*, device: PushSubscription, by_patient: bool = True) -> None:
    ReminderEvent.objects.create(
        patient_id=device.patient_id,
        kind=ReminderEventKind.PUSH_REMOVED if by_patient else ReminderEventKind.PUSH_GONE,
        by_patient=by_patient,
        detail=device.label,
    )
    audit.record(
        actor=device.patient if by_patient else None,
        patient=device.patient_id,
        action=AuditAction.PUSH_REMOVE,
        obj=device,
    )
    device.delete()


# --- The tick ---------------------------------------------------------------------------------


def _claim(item: Due, now: dt.datetime) -> Reminder | None:
    """Insert the claim, or take a failed one again; None when another tick has it."""
    if item.retry:
        taken = Reminder.objects.filter(
            patient_id=item.patient_id,
            local_date=item.local_date,
            kind=item.kind,
            status=ReminderStatus.FAILED,
        ).update(status=ReminderStatus.CLAIMED, attempts=F("attempts") + 1, claimed_at=now)
        if taken != 1:
            return None
        return Reminder.objects.get(
            patient_id=item.patient_id, local_date=item.local_date, kind=item.kind
        )
    try:
        with transaction.atomic():
            return Reminder.objects.create(
                patient_id=item.patient_id,
                local_date=item.local_date,
                kind=item.kind,
                dose_ug=item.dose_ug,
                claimed_at=now,
            )
    except IntegrityError:
        return None


def reminder_deliver(*, reminder: Reminder) -> bool:
    """Send a claimed reminder: the email, then (if it went) the browsers. True when sent.

    An email that raises leaves the reminder failed, for a later tick to retry; push is best
    effort and never retried, but a device whose push service answers 404/410 is forgotten.
    """
    patient = User.objects.get(pk=reminder.patient_id)
    message = messages.build(
        patient=patient, kind=reminder.kind, date=reminder.local_date, dose_ug=reminder.dose_ug
    )
    now = timezone.now
    if patient.email and reminder.email_sent_at is None:
        try:
            messages.email(message, patient.email).send()
        except Exception as exc:  # SMTP refused, no connection, ...: nothing went out
            log.warning(
                "Reminder %s for patient %s not sent (%s); a later tick retries it.",
                reminder.kind, patient.pk, type(exc).__name__,
            )  # fmt: skip
            reminder.status = ReminderStatus.FAILED
            reminder.last_error = type(exc).__name__[:80]
            reminder.save(update_fields=["status", "last_error"])
            return False
        reminder.email_sent_at = now()
        reminder.save(update_fields=["email_sent_at"])
    # The last message after unanswered days is an email only: it explains how to resume.
    if reminder.kind != ReminderKind.STOPPED and push.configured():
        for device in PushSubscription.objects.filter(patient=patient):
            outcome = push.send(
                endpoint=device.endpoint,
                p256dh=device.p256dh,
                auth=device.auth,
                payload=message.push,
                patient_id=patient.pk,
            )
            if outcome is push.Outcome.SENT:
                reminder.push_sent += 1
                PushSubscription.objects.filter(pk=device.pk).update(last_sent_at=now())
            elif outcome is push.Outcome.GONE:
                push_device_remove(device=device, by_patient=False)
    reminder.status = ReminderStatus.SENT
    reminder.sent_at = now()
    reminder.last_error = ""
    reminder.save(update_fields=["status", "sent_at", "push_sent", "last_error"])
    return True


@dataclass(frozen=True)
class TickResult:
    due: int
    sent: int
    skipped: int  # claimed by another tick
    failed: int


def reminders_tick(*, now: dt.datetime | None = None) -> TickResult:
    """Claim and send every reminder due now (Celery beat, every few minutes)."""
    now = now or timezone.now()
    due = selectors.due_reminders(now)
    sent = skipped = failed = 0
    for item in due:
        reminder = _claim(item, now)
        if reminder is None:
            skipped += 1
            continue
        try:
            delivered = reminder_deliver(reminder=reminder)
        except Exception as exc:  # one patient's problem must not stop everyone's reminders
            log.warning("Reminder %s for patient %s not sent (%s); a later tick retries it.",
                        item.kind, item.patient_id, type(exc).__name__)  # fmt: skip
            Reminder.objects.filter(pk=reminder.pk).update(
                status=ReminderStatus.FAILED, last_error=type(exc).__name__[:80]
            )
            delivered = False
        if delivered:
            sent += 1
        else:
            failed += 1
    if due:
        log.info("Reminders: %d due, %d sent, %d taken by another tick, %d failed.",
                 len(due), sent, skipped, failed)  # fmt: skip
    return TickResult(len(due), sent, skipped, failed)
