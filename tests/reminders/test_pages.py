"""The reminder settings page, the devices, and the unsubscribe link: who may use each, what
bad input is told, and that a link changes nothing until its button is pressed."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from ldn_diary.reminders import tokens
from ldn_diary.reminders.models import PushSubscription, ReminderEvent, ReminderSettings
from ldn_diary.reminders.services import push_device_add

from .conftest import remind, tick

SETTINGS = reverse("reminders:settings")
PUSH_ADD = reverse("reminders:push_add")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(n: int = 1) -> dict:
    return {
        "endpoint": f"https://push.example.net/send/device-{n}",
        "keys": {"p256dh": b64(b"\x04" + bytes([n]) * 64), "auth": b64(bytes([n]) * 16)},
    }


def device_for(patient, n: int = 1) -> PushSubscription:
    sub = subscription(n)
    return push_device_add(patient=patient, endpoint=sub["endpoint"], label="Chrome on Android",
                           **sub["keys"])  # fmt: skip


# --- Settings ----------------------------------------------------------------------------------


def test_a_patient_sets_a_time_and_switches_reminders_off(client, alice):
    client.force_login(alice)
    page = client.get(SETTINGS)
    assert page.status_code == 200 and b"Remind me at" in page.content
    response = client.post(SETTINGS, {"remind_at": "20:30", "daily": "on", "titration": "on"})
    assert response.status_code == 302
    row = ReminderSettings.objects.get(patient=alice)
    assert (row.remind_at, row.daily, row.titration) == (dt.time(20, 30), True, True)
    assert b"Reminders saved: at 20:30 each day." in client.get(SETTINGS).content
    client.post(SETTINGS, {"remind_at": "", "daily": "on"})
    row.refresh_from_db()
    assert row.remind_at is None and not row.enabled
    assert [e.detail for e in ReminderEvent.objects.filter(patient=alice)] == [
        "off", "daily and dose steps at 20:30"
    ]  # fmt: skip
    profile = client.get(reverse("accounts:profile")).content.decode()
    assert "Set up reminders" in profile


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"remind_at": "25:00", "daily": "on"}, "Enter a time like 20:00"),
        ({"remind_at": "8pm", "daily": "on"}, "Enter a time like 20:00"),
        ({"remind_at": "20:00"}, "Choose at least one kind of reminder"),
    ],
)
def test_bad_input_says_what_to_do_and_keeps_what_was_saved(client, alice, data, message):
    remind(alice, "07:15")
    client.force_login(alice)
    response = client.post(SETTINGS, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ReminderSettings.objects.get(patient=alice).remind_at == dt.time(7, 15)


def test_the_profile_card_says_when(client, alice):
    remind(alice, "21:00", titration=False)
    client.force_login(alice)
    profile = client.get(reverse("accounts:profile")).content.decode()
    assert "At 21:00 each day, if the day is not logged." in profile


@pytest.mark.parametrize("who", ["carol", "dave", "mona"])
def test_other_roles_get_the_wrong_role_page_and_see_nothing(client, alice, carol, dave, mona, who):
    remind(alice, "20:00")
    device = device_for(alice)
    client.force_login({"carol": carol, "dave": dave, "mona": mona}[who])
    for response in (
        client.get(SETTINGS),
        client.post(SETTINGS, {"remind_at": "06:00", "daily": "on"}),
        client.post(PUSH_ADD, json.dumps(subscription(2)), content_type="application/json"),
        client.post(reverse("reminders:push_remove", args=[device.uuid])),
    ):
        assert response.status_code == 403  # another role: the wrong-role page
        assert b"20:00" not in response.content and b"Chrome on Android" not in response.content
    assert ReminderSettings.objects.get(patient=alice).remind_at == dt.time(20, 0)
    assert PushSubscription.objects.filter(patient=alice).count() == 1


def test_anonymous_is_sent_to_log_in(client, alice):
    for response in (client.get(SETTINGS), client.post(PUSH_ADD)):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_patient_sees_only_their_own_and_cannot_remove_hers(client, alice, bob):
    remind(alice, "20:00")
    device = device_for(alice)
    client.force_login(bob)
    page = client.get(SETTINGS).content.decode()
    assert "20:00" not in page and "Chrome on Android" not in page
    response = client.post(reverse("reminders:push_remove", args=[device.uuid]))
    assert response.status_code == 404
    assert PushSubscription.objects.filter(pk=device.pk).exists()
    # The refused request changed nothing, and Alice's own works.
    client.force_login(alice)
    response = client.post(reverse("reminders:push_remove", args=[device.uuid]))
    assert response.status_code == 302 and not PushSubscription.objects.exists()


# --- Devices -----------------------------------------------------------------------------------


def test_a_browser_subscribes_and_is_listed(client, alice, settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BKey", "x"
    client.force_login(alice)
    response = client.post(
        PUSH_ADD, json.dumps(subscription()), content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    )  # fmt: skip
    assert response.status_code == 201
    device = PushSubscription.objects.get(patient=alice)
    assert device.label == "Chrome on Android"
    page = client.get(SETTINGS).content.decode()
    assert "Chrome on Android" in page and 'data-key="BKey"' in page
    # The same browser again: one device, not two.
    client.post(PUSH_ADD, json.dumps(subscription()), content_type="application/json")
    assert PushSubscription.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"endpoint": "http://push.example.net/x", "keys": subscription()["keys"]}),
        json.dumps({**subscription(), "keys": {"p256dh": "short", "auth": "x"}}),
        json.dumps([1, 2]),
    ],
)
def test_a_bad_subscription_is_refused(client, alice, body):
    client.force_login(alice)
    response = client.post(PUSH_ADD, body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    assert not PushSubscription.objects.exists()


def test_a_browser_passed_to_another_account_changes_owner(alice, bob):
    device_for(alice)
    device_for(bob)
    assert list(PushSubscription.objects.values_list("patient__username", flat=True)) == ["bob"]


# --- Unsubscribe ---------------------------------------------------------------------------------


def unsubscribe_url(patient, purpose: str = "daily") -> str:
    return reverse("reminders:unsubscribe", args=[tokens.make(patient.uuid, purpose)])


def test_the_link_asks_first_then_one_post_switches_that_kind_off(alice):
    remind(alice, "20:00")
    anonymous = Client(enforce_csrf_checks=True)
    url = unsubscribe_url(alice)
    page = anonymous.get(url)
    assert page.status_code == 200 and b"Stop daily reminders?" in page.content
    assert ReminderSettings.objects.get(patient=alice).daily  # a GET (a link scanner) does nothing
    done = anonymous.post(url)  # no CSRF token, no cookie: as a mail program's one-click POST
    assert done.status_code == 200 and b"Done: you will get no more" in done.content
    row = ReminderSettings.objects.get(patient=alice)
    assert (row.daily, row.titration, row.remind_at) == (False, True, dt.time(20, 0))
    event = ReminderEvent.objects.filter(patient=alice).first()
    assert (event.kind, event.by_patient) == ("unsubscribed", False)
    again = anonymous.post(url, {"List-Unsubscribe": "One-Click"})
    assert b"already off" in again.content


def test_the_titration_link_switches_off_only_step_reminders(client, alice):
    remind(alice, "20:00")
    client.post(unsubscribe_url(alice, "titration"))
    row = ReminderSettings.objects.get(patient=alice)
    assert (row.daily, row.titration) == (True, False)


def test_the_link_in_a_real_reminder_works(client, alice, clock):
    remind(alice, "09:00")
    tick()
    url = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    client.post(url.replace("http://127.0.0.1:8000", ""))
    assert not ReminderSettings.objects.get(patient=alice).daily


def test_a_damaged_or_foreign_token_is_refused_clearly_and_not_logged(client, alice, caplog):
    remind(alice, "20:00")
    good = tokens.make(alice.uuid, "daily")
    cases = {
        good[:-3] + "abc": 400,  # the signature does not match
        good.split(":")[0]: 400,  # cut short
        signing.Signer(salt="ldn_diary.accounts.other").sign_object(
            {"p": str(alice.uuid), "k": "daily"}
        ): 400,  # another purpose's salt
        signing.Signer(salt=tokens.SALT).sign_object({"p": str(alice.uuid), "k": "login"}): 404,
        signing.Signer(salt=tokens.SALT).sign_object({"p": "not-a-uuid", "k": "daily"}): 404,
        tokens.make(__import__("uuid").uuid4(), "daily"): 404,  # nobody
    }
    with caplog.at_level(logging.INFO):
        for token, status in cases.items():
            for method in (client.get, client.post):
                response = method(reverse("reminders:unsubscribe", args=[token]))
                assert response.status_code == status, token
                assert b"20:00" not in response.content
    assert ReminderSettings.objects.get(patient=alice).daily
    for token in cases:
        assert token not in caplog.text


def test_an_unsubscribe_link_opens_no_session(client, alice):
    client.get(unsubscribe_url(alice))
    client.post(unsubscribe_url(alice))
    assert "_auth_user_id" not in client.session
    assert client.get(SETTINGS).status_code == 302
