"""The beat tick: who gets which reminder when, exactly once per patient, local day and kind,
across time zones and daylight-saving changes, with a frozen clock moved by hand."""

from __future__ import annotations

import datetime as dt
import smtplib
import uuid

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ldn_diary.diary.services import dose_change_add, entry_save, plan_set
from ldn_diary.reminders import rules
from ldn_diary.reminders.models import Reminder, ReminderKind, ReminderStatus

from ..conftest import INSTANT_CASES, UTC, make_user
from .conftest import remind, reminders_of, sent_to, tick

pytestmark = pytest.mark.django_db
T = dt.datetime


def log_day(patient, date: dt.date, pain: int = 5) -> None:
    entry_save(patient=patient, date=date, pain=pain, fatigue=5, sleep=5, mood=5, dreams="none",
               version=None, request_key=uuid.uuid4())  # fmt: skip


def test_nothing_before_the_time_then_one_email_however_many_ticks(alice, clock):
    remind(alice, "10:30")  # Alice is in London: 10:00 now (the default instant)
    assert tick().due == 0 and mail.outbox == []
    clock.move_to(T(2026, 11, 18, 10, 30, tzinfo=UTC))
    assert tick().sent == 1
    for minutes in (5, 60, 13 * 60):
        clock.move_to(T(2026, 11, 18, 10, 30, tzinfo=UTC) + dt.timedelta(minutes=minutes))
        assert tick().due == 0
    assert len(sent_to(alice)) == 1
    assert [(r.local_date, r.kind, r.status) for r in reminders_of(alice)] == [
        (dt.date(2026, 11, 18), "daily", "sent")
    ]


def test_no_reminder_for_a_day_already_logged_nor_for_none_or_off(alice, bob, clock):
    log_day(alice, alice.local_today())
    remind(alice, "09:00")
    remind(bob, None)  # chose no time
    carl = make_user("carl", "patient", time_zone="Europe/London")
    remind(carl, "09:00", daily=False, titration=False)
    assert tick().due == 0
    assert mail.outbox == []


def test_the_email_links_to_the_day_and_carries_one_click_unsubscribe(alice, clock, settings):
    settings.SITE_URL = "https://diary.example.org"
    remind(alice, "09:00")
    tick()
    (message,) = mail.outbox
    assert message.subject == "LDN Diary: Wednesday 18 November is not logged yet"
    assert "https://diary.example.org/diary/?date=2026-11-18" in message.body
    html = message.alternatives[0][0]
    assert 'href="https://diary.example.org/diary/?date=2026-11-18"' in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://diary.example.org/reminders/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.strip("<>") in message.body and unsubscribe.strip("<>") in html
    # No health data in a reminder beyond the fact of the day.
    assert "pain" not in message.body.lower()


def test_the_link_logs_nobody_in(client, alice, clock):
    remind(alice, "09:00")
    tick()
    link = next(line for line in mail.outbox[0].body.splitlines() if "/diary/?date=" in line)
    response = client.get(link.replace("http://127.0.0.1:8000", ""))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("instant", "zone", "local"), INSTANT_CASES, indirect=["instant"])
def test_the_reminder_is_for_the_patients_own_local_day(instant, zone, local, clock):
    patient = make_user("pat", "patient", time_zone=zone)
    # A reminder time one minute before the patient's local time now: due now, for their date.
    now_local = instant.astimezone(patient.tzinfo)
    remind(patient, (now_local - dt.timedelta(minutes=1)).strftime("%H:%M"))
    if now_local.time() < dt.time(0, 1):
        pytest.skip("one minute after local midnight: the time would be on the day before")
    assert tick().sent == 1
    assert [r.local_date for r in reminders_of(patient)] == [local]
    # Two hours on (across a daylight-saving change where there is one): nothing more that day.
    for minutes in range(5, 125, 5):
        clock.move_to(instant + dt.timedelta(minutes=minutes))
        tick()
    assert [r.local_date for r in reminders_of(patient, "daily")] == [local]


def simulate(start: T, hours: int, clock) -> None:
    """Beat's ticks every 5 minutes from ``start`` for ``hours``."""
    for n in range(hours * 12 + 1):
        clock.move_to(start + dt.timedelta(minutes=5 * n))
        tick()


