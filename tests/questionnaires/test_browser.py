"""Questionnaires and treatment context in a real Chromium: a patient on a phone (375×740)
answers the FIQR over several sittings from the entry page's card and records other treatments;
her clinician then sees the scores, the markers on the drawn charts and the opioid flag, and the
brief still prints on one page.

Screenshots go to test-artifacts/screenshots/questionnaire-*.png for a human to look at.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ldn_diary.diary.services import life_event_add
from ldn_diary.questionnaires.services import questionnaire_finish, questionnaire_save
from tests.clinic.conftest import days_ago, recompute, write_diary
from tests.clinic.test_browser import pdf_pages

from ..conftest import SHOTS, browser_session

# tests/conftest.py skips "browser" tests when Chromium is missing (and fails them in CI).
pytestmark = pytest.mark.browser

# The week-4 answers she gives on the phone: function, overall, symptoms.
PART_1 = (3, 5, 4, 6, 5, 4, 5, 3, 4)  # sum 39: 13.0
PART_2 = (5, 4)  # 9.0
PART_3 = (5, 6, 5, 5, 3, 5, 4, 5, 3, 4)  # sum 45: 22.5; total 44.5
BASELINE = {str(n): 6 for n in range(1, 22)}  # total 60: week 4 is 25.8 % lower, the MCID


def log_in(page, live_server, username: str, lands: str) -> None:
    browser_session(page, live_server.url, username, lands_on=lands)


def no_sideways_scroll(page) -> None:
    # Measured once the page and its stylesheets have loaded (a page still loading lays out
    # without them).
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def answer(page, first: int, values) -> None:
    for number, value in enumerate(values, start=first):
        page.click(f"label[for=id_item_{number}_{value}]")


@pytest.fixture
def alice_at_week_4(alice, carol, clock):
    """Alice, linked to Carol: 6 weeks of diary, her first dose 28 days ago (week 4 is open),
    her baseline FIQR finished two days before it."""
    today = alice.local_today()
    start = days_ago(today, 28)
    write_diary(alice, start=start, first=-14, last=28, pain=lambda n: 7 if n < 10 else 5)
    clock.move_to(dt.datetime.combine(start - dt.timedelta(days=2), dt.time(12), dt.UTC))
    questionnaire_save(patient=alice, instrument="fiqr", week=0, answers=BASELINE)
    questionnaire_finish(patient=alice, instrument="fiqr", week=0)
    clock.move_to(dt.datetime.combine(today, dt.time(10), dt.UTC))
    life_event_add(patient=alice, date=days_ago(today, 12), kind="flare", text="after a long drive")
    recompute(alice)
    return alice


def test_a_patient_answers_the_fiqr_in_parts_and_her_clinician_sees_it(
    chromium, live_server, alice_at_week_4, carol
):
    page = chromium(375, 740)
    # Hold the cards' request, to see that the score buttons do not move when they arrive.
    held = []
    page.route("**/questionnaires/due/", lambda route: held.append(route))
    with page.expect_request("**/questionnaires/due/"):
        log_in(page, live_server, "alice", "/diary/")
    score_top = page.evaluate(
        "document.querySelector('label[for=id_pain_0]').getBoundingClientRect().top"
    )
    assert page.locator(".q-card").count() == 0
    held[0].continue_()
    page.unroute("**/questionnaires/due/")
    page.wait_for_selector("#q-fiqr-4")
    moved = page.evaluate(
        "document.querySelector('label[for=id_pain_0]').getBoundingClientRect().top"
    )
    assert moved == score_top, "the cards moved the score buttons"
    cards_top = page.evaluate(
        "document.getElementById('due-questionnaires').getBoundingClientRect().top"
    )
    save_bottom = page.evaluate(
        "document.querySelector('.save-bar').getBoundingClientRect().bottom"
    )
    assert cards_top >= save_bottom
    assert {"q-fiqr-4", "q-acr2016-4", "q-pgic-4"} <= set(
        page.eval_on_selector_all(".q-card", "els => els.map(e => e.id)")
    )
    page.locator("#due-questionnaires").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "questionnaire-cards.png"), full_page=True)

    # "Not now" on the ACR card: gone at once (htmx), the others stay.
    page.click("#q-acr2016-4 button.link")
    page.wait_for_selector("#q-acr2016-4", state="detached")
    assert page.locator("#q-fiqr-4").is_visible()

    # Sitting 1: five of the daily tasks, then "finish later".
    page.click("#q-fiqr-4 a.button")
    page.wait_for_url("**/questionnaires/fiqr/week-4/")
    assert "Part 1 of 3: Daily tasks" in page.locator("h2").first.inner_text()
    answer(page, 1, PART_1[:5])
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "questionnaire-fiqr-part1.png"), full_page=True)
    page.click("button[value=later]")
    page.wait_for_url(f"{live_server.url}/diary/")
    assert "Saved: 5 of 21 answered." in page.locator(".messages").inner_text()
    page.wait_for_selector("#q-fiqr-4")
    assert "5 of 21 answered" in page.locator("#q-fiqr-4").inner_text()

    # She leaves, and comes back later: "Continue" opens part 1 with her answers kept.
    page.goto(f"{live_server.url}/diary/history/")
    page.goto(f"{live_server.url}/diary/")
    page.wait_for_selector("#q-fiqr-4 a.button")
    assert page.locator("#q-fiqr-4 a.button").inner_text().startswith("Continue")
    page.click("#q-fiqr-4 a.button")
    for number, value in enumerate(PART_1[:5], start=1):
        assert page.is_checked(f"#id_item_{number}_{value}")
    answer(page, 6, PART_1[5:])
    page.click("button[value=next]")
    page.wait_for_url("**part=2")
    answer(page, 10, PART_2)
    page.click("button[value=next]")
    page.wait_for_url("**part=3")
    answer(page, 12, PART_3)
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "questionnaire-fiqr-part3.png"), full_page=True)
    page.click("button[value=finish]")
    page.wait_for_url(f"{live_server.url}/diary/")
    assert "your week 4 FIQR is finished" in page.locator(".messages").inner_text()
    page.wait_for_selector("#q-pgic-4")
    assert page.locator("#q-fiqr-4").count() == 0
    page.screenshot(path=str(SHOTS / "questionnaire-done.png"), full_page=True)

    # Other treatments on the phone: pregabalin, then tramadol, which warns at once.
    page.goto(f"{live_server.url}/diary/doses/")
    page.click("text=Other treatments, flares and life events")
    page.fill("input[name=name]", "Pregabalin 75 mg")
    page.select_option("select[name=category]", "gabapentinoid")
    page.fill("input[name=start_date]", days_ago(alice_at_week_4.local_today(), 8).isoformat())
    page.click("text=Add treatment")
    page.wait_for_selector("text=Recorded Pregabalin 75 mg")
    page.fill("input[name=name]", "Tramadol")
    page.select_option("select[name=category]", "opioid")
    page.click("text=Add treatment")
    warning = page.locator(".opioid-warning")
    warning.wait_for()
    assert "LDN can trigger withdrawal with opioids" in warning.inner_text()
    assert "Speak to the prescriber before the next dose." in warning.inner_text()
    no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "questionnaire-treatments.png"), full_page=True)
    page.goto(f"{live_server.url}/diary/")
    assert page.locator(".opioid-warning").is_visible()

    # The patient's own chart shows them above her scores.
    page.goto(f"{live_server.url}/diary/history/")
    page.wait_for_selector("#history-chart .main-svg")
    svg = page.locator("#history-chart").inner_html()
    assert "Pregabalin 75 mg" in svg and "Tramadol" in svg
    page.locator("#history-chart").screenshot(path=str(SHOTS / "questionnaire-history-chart.png"))

    # Her clinician, on a desktop.
    desk = chromium(1280, 900)
    log_in(desk, live_server, "carol", "/clinic/")
    assert "Opioid + LDN" in desk.locator("table.roster").inner_text()
    desk.goto(f"{live_server.url}/clinic/p/{alice_at_week_4.uuid}/")
    desk.wait_for_selector("#timeline[data-rendered=true]")
    svg = desk.locator("#timeline").inner_html()
    assert "Pregabalin 75 mg" in svg and "Tramadol" in svg
    assert "Other treatments" in svg and "Flare" in svg  # legend entries
    scores = desk.locator("#questionnaires").inner_text()
    assert "60.0" in scores and "44.5" in scores and "25 % lower" in scores and "MCID met" in scores
    assert "Opioid + LDN" in desk.locator(".headline").inner_text()
    desk.screenshot(path=str(SHOTS / "questionnaire-dashboard.png"), full_page=True)
    desk.locator("#timeline").screenshot(path=str(SHOTS / "questionnaire-dashboard-chart.png"))

    # The same dashboard on a clinician's phone: the chart's narrow layout, no sideways scroll.
    phone = chromium(375, 740)
    log_in(phone, live_server, "carol", "/clinic/")
    phone.goto(f"{live_server.url}/clinic/p/{alice_at_week_4.uuid}/")
    phone.wait_for_selector("#timeline[data-rendered=true]")
    no_sideways_scroll(phone)
    phone.locator("#timeline").screenshot(path=str(SHOTS / "questionnaire-dashboard-phone.png"))
    phone.locator("#questionnaires").screenshot(
        path=str(SHOTS / "questionnaire-dashboard-phone-scores.png")
    )

    desk.goto(f"{live_server.url}/clinic/p/{alice_at_week_4.uuid}/brief/")
    desk.wait_for_selector("#brief-chart[data-rendered=true]")
    svg = desk.locator("#brief-chart").inner_html()
    assert "Pregabalin 75 mg" in svg and "Tramadol" in svg
    brief = desk.locator("article.brief").inner_text()
    assert "wk 4 44.5 −25 % MCID" in brief and "Flares " in brief
    desk.screenshot(path=str(SHOTS / "questionnaire-brief.png"), full_page=True)
    desk.locator("#brief-chart").screenshot(path=str(SHOTS / "questionnaire-brief-chart.png"))
    desk.emulate_media(media="print")
    for paper in ("A4", "Letter"):
        pdf = desk.pdf(format=paper, print_background=True)
        (SHOTS / f"questionnaire-brief-{paper}.pdf").write_bytes(pdf)
        assert pdf_pages(pdf) == 1, f"{paper}: {pdf_pages(pdf)} pages"
