"""Data rights as a patient meets them in Chromium: who viewed their data on the profile, the
downloads, deleting the account; and an error page. Screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from ldn_diary.accounts.models import User
from ldn_diary.diary.models import DiaryEntry
from ldn_diary.diary.services import dose_change_add, entry_save

from ..conftest import PASSWORD, SHOTS, browser_session

pytestmark = pytest.mark.browser


def log_in(page, live_server, username: str) -> None:
    browser_session(page, live_server.url, username)


def assert_no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width", [375, 1280])
def test_a_patient_sees_who_viewed_their_data_then_deletes_the_account(
    chromium, live_server, alice, carol, width
):
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=3), dose_ug=1500)
    for n in range(3):
        entry_save(
            patient=alice, date=today - dt.timedelta(days=n), pain=6, fatigue=5, sleep=4,
            mood=5, dreams="none", dose_taken="yes", note="a private note",
            version=None, request_key=None,
        )  # fmt: skip
    clinician = Client()
    clinician.force_login(carol)
    clinician.get(reverse("clinic:patient", args=[alice.uuid]))
    clinician.get(reverse("clinic:brief", args=[alice.uuid]))

    page = chromium(width, 900)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/profile/#access")
    access = page.locator("#access")
    assert "Dr Carol" in access.inner_text()
    assert "opened your pre-visit brief" in access.inner_text()
    assert_no_sideways_scroll(page)
    access.screenshot(path=str(SHOTS / f"rights-who-viewed-{width}.png"))
    page.locator("#your-data").screenshot(path=str(SHOTS / f"rights-your-data-{width}.png"))

    with page.expect_download() as download:
        page.click("text=Your health record as a FHIR R4 file (JSON)")
    assert download.value.suggested_filename.startswith("ldn-diary-fhir-")

    page.click("text=Delete my account…")
    page.wait_for_url(f"{live_server.url}/accounts/profile/delete/")
    page.fill("input[name=password]", "not my password")
    page.check("input[name=confirm]")
    page.click("button.danger")
    # The refusal is a new page: wait for it (page.content() mid-navigation is empty).
    page.get_by_text("That is not your password. Nothing was deleted.").wait_for()
    page.screenshot(path=str(SHOTS / f"rights-delete-refused-{width}.png"), full_page=True)
    assert User.objects.filter(username="alice").exists()

    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=confirm]")
    page.click("button.danger")
    page.wait_for_url(f"{live_server.url}/")
    assert "Your account and your diary have been deleted." in page.content()
    page.screenshot(path=str(SHOTS / f"rights-deleted-{width}.png"), full_page=True)
    assert not User.objects.filter(username="alice").exists()
    assert not DiaryEntry.objects.exists()


def test_a_missing_page_is_the_sites_own_404(chromium, live_server, alice):
    page = chromium(375, 740)
    log_in(page, live_server, "alice")
    response = page.goto(f"{live_server.url}/clinic/p/00000000-0000-0000-0000-000000000000/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("nav >> text=Today").is_visible()
    assert_no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "error-404.png"), full_page=True)
