"""Offline entry in Chromium at phone size (375×740), with the browser context set offline.

What a patient would notice: the entry is "saved on this phone", it is sent when the
connection is back and exactly one entry exists with the values they chose; a change made
elsewhere meanwhile is shown next to theirs, never overwritten; and the entry page opens with
no connection at all. Screenshots go to test-artifacts/screenshots/habit-*.png.
"""

from __future__ import annotations

import pytest

from ldn_diary.diary.models import DiaryEntry
from ldn_diary.diary.services import dose_change_add, entry_save

from ..conftest import PASSWORD, SHOTS

pytestmark = pytest.mark.browser

# Whether the service worker controls the page and keeps the shell: waited for in the page, on
# that condition, with a bound (Playwright's wait_for_function does not await an async
# predicate's promise).
SHELL_KEPT = """async () => {
  await navigator.serviceWorker.ready;
  for (let i = 0; i < 300; i++) {
    if (navigator.serviceWorker.controller) {
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        if (await cache.match('/diary/offline/', {ignoreVary: true})) return true;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}"""


# What Chromium itself logs as errors for requests made while the phone has no connection: a
# failed fetch, and a failed check for a new service worker script (the page registers /sw.js
# on every load, the browser then fetches it, and the app's .catch() cannot keep the browser
# from logging that). Anything else logged as an error is a problem. That the service worker
# itself is served and works is what test_the_entry_page_opens_with_no_connection checks.
OFFLINE_ONLY = (
    "net::ERR_INTERNET_DISCONNECTED",
    "An unknown error occurred when fetching the script.",
)


@pytest.fixture
def phone(chromium):
    page = chromium(375, 740, timeout_ms=15_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and not any(known in m.text for known in OFFLINE_ONLY)
            else None
        ),
    )
    page.problems = problems
    return page


def log_in(page, live_server, username: str = "alice") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/diary/")


def tap_scores(page, pain: int, fatigue: int, sleep: int, mood: int) -> None:
    for field, value in (("pain", pain), ("fatigue", fatigue), ("sleep", sleep), ("mood", mood)):
        page.click(f"label[for=id_{field}_{value}]")


def test_an_entry_saved_offline_is_sent_once_when_back_online(phone, live_server, alice):
    dose_change_add(patient=alice, effective_date=alice.local_today(), dose_ug=1500)
    log_in(phone, live_server)
    phone.context.set_offline(True)
    tap_scores(phone, 6, 7, 3, 5)
    phone.click("label[for=id_dreams_2]")  # Vivid
    phone.fill("#id_note", "Written on the bus")
    phone.click("button.save")
    queued = phone.locator(".offline-queued")
    queued.wait_for()
    assert "Saved on this phone — it will be sent when you are online" in queued.inner_text()
    phone.screenshot(path=str(SHOTS / "habit-offline-saved.png"), full_page=True)
    assert not DiaryEntry.objects.filter(patient=alice).exists()

    phone.context.set_offline(False)
    sent = phone.locator(".offline-sent")
    sent.wait_for()
    assert "pain 6, fatigue 7, sleep 3, mood 5" in sent.inner_text()
    phone.screenshot(path=str(SHOTS / "habit-offline-sent.png"), full_page=True)
    entry = DiaryEntry.objects.get(patient=alice)
    assert (entry.pain, entry.fatigue, entry.sleep, entry.mood) == (6, 7, 3, 5)
    assert (entry.dreams, entry.note, entry.dose_taken) == ("vivid", "Written on the bus", "yes")
    # A reload sends nothing again (the queue is empty), and the page shows the saved day.
    phone.reload()
    assert phone.is_checked("#id_pain_6")
    assert phone.locator(".offline-queued, .offline-sent").count() == 0
    assert DiaryEntry.objects.filter(patient=alice).count() == 1
    # The form, updated in place after the send, saves again without a conflict.
    assert phone.problems == []


