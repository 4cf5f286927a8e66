from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from ldn_diary.accounts.models import User


def test_it_creates_a_user_with_a_printed_random_password(db):
    out = io.StringIO()
    call_command(
        "add_user", "dr.lee", "--role", "clinician", "--email", "lee@example.org", stdout=out
    )
    user = User.objects.get(username="dr.lee")
    assert user.role == "clinician" and user.email == "lee@example.org"
    password = out.getvalue().split("Password: ")[1].strip()
    assert len(password) >= 12 and user.check_password(password)


def test_it_reads_the_password_from_stdin(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    out = io.StringIO()
    call_command("add_user", "sam", "--role", "moderator", "--password-stdin", stdout=out)
    assert User.objects.get(username="sam").check_password("a long enough passphrase")
    assert "Password:" not in out.getvalue()


def test_an_unknown_role_is_refused(db):
    with pytest.raises(CommandError, match="Unknown role 'nurse'.*patient, clinician, moderator"):
        call_command("add_user", "x", "--role", "nurse")
    assert not User.objects.filter(username="x").exists()


def test_a_taken_name_is_refused(db, alice):
    with pytest.raises(CommandError, match="already taken"):
        call_command("add_user", "ALICE", "--role", "patient")


def test_a_weak_stdin_password_is_refused(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("add_user", "weak", "--role", "patient", "--password-stdin")
    assert not User.objects.filter(username="weak").exists()


def test_the_command_exits_non_zero_on_error(db):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "add_user", "y", "--role", "wizard"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Unknown role 'wizard'" in result.stderr
