"""VAPID keys: made by `manage.py vapid_keys`, read from the environment strictly, checked as a
pair at start-up."""

from __future__ import annotations

from io import StringIO

from django.core.checks import run_checks
from django.core.management import call_command

from ldn_diary.reminders import keys

from ..core.test_settings import run_settings


def generated() -> dict[str, str]:
    out = StringIO()
    call_command("vapid_keys", stdout=out)
    return dict(line.split("=", 1) for line in out.getvalue().splitlines())


def test_the_command_prints_a_pair_that_signs(settings):
    pair = generated()
    assert set(pair) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"}
    assert keys.problem(pair["VAPID_PUBLIC_KEY"], pair["VAPID_PRIVATE_KEY"]) is None
    from py_vapid import Vapid

    signed = Vapid.from_string(pair["VAPID_PRIVATE_KEY"]).sign(
        {"sub": "mailto:a@example.org", "aud": "https://push.example.net", "exp": 4102444800}
    )
    assert f"k={pair['VAPID_PUBLIC_KEY']}" in signed["Authorization"]
    assert generated() != pair  # new each time


def test_the_start_up_check_catches_keys_that_are_not_a_pair(settings):
    one, other = generated(), generated()
    settings.VAPID_PUBLIC_KEY = one["VAPID_PUBLIC_KEY"]
    settings.VAPID_PRIVATE_KEY = other["VAPID_PRIVATE_KEY"]
    assert [m.id for m in run_checks() if m.id.startswith("reminders")] == ["reminders.E001"]
    settings.VAPID_PRIVATE_KEY = "not-a-key"
    assert [m.id for m in run_checks() if m.id.startswith("reminders")] == ["reminders.E001"]
    settings.VAPID_PRIVATE_KEY = one["VAPID_PRIVATE_KEY"]
    assert [m.id for m in run_checks() if m.id.startswith("reminders")] == []


def test_settings_want_both_keys_and_a_contact(tmp_path):
    pair = generated()
    result = run_settings(
        "s.VAPID_PUBLIC_KEY", SECRET_KEY="x", VAPID_PUBLIC_KEY=pair["VAPID_PUBLIC_KEY"]
    )
    assert (
        result.returncode != 0
        and "Set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY" in result.stderr
    )
    result = run_settings(
        "s.VAPID_SUBJECT", SECRET_KEY="x", VAPID_PUBLIC_KEY=pair["VAPID_PUBLIC_KEY"],
        VAPID_PRIVATE_KEY=pair["VAPID_PRIVATE_KEY"], VAPID_SUBJECT="me",
    )  # fmt: skip
    assert result.returncode != 0 and "VAPID_SUBJECT must be a contact" in result.stderr
    key_file = tmp_path / "vapid"
    key_file.write_text(pair["VAPID_PRIVATE_KEY"] + "\n")
    result = run_settings(
        "s.VAPID_PRIVATE_KEY", SECRET_KEY="x", VAPID_PUBLIC_KEY=pair["VAPID_PUBLIC_KEY"],
        VAPID_PRIVATE_KEY_FILE=str(key_file), VAPID_SUBJECT="mailto:care@example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == pair["VAPID_PRIVATE_KEY"]
    result = run_settings("(s.VAPID_PUBLIC_KEY, s.VAPID_PRIVATE_KEY)", SECRET_KEY="x")
    assert result.stdout.strip() == "('', '')", result.stderr


def test_the_beat_schedule_ticks_every_five_minutes(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-reminders"]
    assert entry["task"] == "ldn_diary.reminders.tasks.send_due_reminders"
    assert entry["schedule"] == 300 and entry["options"]["expires"] < 300


def test_the_task_runs_the_tick(alice, clock):
    from django.core import mail

    from ldn_diary.reminders.tasks import send_due_reminders

    from .conftest import remind

    remind(alice, "09:00")
    send_due_reminders.delay()
    assert len(mail.outbox) == 1