def test_the_entry_page_opens_with_no_connection(phone, live_server, alice, instant):
    dose_change_add(patient=alice, effective_date=alice.local_today(), dose_ug=1500)
    # The shell takes "today" from the phone's clock: the phone's clock is the test's too.
    phone.clock.set_fixed_time(instant)
    log_in(phone, live_server)
    assert phone.evaluate(SHELL_KEPT)
    phone.context.set_offline(True)
    phone.goto(f"{live_server.url}/diary/")
    note = phone.locator("#offline-shell-note")
    note.wait_for()
    assert "You are offline" in note.inner_text()
    # The shell names today from the phone's clock, and nothing from the diary is in it.
    assert phone.locator("[data-offline-day]").inner_text() != ""
    assert phone.locator(".dose-strip, #missed-days").count() == 0
    tap_scores(phone, 4, 5, 6, 7)
    phone.click("label[for=id_dreams_1]")  # Normal
    phone.click("button.save")
    phone.locator(".offline-queued").wait_for()
    phone.screenshot(path=str(SHOTS / "habit-offline-shell.png"), full_page=True)

    phone.context.set_offline(False)
    phone.locator(".offline-sent").wait_for()
    entry = DiaryEntry.objects.get(patient=alice)
    assert (entry.date, entry.pain, entry.fatigue, entry.sleep, entry.mood) == (
        alice.local_today(), 4, 5, 6, 7)  # fmt: skip
    assert phone.problems == []


def test_a_change_made_elsewhere_is_shown_beside_the_phones_never_overwritten(
    phone, live_server, alice
):
    log_in(phone, live_server)
    phone.context.set_offline(True)
    tap_scores(phone, 6, 6, 6, 6)
    phone.click("label[for=id_dreams_0]")
    phone.click("button.save")
    phone.locator(".offline-queued").wait_for()
    # Meanwhile the same day is logged on another device.
    import uuid

    entry_save(patient=alice, date=alice.local_today(), pain=2, fatigue=2, sleep=8, mood=8,
               dreams="none", version=None, request_key=uuid.uuid4())  # fmt: skip

    phone.context.set_offline(False)
    conflict = phone.locator(".offline-conflict")
    conflict.wait_for()
    text = conflict.inner_text()
    assert "pain 2, fatigue 2, sleep 8, mood 8" in text  # what the diary has
    assert "pain 6, fatigue 6, sleep 6, mood 6" in text  # what the phone has
    phone.screenshot(path=str(SHOTS / "habit-offline-conflict.png"), full_page=True)
    entry = DiaryEntry.objects.get(patient=alice)
    assert (entry.pain, entry.version) == (2, 1)  # not overwritten

    # The patient chooses the phone's version: then, and only then, it replaces the other.
    conflict.locator("button[data-action=use-local]").click()
    phone.locator(".offline-sent").wait_for()
    entry.refresh_from_db()
    assert (entry.pain, entry.sleep, entry.version) == (6, 6, 2)
    assert DiaryEntry.objects.filter(patient=alice).count() == 1
    assert phone.problems == []


def test_signed_out_meanwhile_the_entry_waits_and_is_sent_after_logging_in(
    phone, live_server, alice
):
    from django.contrib.sessions.models import Session

    log_in(phone, live_server)
    phone.context.set_offline(True)
    tap_scores(phone, 3, 3, 3, 3)
    phone.click("label[for=id_dreams_0]")
    phone.click("button.save")
    phone.locator(".offline-queued").wait_for()
    Session.objects.all().delete()  # the session ran out while the phone was offline

    phone.context.set_offline(False)
    phone.get_by_text("You were signed out").wait_for()
    assert not DiaryEntry.objects.filter(patient=alice).exists()
    log_in(phone, live_server)  # back on the entry page, which sends what waited
    phone.locator(".offline-sent").wait_for()
    assert DiaryEntry.objects.get(patient=alice).pain == 3
