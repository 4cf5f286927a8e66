"""Sessions end after 30 minutes idle and 12 hours after sign-in (accounts.middleware)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ..conftest import PASSWORD


def log_in(client) -> None:
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def test_thirty_minutes_idle_ends_the_session(client, alice, clock):
    log_in(client)
    today = reverse("diary:today")
    assert client.get(today).status_code == 200
    clock.shift(dt.timedelta(minutes=29))
    assert client.get(today).status_code == 200  # activity resets the idle clock
    clock.shift(dt.timedelta(minutes=29))
    assert client.get(today).status_code == 200
    clock.shift(dt.timedelta(minutes=31))
    response = client.get(today)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "signed out after 30 minutes without activity" in page
    # Logging in again works.
    log_in(client)
    assert client.get(today).status_code == 200


def test_twelve_hours_after_sign_in_the_session_ends_however_active(client, alice, clock):
    log_in(client)
    today = reverse("diary:today")
    for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
        assert client.get(today).status_code == 200
        clock.shift(dt.timedelta(minutes=20))
    clock.shift(dt.timedelta(minutes=1))  # now past 12 hours, whole seconds and all
    response = client.get(today)
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert "a session lasts at most 12 hours" in client.get(response["Location"]).content.decode()


def test_an_htmx_request_after_the_timeout_reloads_the_login_page(client, alice, clock):
    log_in(client)
    clock.shift(dt.timedelta(minutes=31))
    response = client.get(reverse("diary:history"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))
    assert b"pain" not in response.content.lower()


def test_the_cookie_never_outlives_the_absolute_limit(client, alice, settings):
    log_in(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 12 * 60 * 60
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
