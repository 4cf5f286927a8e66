"""Login throttling: per client address and per account, separately (accounts/throttle.py).

The design under test: an address is locked out after AXES_FAILURE_LIMIT (10) failures on any
accounts within an hour; an account after AXES_ACCOUNT_FAILURE_LIMIT (30) failures from any
addresses within 15 minutes. A locked-out client's attempts are not counted, so a single
address can never lock somebody else out.
"""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from ldn_diary.accounts.models import Role
from ldn_diary.accounts.throttle import client_address

from ..conftest import PASSWORD, make_user

ATTACKER, VICTIM = "203.0.113.66", "198.51.100.20"


def attempt(client, username: str, password: str, address: str, **headers: str):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def patients(db):
    return [make_user(f"p{n:02d}", Role.PATIENT) for n in range(15)]


def test_spraying_one_password_across_accounts_from_one_address_is_locked_out(
    client, patients, settings
):
    limit = settings.AXES_FAILURE_LIMIT
    for user in patients[: limit - 1]:
        assert attempt(client, user.username, "Winter2026!", ATTACKER).status_code == 200
    # The limit-th failure locks the address out...
    assert attempt(client, patients[limit - 1].username, "Winter2026!", ATTACKER).status_code == 429
    # ...of every account, even with the right password.
    response = attempt(client, patients[limit].username, PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert "Login paused" in response.content.decode()
    assert not signed_in(client)
    # Another address is not.
    assert attempt(client, patients[limit].username, PASSWORD, VICTIM).status_code == 302


def test_the_address_lockout_cools_off_after_an_hour(client, patients, clock, settings):
    for user in patients[: settings.AXES_FAILURE_LIMIT]:
        attempt(client, user.username, "nope", ATTACKER)
    assert attempt(client, patients[0].username, PASSWORD, ATTACKER).status_code == 429
    clock.shift(dt.timedelta(minutes=61))
    assert attempt(client, patients[0].username, PASSWORD, ATTACKER).status_code == 302


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_changes_nothing(
    client, patients, settings
):
    assert settings.TRUSTED_PROXIES == []
    for n, user in enumerate(patients[: settings.AXES_FAILURE_LIMIT]):
        attempt(client, user.username, "nope", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.9.0.{n}")
    response = attempt(
        client, patients[-1].username, PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert response.status_code == 429
    # Every failure was counted against the peer, none against the forged addresses.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    client, patients, settings
):
    proxy = "10.0.0.2"
    settings.TRUSTED_PROXIES = [__import__("ipaddress").ip_network("10.0.0.0/24")]
    for user in patients[: settings.AXES_FAILURE_LIMIT]:
        attempt(client, user.username, "nope", proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    # The attacker, behind the proxy, is locked out (and cannot escape by prepending a
    # forged address: only the rightmost untrusted entry counts)...
    response = attempt(
        client,
        patients[-1].username,
        PASSWORD,
        proxy,
        HTTP_X_FORWARDED_FOR=f"{VICTIM}, {ATTACKER}",
    )
    assert response.status_code == 429
    # ...while everyone else behind the same proxy logs in.
    response = attempt(client, patients[-1].username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=VICTIM)
    assert response.status_code == 302


def test_one_attacker_address_cannot_lock_the_victim_out(client, alice, settings):
    # The attacker tries far more than any limit against Alice from one address.
    for _ in range(settings.AXES_ACCOUNT_FAILURE_LIMIT + 5):
        attempt(client, "alice", "guess", ATTACKER)
    assert attempt(client, "alice", PASSWORD, ATTACKER).status_code == 429
    # Only the attacker's first AXES_FAILURE_LIMIT failures counted.
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == (
        settings.AXES_FAILURE_LIMIT
    )
    # Alice, from her own address, is not affected at all.
    assert attempt(client, "alice", PASSWORD, VICTIM).status_code == 302
    assert signed_in(client)


def test_guesses_spread_over_many_addresses_lock_the_account_for_its_cool_off(
    client, alice, clock, settings
):
    per_address = settings.AXES_FAILURE_LIMIT - 1
    addresses = [f"203.0.113.{n}" for n in range(1, 10)]
    failures = 0
    for address in addresses:
        for _ in range(per_address):
            if failures < settings.AXES_ACCOUNT_FAILURE_LIMIT:
                attempt(client, "alice", "guess", address)
                failures += 1
    # The account is locked, from every address, Alice's included...
    assert attempt(client, "alice", PASSWORD, VICTIM).status_code == 429
    # ...other accounts are not...
    bob = make_user("bobby", Role.PATIENT)
    assert attempt(client, bob.username, PASSWORD, VICTIM).status_code == 302
    client.post(reverse("accounts:logout"))
    # ...and the lock lifts after the account cool-off (15 minutes).
    clock.shift(settings.AXES_ACCOUNT_COOLOFF + dt.timedelta(seconds=30))
    assert attempt(client, "alice", PASSWORD, VICTIM).status_code == 302


@pytest.mark.parametrize("length", [151, 256, 300, 10_000])
def test_an_overlong_username_is_a_form_error_not_a_500(client, alice, length):
    response = attempt(client, "a" * length, "whatever", ATTACKER)
    assert response.status_code == 200
    assert "A username has at most 150 characters." in response.content.decode()
    assert not AccessAttempt.objects.exists()
    # The valid request still works afterwards.
    assert attempt(client, "alice", PASSWORD, ATTACKER).status_code == 302


def test_the_client_address_is_the_rightmost_untrusted_hop(settings):
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    factory = RequestFactory()

    def address(peer: str, forwarded: str | None = None) -> str:
        headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_address(factory.get("/", REMOTE_ADDR=peer, **headers))

    assert address("198.51.100.1", "1.2.3.4") == "198.51.100.1"  # peer not a proxy
    assert address("10.0.0.1", "1.2.3.4") == "1.2.3.4"
    assert address("10.0.0.1", "6.6.6.6, 1.2.3.4") == "1.2.3.4"  # forged left part ignored
    assert address("10.0.0.1", "1.2.3.4, 10.0.0.7") == "1.2.3.4"  # two proxies
    assert address("10.0.0.1", "1.2.3.4, garbage") == "10.0.0.1"  # malformed: stop at proxy
    assert address("10.0.0.1", "") == "10.0.0.1"
    assert address("10.0.0.1") == "10.0.0.1"
    assert address("not an address") == "0.0.0.0"  # noqa: S104 - an address, not a bind
