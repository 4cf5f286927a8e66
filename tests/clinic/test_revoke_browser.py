"""End to end in Chromium: Alice withdraws Dr Carol's access from her profile, and Carol's very
next request for Alice's dashboard or brief is refused, in the window she already had open.
As it happens in practice: Alice on her phone (375×740), Carol at her desk (1280×900); every
page of both at both sizes is walked in tests/core/test_axe.py. Screenshots of each step go to
test-artifacts/screenshots/revoke-*.jpg.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ldn_diary.accounts.models import AuditAction, AuditEvent
from ldn_diary.clinic.models import CareLink

from .._screens import shot
from ..conftest import browser_log_in
from .conftest import recompute, write_diary

pytestmark = pytest.mark.browser


def log_in(page, base: str, username: str) -> None:
    browser_log_in(page, base, username)


def test_a_patient_withdraws_access_and_the_clinicians_next_request_is_refused(
    chromium, live_server, alice, carol
):
    write_diary(alice, start=alice.local_today() - dt.timedelta(days=30), last=30)
    recompute(alice)
    base = live_server.url
    dashboard = f"{base}{reverse('clinic:patient', args=[alice.uuid])}"
    brief = f"{base}{reverse('clinic:brief', args=[alice.uuid])}"

    # Carol has Alice's dashboard open, chart drawn.
    clinician = chromium(1280, 900)
    log_in(clinician, base, "carol")
    clinician.goto(dashboard)
    clinician.wait_for_selector("#timeline .main-svg")
    assert "Alice" in clinician.inner_text("h1")
    shot(clinician, "revoke-1-clinician-dashboard-1280")

    # Alice withdraws it on her profile.
    patient = chromium(375, 740)
    log_in(patient, base, "alice")
    patient.goto(f"{base}{reverse('accounts:profile')}#sharing")
    sharing = patient.locator("#sharing")
    assert "Dr Carol" in sharing.inner_text()
    shot(patient, "revoke-2-patient-sharing-375")
    patient.click("#sharing button:has-text('Withdraw access')")
    patient.wait_for_selector(".messages")
    status = patient.locator(".messages[role=status]").inner_text()
    assert "Dr Carol can no longer see your diary" in status
    assert "Nobody. Your diary is private to you." in patient.inner_text("#sharing")
    shot(patient, "revoke-3-patient-withdrawn-375")
    link = CareLink.objects.get(patient=alice, clinician=carol)
    assert link.revoked_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.LINK_REVOKE).count() == 1

    # Carol's next request, in the window she had open: refused, with nothing of Alice's in it.
    for url in (dashboard, brief):
        response = clinician.goto(url)
        assert response is not None and response.status == 404, url
        body = clinician.inner_text("body")
        assert "Alice" not in body and "alice" not in body
    shot(clinician, "revoke-4-clinician-refused-1280")
    # Her roster no longer lists Alice.
    clinician.goto(f"{base}{reverse('clinic:roster')}")
    assert "Alice" not in clinician.inner_text("main")
    shot(clinician, "revoke-5-clinician-roster-1280")