@pytest.mark.parametrize(
    ("zone", "remind_at", "start", "first_sent_utc"),
    [
        # London springs forward at 01:00 UTC on 28 March 2027: 01:30 never happens locally,
        # so the reminder goes at the first tick after, 02:00 BST.
        (
            "Europe/London",
            "01:30",
            T(2027, 3, 28, 0, 0, tzinfo=UTC),
            T(2027, 3, 28, 1, 0, tzinfo=UTC),
        ),
        # London falls back at 01:00 UTC on 25 October 2026: 01:30 happens twice locally; the
        # first is the reminder, the second finds the day claimed.
        (
            "Europe/London",
            "01:30",
            T(2026, 10, 24, 23, 0, tzinfo=UTC),
            T(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        # New York: forward at 07:00 UTC on 14 March 2027 (02:00 EST -> 03:00 EDT).
        (
            "America/New_York",
            "02:15",
            T(2027, 3, 14, 5, 0, tzinfo=UTC),
            T(2027, 3, 14, 7, 0, tzinfo=UTC),
        ),
        # Back at 06:00 UTC on 1 November 2026 (02:00 EDT -> 01:00 EST).
        (
            "America/New_York",
            "01:20",
            T(2026, 11, 1, 4, 0, tzinfo=UTC),
            T(2026, 11, 1, 5, 20, tzinfo=UTC),
        ),
    ],
    ids=["london-spring", "london-fall", "new-york-spring", "new-york-fall"],
)
def test_daylight_saving_days_give_one_reminder_at_the_first_tick_due(
    zone, remind_at, start, first_sent_utc, clock
):
    clock.move_to(start)
    patient = make_user("pat", "patient", time_zone=zone)
    remind(patient, remind_at)
    simulate(start, 5, clock)
    (reminder,) = reminders_of(patient)
    assert reminder.claimed_at == first_sent_utc
    assert reminder.local_date == first_sent_utc.astimezone(patient.tzinfo).date()
    assert len(mail.outbox) == 1


def test_three_days_of_ticks_in_four_zones_give_one_reminder_a_day_each(clock):
    """Every 5 minutes for 3 days across the London change: one per patient per local day."""
    start = T(2026, 10, 23, 12, 0, tzinfo=UTC)
    clock.move_to(start)
    zones = ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/London", "America/New_York")
    patients = [make_user(f"p{i}", "patient", time_zone=zone) for i, zone in enumerate(zones)]
    for patient in patients:
        remind(patient, "18:00")
    simulate(start, 72, clock)
    for patient in patients:
        days = [r.local_date for r in reminders_of(patient, "daily")]
        assert len(days) == len(set(days)) == 3, (patient.time_zone, days)
        for reminder in reminders_of(patient, "daily"):
            local = reminder.claimed_at.astimezone(patient.tzinfo)
            # Sent at the first 5-minute tick at or after 18:00 local (all these zones are
            # whole hours from UTC, so exactly 18:00).
            assert (local.date(), local.time()) == (reminder.local_date, dt.time(18, 0))
    assert len(mail.outbox) == 12


# --- Titration ---------------------------------------------------------------------------------


def test_a_dose_step_reminder_on_its_due_day_only(alice, clock):
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=14), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    log_day(alice, today)  # logged: no daily reminder, but the step is still due
    remind(alice, "09:00")
    assert tick().sent == 1
    (message,) = mail.outbox
    assert message.subject == "LDN Diary: a planned dose step is due today"
    assert "Your plan says 3 mg from today" in message.body
    assert "/reminders/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    (reminder,) = reminders_of(alice)
    assert (reminder.kind, reminder.dose_ug) == ("titration", 3000)
    # Not confirmed the next day: the plan's due day has passed, no second reminder.
    clock.move_to(T(2026, 11, 19, 9, 0, tzinfo=UTC))
    log_day(alice, alice.local_today())
    assert tick().due == 0


def test_no_step_reminder_before_the_first_dose_or_when_switched_off(alice, bob, clock):
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    log_day(alice, alice.local_today())
    remind(alice, "09:00")
    today = bob.local_today()
    dose_change_add(patient=bob, effective_date=today - dt.timedelta(days=14), dose_ug=1500)
    plan_set(patient=bob, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    log_day(bob, today)
    remind(bob, "09:00", titration=False)
    assert tick().due == 0


# --- Seven unanswered days ---------------------------------------------------------------------


def days(n: int, hour: int = 20) -> list[T]:
    return [T(2026, 11, 18, hour, 5, tzinfo=UTC) + dt.timedelta(days=i) for i in range(n)]


def test_seven_unanswered_reminders_then_one_last_email_then_silence(alice, clock):
    remind(alice, "20:00")
    for at in days(7):
        clock.move_to(at)
        assert tick().sent == 1
    clock.move_to(days(8)[-1])
    assert tick().sent == 1
    last = mail.outbox[-1]
    assert last.subject == "LDN Diary: we have paused your reminders"
    assert "log any day" in last.body and "/reminders/" in last.body
    assert [r.kind for r in reminders_of(alice)][-1] == "stopped"
    for at in days(12)[8:]:
        clock.move_to(at)
        assert tick().due == 0
    assert len(mail.outbox) == 8


def test_logging_any_day_switches_them_back_on(alice, clock):
    remind(alice, "20:00")
    for at in days(8):
        clock.move_to(at)
        tick()
    assert reminders_of(alice)[-1].kind == "stopped"
    clock.move_to(days(10)[-1] - dt.timedelta(hours=10))
    log_day(alice, alice.local_today() - dt.timedelta(days=3))  # a day filled in later
    clock.move_to(days(10)[-1])
    assert tick().sent == 1
    assert mail.outbox[-1].subject.endswith("is not logged yet")


def test_saving_the_settings_switches_them_back_on(alice, clock):
    remind(alice, "20:00")
    for at in days(9):
        clock.move_to(at)
        tick()
    assert len(mail.outbox) == 8
    remind(alice, "20:00")
    clock.move_to(days(10)[-1])
    assert tick().sent == 1 and len(mail.outbox) == 9


def test_an_answered_reminder_does_not_count(alice, clock):
    remind(alice, "20:00")
    for i, at in enumerate(days(10)):
        clock.move_to(at)
        tick()
        if i == 4:  # answered the fifth reminder
            log_day(alice, alice.local_today())
    kinds = [r.kind for r in reminders_of(alice)]
    # Five unanswered since the answer: still under the limit of seven.
    assert "stopped" not in kinds and kinds.count("daily") == 10


# --- Failures, retries and never twice ---------------------------------------------------------


def test_a_failed_send_is_logged_by_patient_id_only_and_retried_once_later(
    alice, clock, monkeypatch, caplog
):
    remind(alice, "09:00")
    original = EmailMultiAlternatives.send
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise smtplib.SMTPServerDisconnected(
                "Connection unexpectedly closed: alice@example.org"
            )
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky)
    result = tick()
    assert (result.sent, result.failed) == (0, 1) and mail.outbox == []
    (reminder,) = reminders_of(alice)
    assert (reminder.status, reminder.last_error) == ("failed", "SMTPServerDisconnected")
    logged = caplog.text
    assert f"patient {alice.pk}" in logged and "SMTPServerDisconnected" in logged
    assert "alice@example.org" not in logged and "http" not in logged
    clock.move_to(T(2026, 11, 18, 10, 5, tzinfo=UTC))
    assert tick().sent == 1
    clock.move_to(T(2026, 11, 18, 10, 10, tzinfo=UTC))
    assert tick().due == 0
    assert len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("sent", 2)


def test_retries_stop_after_the_last_attempt(alice, clock, monkeypatch):
    remind(alice, "09:00")

    def down(self, *args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(EmailMultiAlternatives, "send", down)
    for minutes in range(0, 60, 5):
        clock.move_to(T(2026, 11, 18, 10, minutes, tzinfo=UTC))
        tick()
    (reminder,) = reminders_of(alice)
    assert (reminder.status, reminder.attempts) == ("failed", rules.MAX_ATTEMPTS)


def test_a_reminder_left_claimed_by_a_dead_process_is_not_sent_again(alice, clock):
    Reminder.objects.create(patient=alice, local_date=alice.local_today(), kind=ReminderKind.DAILY)
    remind(alice, "09:00")
    assert tick().due == 0 and mail.outbox == []


def test_two_ticks_interleaved_send_once(alice, bob, clock, monkeypatch):
    """The second tick computes the same due list before the first claims: it loses every
    claim and sends nothing (any database; the threads on PostgreSQL are in test_race.py)."""
    from ldn_diary.reminders import selectors, services

    remind(alice, "09:00")
    remind(bob, "09:00")
    original = selectors.due_reminders
    inner: list = []

    def due_then_race(now):
        due = original(now)
        if not inner:
            inner.append(None)
            inner[0] = services.reminders_tick()  # the other tick runs to the end here
        return due

    monkeypatch.setattr(selectors, "due_reminders", due_then_race)
    outer = services.reminders_tick()
    assert (inner[0].sent, outer.sent, outer.skipped) == (2, 0, 2)
    assert len(mail.outbox) == 2
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 2


def test_a_tick_costs_the_same_queries_for_one_patient_or_many(alice, clock):
    from ldn_diary.accounts.models import User

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            tick()
        return len(queries)

    remind(alice, "23:00")  # not due yet: the scan of settings alone
    one = count()
    for i in range(20):
        remind(make_user(f"p{i}", "patient", time_zone="Europe/London"), "23:00")
    assert count() == one == 1
    # All due, none to send (each day logged): a fixed handful of queries however many.
    clock.move_to(T(2026, 11, 18, 23, 5, tzinfo=UTC))
    for patient in User.objects.filter(role="patient"):
        log_day(patient, patient.local_today())
    few = count()
    for i in range(20, 40):
        patient = make_user(f"p{i}", "patient", time_zone="Europe/London")
        remind(patient, "23:00")
        log_day(patient, patient.local_today())
    assert count() == few <= 8


def test_one_patients_broken_reminder_does_not_stop_the_others(alice, bob, clock, monkeypatch):
    from ldn_diary.reminders import messages

    remind(alice, "09:00")
    remind(bob, "09:00")
    original = messages.build

    def build(*, patient, **kwargs):
        if patient.pk == alice.pk:
            raise RuntimeError("template went wrong")
        return original(patient=patient, **kwargs)

    monkeypatch.setattr(messages, "build", build)
    result = tick()
    assert (result.sent, result.failed) == (1, 1)
    assert [m.to for m in mail.outbox] == [[bob.email]]
    assert reminders_of(alice)[0].status == "failed"
