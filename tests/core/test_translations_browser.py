"""Spanish in Chromium at phone size: the entry page and a reminder email, which run
about a quarter longer than the English, still fit a 375 px screen without sideways scrolling.

Screenshots go to test-artifacts/screenshots/es-*.png.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ldn_diary.accounts.services import profile_update
from ldn_diary.diary.services import dose_change_add, plan_set
from ldn_diary.reminders.messages import build
from ldn_diary.reminders.models import ReminderKind

from ..conftest import PASSWORD, SHOTS

pytestmark = pytest.mark.browser

# Elements whose right edge passes the viewport, ignoring ones scrolled inside their own box.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 0.5 && getComputedStyle(el).position !== 'fixed';
  })
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ': ' + (el.innerText || '').slice(0, 40))"""


def _spanish(user) -> None:
    profile_update(
        user=user,
        display_name=user.display_name,
        email=user.email,
        time_zone=user.time_zone,
        language="es",
    )


def test_the_spanish_entry_page_fits_a_phone(chromium, live_server, alice):
    today = alice.local_today()
    dose_change_add(patient=alice, effective_date=today - dt.timedelta(days=14), dose_ug=1500)
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    _spanish(alice)
    page = chromium(375, 740)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/diary/")
    assert page.evaluate("document.documentElement.lang") == "es"
    page.get_by_role("button", name="Guardar el día de hoy").wait_for()
    # 1,5 mg: the Spanish decimal comma; the planned step is due today.
    assert "1,5 mg" in page.locator(".dose-strip").inner_text()
    assert "Empecé 3 mg hoy" in page.locator(".step-due").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(OVERFLOWING) == []
    page.screenshot(path=str(SHOTS / "es-entry-375.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "es-entry-375-top.png"))


@pytest.mark.parametrize("kind", [ReminderKind.DAILY, ReminderKind.TITRATION, ReminderKind.STOPPED])
def test_a_spanish_reminder_email_fits_a_phone(chromium, alice, tmp_path, kind):
    _spanish(alice)
    alice.refresh_from_db()
    message = build(patient=alice, kind=kind, date=alice.local_today(), dose_ug=4500)
    path = tmp_path / f"{kind}.html"
    path.write_text(message.html)
    page = chromium(375, 740)
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(OVERFLOWING) == []
    page.screenshot(path=str(SHOTS / f"es-email-{kind}-375.png"), full_page=True)
    if kind == ReminderKind.TITRATION:
        assert page.locator("h1").inner_text() == "Su plan dice 4,5 mg desde hoy"
    elif kind == ReminderKind.DAILY:
        assert page.get_by_role("link", name="Registrar el miércoles 18 de noviembre").is_visible()


def test_signed_out_pages_follow_the_browser_and_the_switcher(chromium, live_server, db):
    page = chromium(375, 740)
    page.context.set_extra_http_headers({"Accept-Language": "es-MX,es;q=0.9"})
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.evaluate("document.documentElement.lang") == "es"
    page.get_by_role("heading", name="Iniciar sesión").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / "es-login-375.png"), full_page=True)
    # The switcher in the footer: English from now on, whatever the browser asks for.
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.evaluate("document.documentElement.lang") == "en-gb"
    page.get_by_role("button", name="Español").wait_for()


def test_the_spanish_history_chart_fits_a_phone(chromium, live_server, alice):
    """The chart's labels are longer in Spanish ("línea base 7,0", "sem 4"); at 375 px every
    panel title and label stays inside the chart."""
    from ldn_diary.diary.models import LifeEventKind, TreatmentCategory
    from ldn_diary.diary.services import life_event_add, treatment_add
    from ldn_diary.trends.services import trends_recompute_patients
    from tests.diary.conftest import seed_days

    today = alice.local_today()
    # 14 baseline days before the first dose, then 70 on LDN: baselines and three windows.
    seed_days(alice, 84, end=today, dose_steps=[(14, 1500), (42, 3000)])
    treatment_add(
        patient=alice,
        name="Pregabalin",
        category=TreatmentCategory.GABAPENTINOID,
        start_date=today - dt.timedelta(days=50),
    )
    life_event_add(patient=alice, date=today - dt.timedelta(days=9), kind=LifeEventKind.FLARE)
    trends_recompute_patients(patient_ids=[alice.pk])
    _spanish(alice)
    page = chromium(375, 740)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/diary/")
    page.goto(f"{live_server.url}/diary/history/")
    chart = page.locator("#history-chart")
    chart.locator(".main-svg").first.wait_for()
    text = chart.inner_text()
    for label in ("Dolor 0–10, menos es mejor", "Ánimo 0–10, más es mejor", "Dosis de LDN, mg"):
        assert label in text, label
    assert "sem 4" in text and "línea base" in text
    assert "1,5" in text and "1.5" not in text  # the dose band's ticks
    for english in ("lower is better", "baseline", "wk 4", "LDN dose"):
        assert english not in text, english
    # Every text of the chart (titles, labels, treatment names) ends inside the chart's box.
    box = chart.bounding_box()
    outside = page.evaluate(
        """(right) => [...document.querySelectorAll('#history-chart text')]
          .filter(t => t.textContent && t.getBoundingClientRect().right > right + 0.5)
          .map(t => t.textContent)""",
        box["x"] + box["width"],
    )
    assert outside == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "es-history-375.png"), full_page=True)
    chart.screenshot(path=str(SHOTS / "es-history-chart-375.png"))
