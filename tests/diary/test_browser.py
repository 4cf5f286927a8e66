"""The diary as a patient uses it: Chromium at a phone-sized viewport (375×740).

Screenshots of the entry, history and dose pages are written to test-artifacts/screenshots for a human to look
at; the assertions check what a patient would notice (confirmation, values kept, no sideways
scrolling, a drawn chart).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ldn_diary.diary.services import diary_import, dose_change_add, plan_set

from ..conftest import SHOTS, browser_session
from .conftest import DiaryRowFactory

# tests/conftest.py skips "browser" tests when Chromium is missing (and fails them in CI, where
# LDN_REQUIRE_BROWSER=1 says it must be there), so there is no skip of our own here.
pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium):
    return chromium(375, 740, timeout_ms=10_000)


def log_in(page, live_server, username: str) -> None:
    browser_session(page, live_server.url, username, lands_on="/diary/")


def assert_no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 375px"


def seed_realistic_diary(patient, today: dt.date) -> None:
    """About 12 weeks of a responder: day-to-day noise of SD 1.6 (docs/clinical-rules.md §3, Harris
    et al. 2005),
    pain easing as the dose steps up 1.5 -> 3 -> 4.5 mg, and a few days not logged."""
    rng = random.Random(7)
    rows = []
    for i in range(90):
        day = today - dt.timedelta(days=90 - i)
        if rng.random() < 0.12:
            continue
        progress = i / 90

        def score(level: float) -> int:
            return max(0, min(10, round(level + rng.gauss(0, 1.6))))

        dose = 1500 if i < 30 else 3000 if i < 60 else 4500
        rows.append(
            DiaryRowFactory.build(
                date=day,
                pain=score(7 - 2.5 * progress),
                fatigue=score(7.5 - 2 * progress),
                sleep=score(3.5 + 2 * progress),
                mood=score(4 + 2 * progress),
                dose_ug=dose,
                dreams="vivid" if rng.random() < 0.3 else "normal",
            )
        )
    diary_import(patient=patient, rows=rows, today=today)


def test_a_patient_logs_today_by_tapping_and_sees_it_again(page, live_server, alice):
    dose_change_add(patient=alice, effective_date=alice.local_today(), dose_ug=1500)
    log_in(page, live_server, "alice")
    assert page.locator("h1").inner_text().startswith("Today")
    page.screenshot(path=str(SHOTS / "entry-empty.png"), full_page=True)
    # Count the taps the browser really receives: trusted pointer presses, seen by the document
    # before anything else can stop them (the htmx save does not reload the page, so the
    # counter survives). A label's click on its input is not a press, so it is not counted.
    page.evaluate(
        "window.__taps = 0; document.addEventListener('pointerdown', e => {"
        " if (e.isTrusted) window.__taps += 1; }, true)"
    )
    for field, value in (("pain", 6), ("fatigue", 7), ("sleep", 3), ("mood", 5)):
        page.click(f"label[for=id_{field}_{value}]")
    page.click("label[for=id_dreams_2]")  # Vivid
    page.click("label[for=id_side_effects_0]")  # Vivid dreams
    page.click("button.save")
    confirmation = page.locator(".notice.saved")
    confirmation.wait_for()
    assert page.evaluate("window.__taps") == 7  # 4 scores, dreams, a side effect, save
    assert "pain 6, fatigue 7, sleep 3, mood 5" in confirmation.inner_text()
    # The save button is at the bottom of a long form; the confirmation must scroll into view.
    page.wait_for_function(
        "() => { const r = document.querySelector('.notice.saved').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert_no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "entry-saved.png"), full_page=True)

    page.reload()
    for field, value in (("pain", 6), ("fatigue", 7), ("sleep", 3), ("mood", 5)):
        assert page.is_checked(f"#id_{field}_{value}")
    assert page.is_checked("#id_dreams_2")
    assert page.is_checked("#id_side_effects_0")
    assert page.is_checked("#id_dose_taken_0")  # yes, the default
    assert "Save changes" in page.locator("button.save").inner_text()


def test_history_and_doses_pages_at_phone_width(page, live_server, alice):
    today = alice.local_today()
    seed_realistic_diary(alice, today)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=6000)
    log_in(page, live_server, "alice")

    page.goto(f"{live_server.url}/diary/history/")
    page.wait_for_selector("#history-chart .main-svg")
    assert_no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "history.png"), full_page=True)
    page.locator("#history-chart").screenshot(path=str(SHOTS / "history-chart.png"))

    page.goto(f"{live_server.url}/diary/doses/")
    assert_no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "doses.png"), full_page=True)

    page.goto(f"{live_server.url}/diary/")
    page.screenshot(path=str(SHOTS / "entry-with-step.png"), full_page=True)
    assert "Planned step: 6 mg" in page.locator(".step-due").inner_text()


def test_a_bad_dose_and_a_missing_score_are_explained(page, live_server, alice):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/diary/doses/")
    page.fill("input[name=dose_mg]", "4.5555")
    page.click("text=Add dose change")
    error = page.locator(".field-error").first
    assert "at most 3 decimals" in error.inner_text()
    assert_no_sideways_scroll(page)
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "doses-error.png"))

    page.goto(f"{live_server.url}/diary/")
    for field in ("pain", "fatigue", "sleep"):
        page.click(f"label[for=id_{field}_4]")
    page.click("button.save")
    summary = page.locator(".notice.bad")
    summary.wait_for()
    assert "Choose a number from 0 to 10 for mood." in summary.inner_text()
    assert page.is_checked("#id_pain_4")  # what was tapped is kept
    page.screenshot(path=str(SHOTS / "entry-error.png"))
