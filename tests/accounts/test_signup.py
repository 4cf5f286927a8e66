"""Signing up: a neutral answer whatever exists, an activation link by email, the time zone kept."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from ldn_diary.accounts.models import Role, User

from ..conftest import PASSWORD

CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def form(**overrides: str) -> dict[str, str]:
    data = {
        "email": "Nina@Example.org",
        "username": "nina",
        "display_name": "Nina",
        "time_zone": "America/New_York",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def activation_link(message) -> str:
    return re.search(r"https?://[^/]+(/accounts/activate/\S+/)", message.body).group(1)


def test_signing_up_sends_an_activation_link_that_makes_an_active_patient(client, db):
    response = client.post(reverse("accounts:signup"), form())
    assert response.status_code == 302 and response["Location"] == reverse("accounts:signup_sent")
    user = User.objects.get(username="nina")
    assert user.role == Role.PATIENT and user.email == "nina@example.org"
    assert user.time_zone == "America/New_York"
    assert not user.is_active
    # Not usable before the link: the password alone does not log in.
    client.post(reverse("accounts:login"), {"username": "nina", "password": PASSWORD})
    assert "_auth_user_id" not in client.session

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@example.org"]
    link = activation_link(mail.outbox[0])
    # Opening the link changes nothing (mail scanners open links); the button does.
    assert client.get(link).status_code == 200
    user.refresh_from_db()
    assert not user.is_active
    response = client.post(link)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    assert client.get("/")["Location"] == reverse("diary:today")
    # The link works once.
    client.post(reverse("accounts:logout"))
    assert client.post(link).status_code == 400


def test_a_forged_activation_link_is_refused(client, db):
    client.post(reverse("accounts:signup"), form())
    link = activation_link(mail.outbox[0])
    forged = link.rstrip("/")[:-3] + "abc/"
    assert client.post(forged).status_code == 400
    assert client.get("/accounts/activate/zzzz/abc/").status_code == 400
    assert not User.objects.get(username="nina").is_active


def test_sign_up_cannot_choose_a_role(client, db):
    client.post(reverse("accounts:signup"), form(role="clinician"))
    assert User.objects.get(username="nina").role == Role.PATIENT


def answer(client, data: dict[str, str]) -> tuple[int, str, str]:
    """Status and redirect of the POST, and the page it leads to without its CSRF token."""
    response = client.post(reverse("accounts:signup"), data)
    location = response.get("Location", "")
    page = client.get(location) if location else response
    return response.status_code, location, CSRF.sub(r"\1", page.content.decode())


@pytest.mark.parametrize(
    "taken",
    [
        pytest.param({"email": "ALICE@example.org", "username": "someone-new"}, id="email"),
        pytest.param({"email": "new@example.org", "username": "alice"}, id="username"),
        pytest.param({"email": "alice@example.org", "username": "alice"}, id="both"),
    ],
)
def test_the_answer_is_the_same_whether_the_account_exists_or_not(client, alice, taken):
    fresh = answer(client, form(email="fresh@example.org", username="fresh"))
    existing = answer(client, form(**taken))
    assert fresh == existing
    assert fresh[0] == 302 and "Check your email to continue" in fresh[2]
    assert "already" not in existing[2].lower() and "taken" not in existing[2].lower()


def test_each_case_gets_the_right_email(client, alice):
    client.post(reverse("accounts:signup"), form(email="ALICE@example.org", username="x1"))
    client.post(reverse("accounts:signup"), form(email="new@example.org", username="ALICE"))
    client.post(reverse("accounts:signup"), form(email="fresh@example.org", username="fresh"))
    exists, taken, fresh = mail.outbox
    assert exists.to == ["alice@example.org"]
    assert "You already have" in exists.subject and "username: alice" in exists.body
    assert "/accounts/password/reset/" in exists.body and "/activate/" not in exists.body
    assert taken.to == ["new@example.org"]
    assert '"ALICE"' in taken.body and "No account was made" in taken.body
    assert "/activate/" not in taken.body
    assert fresh.to == ["fresh@example.org"] and "/accounts/activate/" in fresh.body
    # Only the fresh sign-up made an account; alice's is untouched.
    assert set(User.objects.values_list("username", flat=True)) == {"alice", "fresh"}
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_signing_up_again_before_activating_sends_the_link_again(client, db):
    client.post(reverse("accounts:signup"), form())
    client.post(reverse("accounts:signup"), form(username="nina-again"))
    first, second = mail.outbox
    assert "/accounts/activate/" in first.body and "/accounts/activate/" in second.body
    assert User.objects.filter(email="nina@example.org").count() == 1


def test_form_errors_are_specific_and_keep_what_was_typed(client, db):
    response = client.post(
        reverse("accounts:signup"), form(password2="something else", username="bad name!")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The two passwords differ." in body
    assert "Username: enter a valid username" in body  # named for its field
    assert 'value="Nina@Example.org"' in body
    assert not User.objects.exists() and not mail.outbox


def test_an_unknown_time_zone_is_refused(client, db):
    response = client.post(reverse("accounts:signup"), form(time_zone="Mars/Olympus"))
    # The message names its field, not Django's bare "Select a valid choice".
    body = response.content.decode()
    assert response.status_code == 200 and "Time zone: “Mars/Olympus” is not one of" in body
    assert not User.objects.exists()


def test_the_form_asks_for_the_time_zone_and_preselects_the_default(client, db, settings):
    body = client.get(reverse("accounts:signup")).content.decode()
    assert '<select name="time_zone"' in body and "data-browser-time-zone" in body
    assert f'<option value="{settings.DEFAULT_PATIENT_TIME_ZONE}" selected>' in body
    assert "js/signup.js" in body


def test_the_time_zones_are_grouped_with_the_common_ones_first(client, db):
    # Not a flat list of about 600: an optgroup of common zones, then one per region.
    body = client.get(reverse("accounts:signup")).content.decode()
    groups = re.findall(r'<optgroup label="([^"]+)">', body)
    assert groups[0] == "Common time zones"
    assert {"Africa", "America", "Europe", "Pacific"} <= set(groups)
    common = body.split('<optgroup label="Common time zones">')[1].split("</optgroup>")[0]
    assert '<option value="Europe/London"' in common and '<option value="Europe/Madrid"' in common
    assert '<option value="America/New_York">America/New York</option>' in common


def test_sign_ups_are_limited_per_client_address(client, db):
    for n in range(10):
        response = client.post(
            reverse("accounts:signup"),
            form(email=f"p{n}@example.org", username=f"p{n}"),
            REMOTE_ADDR="198.51.100.7",
        )
        assert response.status_code == 302
    response = client.post(
        reverse("accounts:signup"),
        form(email="p10@example.org", username="p10"),
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 429
    assert not User.objects.filter(username="p10").exists()
    # Another address is not affected.
    response = client.post(
        reverse("accounts:signup"),
        form(email="p11@example.org", username="p11"),
        REMOTE_ADDR="198.51.100.8",
    )
    assert response.status_code == 302
