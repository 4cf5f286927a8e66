"""Web Push through pywebpush against a stand-in push service on this machine: the message is
VAPID-signed and encrypted for the browser (decrypted here with the browser's keys), a device
the push service calls gone is forgotten, and a failing push service stops nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import queue
import threading

import http_ece
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core import mail

from ldn_diary.reminders import keys
from ldn_diary.reminders.models import PushSubscription, Reminder, ReminderEvent

from .conftest import remind, tick

STATUS = {"/ok": 201, "/gone": 410, "/missing": 404, "/broken": 500}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def push_service():
    """A push service on a free local port, in a thread; yields (base URL, received)."""
    received: list[tuple[str, dict, bytes]] = []

    async def handle(request):
        headers = {name.lower(): value for name, value in request.headers.items()}
        received.append((request.path, headers, await request.read()))
        return web.Response(status=STATUS[request.path])

    app = web.Application()
    app.router.add_post("/{name}", handle)
    # The loop lives entirely in its own thread: the browser tests' Playwright keeps an event
    # loop of its own in the test thread, where a second one cannot run.
    loop = asyncio.new_event_loop()
    bound: queue.Queue[int | BaseException] = queue.Queue()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(app)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
        except BaseException as exc:
            bound.put(exc)
            raise
        bound.put(site._server.sockets[0].getsockname()[1])
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = bound.get()
    if isinstance(port, BaseException):
        raise port
    yield f"http://127.0.0.1:{port}", received
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


@pytest.fixture
def vapid(settings):
    public, private = keys.new_pair()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    settings.VAPID_SUBJECT = "mailto:care@example.org"
    return public


class Browser:
    """A browser's side of a subscription: its key pair and auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64(
            self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        )

    def subscribe(self, patient, endpoint: str) -> PushSubscription:
        return PushSubscription.objects.create(
            patient=patient, endpoint=endpoint, p256dh=self.p256dh, auth=b64(self.auth),
            label="Firefox on Linux",
        )  # fmt: skip

    def read(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth))


def test_a_reminder_is_pushed_encrypted_and_signed(alice, clock, push_service, vapid):
    base, received = push_service
    browser = Browser()
    browser.subscribe(alice, f"{base}/ok")
    remind(alice, "09:00")
    assert tick().sent == 1
    assert len(mail.outbox) == 1  # the email as well
    ((path, headers, body),) = received
    assert headers["content-encoding"] == "aes128gcm"
    assert (
        headers["authorization"].startswith("vapid t=") and f"k={vapid}" in headers["authorization"]
    )
    assert int(headers["ttl"]) == 12 * 60 * 60
    assert b"not logged" not in body  # the push service sees no text
    assert browser.read(body) == {
        "title": "LDN Diary",
        "body": "Wednesday 18 November is not logged yet. It takes under a minute.",
        "url": "/diary/?date=2026-11-18",
        "tag": "ldn-daily-2026-11-18",
    }
    reminder = Reminder.objects.get(patient=alice)
    assert (reminder.push_sent, reminder.status) == (1, "sent")


def test_the_dose_step_push_names_no_dose_on_the_lock_screen(alice, clock, push_service, vapid):
    import datetime as dt

    from ldn_diary.diary.services import dose_change_add, plan_set

    base, received = push_service
    browser = Browser()
    browser.subscribe(alice, f"{base}/ok")
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=14), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    remind(alice, "09:00", daily=False)
    tick()
    (payload,) = [browser.read(body) for _, _, body in received]
    assert payload["body"] == "A planned dose step is due today. Tap to open the day’s page."
    assert "Your plan says 3 mg from today" in mail.outbox[0].body


@pytest.mark.parametrize("path", ["/gone", "/missing"])
def test_a_device_the_push_service_calls_gone_is_forgotten(alice, clock, push_service, vapid, path):
    base, _ = push_service
    Browser().subscribe(alice, f"{base}{path}")
    remind(alice, "09:00")
    assert tick().sent == 1
    assert not PushSubscription.objects.filter(patient=alice).exists()
    event = ReminderEvent.objects.filter(patient=alice).first()
    assert (event.kind, event.by_patient) == ("push_gone", False)


def test_a_failing_push_service_is_logged_without_its_address(
    alice, clock, push_service, vapid, caplog
):
    base, _ = push_service
    Browser().subscribe(alice, f"{base}/broken")
    Browser().subscribe(alice, f"{base}/ok")
    remind(alice, "09:00")
    with caplog.at_level(logging.INFO):
        assert tick().sent == 1
    reminder = Reminder.objects.get(patient=alice)
    assert (reminder.status, reminder.push_sent) == ("sent", 1)
    assert PushSubscription.objects.filter(patient=alice).count() == 2  # kept: maybe temporary
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ldn_diary"))
    assert f"patient {alice.pk} failed (HTTP 500)" in ours
    assert base not in ours and "127.0.0.1" not in ours


def test_without_vapid_keys_reminders_go_by_email_only(alice, clock, push_service):
    base, received = push_service
    Browser().subscribe(alice, f"{base}/ok")
    remind(alice, "09:00")
    assert tick().sent == 1
    assert received == [] and len(mail.outbox) == 1


def test_a_patient_with_only_a_device_gets_the_push(alice, clock, push_service, vapid):
    base, received = push_service
    alice.email = ""
    alice.save()
    Browser().subscribe(alice, f"{base}/ok")
    remind(alice, "09:00")
    assert tick().sent == 1
    assert len(received) == 1 and mail.outbox == []


def test_a_patient_with_no_address_and_no_device_gets_nothing_claimed(alice, clock):
    alice.email = ""
    alice.save()
    remind(alice, "09:00")
    assert tick().due == 0 and not Reminder.objects.exists()
