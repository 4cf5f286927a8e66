"""Reminders as a patient sees them, in Chromium: the reminder email rendered as HTML, the
settings page at phone size, and a push message shown by the service worker.

Screenshots go to test-artifacts/screenshots/habit-*.png.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail

from ldn_diary.diary.services import dose_change_add, plan_set
from ldn_diary.reminders.messages import build

from ..conftest import SHOTS, browser_session
from .conftest import remind, tick

pytestmark = pytest.mark.browser


def log_in(page, live_server, username: str = "alice") -> None:
    browser_session(page, live_server.url, username, lands_on="/diary/")


def test_the_reminder_emails_read_well_on_a_phone(chromium, alice, clock, tmp_path):
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=14), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    remind(alice, "10:30")
    clock.move_to(dt.datetime(2026, 11, 18, 10, 31, tzinfo=dt.UTC))
    assert tick().sent == 2
    page = chromium(375, 740)
    for message in mail.outbox:
        html = message.alternatives[0][0]
        kind = "titration" if "dose step" in message.subject else "daily"
        path = tmp_path / f"{kind}.html"
        path.write_text(html)
        page.goto(path.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(SHOTS / f"habit-email-{kind}.png"), full_page=True)
        if kind == "titration":
            assert "Your plan says 3 mg from today" in page.locator("h1").inner_text()
        else:
            assert page.get_by_role("link", name="Log Wednesday 18 November").is_visible()


def test_the_settings_page_at_phone_width(chromium, live_server, alice, settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BPublicKeyForShow", "x"
    remind(alice, "20:00")
    page = chromium(375, 740)
    log_in(page, live_server)
    page.goto(f"{live_server.url}/reminders/")
    assert page.input_value("#id_remind_at") == "20:00"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / "habit-reminder-settings.png"), full_page=True)
    page.fill("#id_remind_at", "21:15")
    page.click("button.primary")
    page.get_by_text("Reminders saved: at 21:15 each day.").wait_for()


def test_the_service_worker_shows_a_pushed_reminder(chromium, live_server, alice):
    page = chromium(375, 740)
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    log_in(page, live_server)
    # The worker activated, not only active: ``ready`` resolves as it starts activating, and a
    # push delivered before its activate handler has finished can be lost. Waited for in the
    # page, with a bound: wait_for_function takes an async predicate's promise as true at once
    # (so the wait this replaces never waited, and the test failed about once in ten runs).
    state = page.evaluate(
        """async () => {
          const worker = (await navigator.serviceWorker.ready).active;
          for (let i = 0; i < 300 && worker.state !== "activated"; i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return worker.state;
        }"""
    )
    assert state == "activated"
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))  # fmt: skip
    cdp.send("ServiceWorker.enable")
    # The registrations arrive as events, dispatched while Playwright talks to the browser.
    for _ in range(200):
        if any(not r["isDeleted"] for r in registrations):
            break
        page.evaluate("1")
    live = [r for r in registrations if not r["isDeleted"]]
    assert live, registrations
    # The payload the server would encrypt for this browser (reminders.messages.build).
    payload = build(patient=alice, kind="daily", date=alice.local_today(), dose_ug=None).push
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": live[0]["registrationId"],
         "data": json.dumps(payload)},
    )  # fmt: skip
    # As above, the wait for the notification happens in the page, with a bound.
    shown = page.evaluate(
        """async () => {
          const registration = await navigator.serviceWorker.ready;
          for (let i = 0; i < 300; i++) {
            const list = await registration.getNotifications();
            if (list.length) return {title: list[0].title, body: list[0].body,
                                     url: list[0].data.url, tag: list[0].tag};
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return null;
        }"""
    )
    assert shown == {
        "title": "LDN Diary",
        "body": "Wednesday 18 November is not logged yet. It takes under a minute.",
        "url": "/diary/?date=2026-11-18",
        "tag": "ldn-daily-2026-11-18",
    }
