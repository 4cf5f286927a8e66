"""End to end in Chromium: a patient links a clinician, who finds them on the roster,
reads the dashboard's drawn chart, keeps a note and a follow-up date, and prints the brief.

Every step leaves a screenshot in test-artifacts/screenshots (``shot``), at the phone and the
desktop size where the page differs.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests._screens import SCREENSHOTS, shot
from tests.clinic.conftest import days_ago, recompute, write_diary
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PHONE = (375, 740)
DESKTOP = (1280, 900)


def shot_path(name: str):
    return SCREENSHOTS / f"{name}.png"


def log_in(page, live_server, username: str) -> None:
    browser_log_in(page, live_server.url, username)


def pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF (/Type /Page, not the /Type /Pages tree node); pypdf is not locked."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def drawn_paths(page, selector: str) -> int:
    """Plotly's rendered SVG paths with geometry: the lines and points actually drawn."""
    page.wait_for_selector(f"{selector}[data-rendered=true]")
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel + ' .scatterlayer path')]
                 .filter(p => (p.getAttribute('d') || '').length > 10).length""",
        selector,
    )


def test_a_patient_links_a_clinician_who_reads_notes_and_prints(chromium, live_server, alice, dave):
    today = alice.local_today()
    write_diary(
        alice,
        start=days_ago(today, 45),
        last=45,
        pain=lambda n: 7 if n < 14 else 4 + n % 2,
        dose_ug=lambda n: 1500 if n < 21 else 3000,
        dreams=lambda n: ("none", "normal", "vivid", "nightmares")[n % 4],
        side_effects=lambda n: ("headache",) if n % 9 == 0 else (),
    )
    recompute(alice)

    # The patient creates a one-time code on their profile, on a phone.
    patient = chromium(*PHONE)
    log_in(patient, live_server, "alice")
    patient.goto(f"{live_server.url}/accounts/profile/#sharing")
    patient.click("text=Create a code for my clinician")
    message = patient.locator("text=/Your code is/").first.inner_text()
    code = re.search(r"Your code is ([A-Z0-9]{4}-[A-Z0-9]{4})", message).group(1)
    shot(patient, "clinician-01-patient-creates-code-375")

    # The clinician enters it and lands on the patient's dashboard.
    desk = chromium(*DESKTOP)
    log_in(desk, live_server, "dave")
    desk.goto(f"{live_server.url}/clinic/link/")
    desk.fill("input[name=code]", code)
    desk.click("main button[type=submit]")
    desk.wait_for_url(re.compile(r"/clinic/p/"))

    # The roster finds her by name.
    desk.goto(f"{live_server.url}/clinic/")
    # The search swaps the table in 300 ms after typing: wait for that answer and the swap, or
    # the click below can land on the old table just as htmx replaces it.
    with desk.expect_response(lambda response: "q=ali" in response.url):
        desk.fill("#roster-q", "ali")
    desk.wait_for_url(re.compile(r"q=ali"))
    desk.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    desk.wait_for_selector("table.roster tbody tr >> text=Alice")
    shot(desk, "clinician-02-roster-search-1280")
    desk.click("table.roster tbody th a >> text=Alice")
    desk.wait_for_url(re.compile(r"/clinic/p/[0-9a-f-]+/$"))

    # The chart is drawn: rendered SVG paths, not only the embedded JSON.
    assert drawn_paths(desk, "#timeline") >= 8
    texts = desk.locator("#timeline").inner_text()
    assert "wk 4" in texts and "baseline" in texts
    shot(desk, "clinician-03-dashboard-1280")
    desk.locator("section.chart-card").screenshot(path=str(shot_path("clinician-03-chart-1280")))

    # A note and a follow-up date, kept over a reload.
    due = today + dt.timedelta(days=28)
    desk.fill("textarea[name=text]", "Week 6: sleeping better; keep 3 mg.")
    desk.click("#notes button[type=submit]")
    desk.wait_for_selector("#notes >> text=Week 6: sleeping better")
    desk.fill("input[name=due_on]", due.isoformat())
    desk.click("text=Save date")
    desk.wait_for_load_state()
    desk.reload()
    assert desk.locator("#notes >> text=Week 6: sleeping better").is_visible()
    assert desk.input_value("input[name=due_on]") == due.isoformat()
    # Saving again keeps the date (it used to come back as 20/12/2026 and be wiped).
    desk.click("text=Save date")
    desk.wait_for_load_state()
    assert desk.input_value("input[name=due_on]") == due.isoformat()
    shot(desk, "clinician-04-note-and-follow-up-1280")

    # The brief prints on one page.
    dashboard = f"{live_server.url}/clinic/p/{alice.uuid}/"
    desk.goto(dashboard + "brief/")
    assert drawn_paths(desk, "#brief-chart") >= 2
    shot(desk, "clinician-05-brief-1280")
    desk.emulate_media(media="print")
    pdf = desk.pdf(format="A4", print_background=True)
    assert pdf_pages(pdf) == 1

    # The same pages on a phone.
    phone = chromium(*PHONE)
    log_in(phone, live_server, "dave")
    # The roster sorts on a phone by its visible select; the column headers (and their sort
    # links) are gone, out of the tab order too.
    phone.goto(f"{live_server.url}/clinic/")
    assert not phone.locator("table.roster thead").is_visible()
    assert (
        phone.evaluate("getComputedStyle(document.querySelector('table.roster thead')).display")
        == "none"
    )
    phone.select_option("#roster-sort", "name")
    phone.wait_for_url(re.compile(r"sort=name"))
    assert phone.locator("#roster-sort").input_value() == "name"
    shot(phone, "clinician-06-roster-375")
    phone.goto(dashboard)
    assert drawn_paths(phone, "#timeline") >= 8
    # No toolbar over the title on a phone.
    assert phone.locator("#timeline .modebar").count() == 0
    shot(phone, "clinician-07-dashboard-375")
    phone.locator("section.chart-card").screenshot(path=str(shot_path("clinician-07-chart-375")))
    phone.goto(dashboard + "brief/")
    phone.wait_for_selector("#brief-chart[data-rendered=true]")
    shot(phone, "clinician-08-brief-375")
