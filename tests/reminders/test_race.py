"""Two beat ticks racing for the same reminders, in two threads with their own database
connections (PostgreSQL: SQLite serialises writers, so the race cannot happen there; the
interleaved version that runs everywhere is in test_tick.py). Each reminder is sent once."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from ldn_diary.reminders import selectors, services
from ldn_diary.reminders.models import Reminder, ReminderStatus

from ..conftest import make_user
from .conftest import remind


@pytest.mark.django_db(transaction=True)
def test_two_ticks_in_two_threads_send_each_reminder_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions, so this race cannot happen there")
    patients = [make_user(f"p{i}", "patient", time_zone="Europe/London") for i in range(12)]
    for patient in patients:
        remind(patient, "09:00")  # 10:00 in London now: all due
    # Both ticks compute the same due list, then both try to claim every reminder at once.
    barrier = threading.Barrier(2)
    original = selectors.due_reminders

    def due_then_meet(now):
        try:
            due = original(now)
        except BaseException:
            barrier.abort()
            raise
        barrier.wait()
        return due

    monkeypatch.setattr(selectors, "due_reminders", due_then_meet)
    results, errors = [], []

    def run() -> None:
        try:
            results.append(services.reminders_tick())
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted((r.due, r.sent + r.skipped) for r in results) == [(12, 12), (12, 12)]
    assert sum(r.sent for r in results) == 12 and sum(r.skipped for r in results) == 12
    assert len(mail.outbox) == 12
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in patients)
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 12
