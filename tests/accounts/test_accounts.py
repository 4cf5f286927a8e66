"""Patient accounts: sign up, log in and out, reset a password, set a time zone."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ldn_diary.accounts.models import Role, User

from ..conftest import PASSWORD


def test_signing_up_makes_a_patient_and_logs_them_in(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "Nina@Example.org",
            "username": "nina",
            "display_name": "Nina",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="nina")
    assert user.role == Role.PATIENT and user.email == "nina@example.org"
    assert client.get("/")["Location"] == reverse("diary:today")


def test_sign_up_cannot_choose_a_role(client, db):
    client.post(
        reverse("accounts:signup"),
        {
            "email": "x@example.org",
            "username": "x",
            "role": "clinician",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert User.objects.get(username="x").role == Role.PATIENT


def test_a_used_email_gets_a_clear_error(client, alice):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "ALICE@example.org",
            "username": "alice2",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "An account already uses this email" in response.content.decode()
    assert not User.objects.filter(username="alice2").exists()


def test_login_and_logout(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("diary:today")).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("diary:today")).status_code == 302


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_repeated_failures_lock_the_login(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    # Even the right password is refused during the lockout.
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client, alice):
    client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    new = "a brand new passphrase 42"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_time_zone_sets_the_patients_today(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": "Alice", "email": "alice@example.org", "time_zone": "Pacific/Kiritimati"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    kiritimati = (timezone.now() + dt.timedelta(hours=14)).date()
    assert alice.local_today() == kiritimati


def test_an_unknown_time_zone_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": "Alice", "email": "alice@example.org", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/London"
