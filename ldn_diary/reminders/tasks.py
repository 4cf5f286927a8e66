"""Celery tasks for reminders; each calls one service (ldn_diary.reminders.services)."""

from __future__ import annotations

from celery import shared_task

from .services import reminders_tick


@shared_task
def send_due_reminders() -> None:
    """Every 5 minutes (beat): claim and send the reminders that are due.

    Not acks_late and not retried: a tick that dies is simply followed by the next one, and the
    claims make a second tick harmless.
    """
    reminders_tick()
