"""Helpers for reminder tests: settings through the service, a tick, and the sent mails."""

from __future__ import annotations

import datetime as dt

from django.core import mail

from ldn_diary.accounts.models import User
from ldn_diary.reminders.models import Reminder
from ldn_diary.reminders.services import reminder_settings_save, reminders_tick


def remind(patient: User, at: str | None = "20:00", *, daily: bool = True, titration: bool = True):
    return reminder_settings_save(
        patient=patient,
        remind_at=dt.time.fromisoformat(at) if at else None,
        daily=daily,
        titration=titration,
    )


def tick():
    return reminders_tick()


def sent_to(patient: User) -> list:
    return [m for m in mail.outbox if m.to == [patient.email]]


def reminders_of(patient: User, kind: str | None = None) -> list[Reminder]:
    qs = Reminder.objects.filter(patient=patient).order_by("local_date", "kind")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)
