"""Patient accounts: sign up, log in and out, reset a password, set a time zone."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ..conftest import PASSWORD


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
    # The per-address limit; tests/accounts/test_login_throttle.py has the whole design.
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
