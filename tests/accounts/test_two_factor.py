"""The second factor: TOTP (with real codes at the frozen clock) and single-use recovery codes,
required of clinicians, moderators and administrators before any health data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ldn_diary.accounts import twofactor
from ldn_diary.accounts.models import Role

from ..conftest import PASSWORD, make_user, totp_code

STEP = dt.timedelta(seconds=30)


def password_login(client, username: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})


def give_code(client, code: str, next_url: str = ""):
    return client.post(reverse("accounts:two_factor"), {"code": code, "next": next_url})


@pytest.fixture
def carol_with_alice(carol, alice):
    """Carol (with an authenticator) linked to Alice, whose name is health data on her pages."""
    return carol


def test_a_clinician_sees_nothing_between_password_and_code(client, carol_with_alice, alice):
    response = password_login(client, "carol")
    assert response.status_code == 302
    pages = [
        reverse("clinic:roster"),
        reverse("clinic:patient", args=[alice.uuid]),
        reverse("clinic:brief", args=[alice.uuid]),
        reverse("accounts:profile"),
        reverse("home"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:two_factor")), url
        assert b"Alice" not in response.content
    # htmx requests are sent to the code page as a whole-page redirect.
    response = client.get(reverse("clinic:roster"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/accounts/2fa/")
    assert b"Alice" not in response.content
    # A POST is refused too, and changes nothing.
    response = client.post(reverse("clinic:note_add", args=[alice.uuid]), {"text": "x"})
    assert response.status_code == 302
    from ldn_diary.clinic.models import ClinicianNote

    assert not ClinicianNote.objects.exists()


def test_a_real_totp_code_opens_the_pages(client, carol_with_alice, alice):
    password_login(client, "carol")
    roster = reverse("clinic:roster")
    page = client.get(roster, follow=True)
    assert b"Enter your code" in page.content and b"Alice" not in page.content
    response = give_code(client, totp_code(), next_url=roster)
    assert response.status_code == 302 and response["Location"] == roster
    assert "Alice" in client.get(roster).content.decode()
    assert client.get(reverse("clinic:patient", args=[alice.uuid])).status_code == 200


def test_a_wrong_or_replayed_code_is_refused(client, carol_with_alice, clock):
    password_login(client, "carol")
    right = totp_code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = give_code(client, wrong)
    assert response.status_code == 200 and "That code did not work" in response.content.decode()
    assert client.get(reverse("clinic:roster")).status_code == 302
    # django-otp throttles after a failure (1 s, then 2, 4...): wait it out, then the right code.
    clock.shift(dt.timedelta(seconds=2))
    right = totp_code()
    assert give_code(client, right).status_code == 302
    assert client.get(reverse("clinic:roster")).status_code == 200
    # The same code cannot sign in a second session.
    other = type(client)()
    password_login(other, "carol")
    assert give_code(other, right).status_code == 200
    assert other.get(reverse("clinic:roster")).status_code == 302


def test_a_recovery_code_works_once(client, carol_with_alice, clock):
    codes = twofactor.recovery_codes_replace(user=carol_with_alice)
    password_login(client, "carol")
    response = give_code(client, codes[0].upper())  # case and spaces do not matter
    assert response.status_code == 302
    assert client.get(reverse("clinic:roster")).status_code == 200
    assert StaticToken.objects.filter(token=codes[0]).count() == 0
    client.post(reverse("accounts:logout"))
    password_login(client, "carol")
    assert give_code(client, codes[0]).status_code == 200
    clock.shift(dt.timedelta(seconds=2))
    assert give_code(client, codes[1]).status_code == 302


def test_enrolment_shows_a_qr_code_and_confirms_with_a_first_code(client, db):
    make_user("newdoc", Role.PATIENT)  # no authenticator yet
    from ldn_diary.accounts.models import User

    User.objects.filter(username="newdoc").update(role=Role.CLINICIAN)
    password_login(client, "newdoc")
    response = client.get(reverse("clinic:roster"), follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:two_factor_setup"))
    assert "<svg" in body and "otpauth" not in body  # the secret is in the picture only...
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', body).group(1)  # ...or typed
    device = TOTPDevice.objects.get(user__username="newdoc", confirmed=False)
    assert secret == twofactor.secret_base32(device)
    # Still nothing else.
    assert client.get(reverse("clinic:roster")).status_code == 302
    code = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:two_factor_setup"), {"code": code, "next": "/clinic/"})
    body = response.content.decode()
    assert response.status_code == 200 and "Your recovery codes" in body
    shown = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", body)
    assert len(shown) == twofactor.RECOVERY_CODES
    assert sorted(shown) == sorted(
        StaticToken.objects.filter(device__user__username="newdoc").values_list("token", flat=True)
    )
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("clinic:roster")).status_code == 200


def test_moderators_and_administrators_need_it_too_patients_do_not(client, mona, alice, db):
    password_login(client, "mona")
    assert client.get(reverse("community:home"))["Location"].startswith("/accounts/2fa/")
    give_code(client, totp_code())
    assert client.get(reverse("community:home")).status_code == 200

    admin = make_user("root", Role.PATIENT)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    other = type(client)()
    password_login(other, "root")
    assert other.get("/admin/")["Location"].startswith("/accounts/2fa/")

    patient = type(client)()
    password_login(patient, "alice")
    assert patient.get(reverse("diary:today")).status_code == 200
    assert patient.get(reverse("accounts:two_factor")).status_code == 404
    assert patient.get(reverse("accounts:two_factor_setup")).status_code == 404


def test_changing_the_second_factor_asks_for_the_password_again(client, carol, clock):
    password_login(client, "carol")
    give_code(client, totp_code())
    # Just signed in: recent enough.
    assert client.get(reverse("accounts:two_factor_setup")).status_code == 200
    clock.shift(dt.timedelta(minutes=11))
    response = client.get(reverse("accounts:two_factor_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    response = client.post(reverse("accounts:recovery_codes"))
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert not StaticToken.objects.exists()
    # A wrong password is refused; the right one goes back where the user was going.
    reauth = reverse("accounts:reauth")
    wrong = client.post(reauth, {"password": "nope", "next": "/accounts/2fa/setup/"})
    assert "That is not your password." in wrong.content.decode()
    right = client.post(reauth, {"password": PASSWORD, "next": "/accounts/2fa/setup/"})
    assert right["Location"] == "/accounts/2fa/setup/"
    response = client.post(reverse("accounts:recovery_codes"))
    assert response.status_code == 200 and StaticToken.objects.count() == 10


def test_new_recovery_codes_cancel_the_old_ones(carol, clock):
    old = twofactor.recovery_codes_replace(user=carol)
    new = twofactor.recovery_codes_replace(user=carol)
    assert not set(old) & set(new)
    assert twofactor.verify(carol, old[0]) is None
    clock.shift(dt.timedelta(seconds=2))  # past django-otp's throttle after a failure
    assert twofactor.verify(carol, new[0]) is not None


def test_repeated_wrong_passwords_on_re_authentication_end_the_session(client, carol, clock):
    password_login(client, "carol")
    give_code(client, totp_code())
    for _ in range(5):
        client.post(reverse("accounts:reauth"), {"password": "nope"})
    response = client.post(reverse("accounts:reauth"), {"password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_changing_the_email_needs_the_password(client, alice):
    client.force_login(alice)
    url = reverse("accounts:profile")
    data = {"display_name": "Alice", "email": "evil@example.org", "time_zone": "Europe/London"}
    response = client.post(url, data)
    assert "Enter your current password to change your email." in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    response = client.post(url, {**data, "password": PASSWORD})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "evil@example.org"


def test_changing_the_password_needs_the_old_one(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a new long phrase 9",
            "new_password2": "a new long phrase 9",
        },
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_the_profile_shows_the_second_factor_to_those_who_have_it(client, carol, alice):
    twofactor.recovery_codes_replace(user=carol)
    client.force_login(carol)
    body = client.get(reverse("accounts:profile")).content.decode()
    assert "Two-factor sign-in" in body and "10 unused recovery codes" in body
    client.force_login(alice)
    assert "Two-factor sign-in" not in client.get(reverse("accounts:profile")).content.decode()


def test_a_password_alone_cannot_make_recovery_codes_or_replace_the_authenticator(client, carol):
    password_login(client, "carol")  # recent, but no second factor yet
    response = client.post(reverse("accounts:recovery_codes"))
    assert response["Location"] == reverse("accounts:two_factor")
    assert not StaticToken.objects.exists()
    response = client.get(reverse("accounts:two_factor_setup"))
    assert response["Location"] == reverse("accounts:two_factor")
    assert TOTPDevice.objects.filter(user=carol).count() == 1


@pytest.mark.parametrize("name", ["two_factor", "two_factor_setup", "recovery_codes", "reauth"])
def test_the_second_factor_pages_need_a_sign_in(client, db, name):
    response = client.post(reverse(f"accounts:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_each_user_sees_only_their_own_authenticator(client, carol, dave, alice):
    """No object is named in these URLs: each page acts on the signed-in user's own devices."""
    TOTPDevice.objects.filter(user=dave).delete()
    password_login(client, "dave")
    body = client.get(reverse("accounts:two_factor_setup")).content.decode()
    dave_secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', body).group(1)
    carol_device = TOTPDevice.objects.get(user=carol)
    assert dave_secret != twofactor.secret_base32(carol_device)
    # Carol's code does not verify Dave, whose only device is his pending one.
    assert twofactor.verify(dave, totp_code()) is None
    # A patient is refused every second-factor page that acts on devices, with nothing shown.
    patient = type(client)()
    password_login(patient, "alice")
    for name in ("two_factor", "two_factor_setup"):
        response = patient.get(reverse(f"accounts:{name}"))
        assert response.status_code == 404 and b"<svg" not in response.content
    assert patient.post(reverse("accounts:recovery_codes")).status_code == 404
    assert not StaticToken.objects.filter(device__user=alice).exists()
