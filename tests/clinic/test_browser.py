"""The clinic in a real Chromium: the brief prints on exactly one A4 and one Letter page, and the
roster sorts and filters through htmx without reloading the page.

PDFs and screenshots go to test-artifacts/screenshots for a human to look at.
"""

from __future__ import annotations

import re

import pytest

from ldn_diary.clinic.services import followup_set, note_add
from ldn_diary.diary.services import plan_set

from ..conftest import SHOTS, browser_session
from .conftest import days_ago, linked_patient, recompute, write_diary

# tests/conftest.py skips "browser" tests when Chromium is missing (and fails them in CI).
pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium):
    return chromium(1280, 900)


def log_in(page, live_server, username: str) -> None:
    browser_session(page, live_server.url, username, lands_on="/clinic/")


def pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF (/Type /Page, not the /Type /Pages tree node)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def busy_patient(carol, today, clock=None):
    """The tallest brief we expect: six dose phases (four shown), side effects of every kind,
    data-quality caveats (short baseline, a thin window, silence), a long note; and, with the
    ``clock``, every questionnaire finished on schedule, five other treatments (an opioid among
    them), flares and life events."""
    patient = linked_patient(carol, "brenda", "Brenda Longname-Example")
    steps = (500, 1000, 1500, 3000, 4500, 6000)
    write_diary(
        patient,
        start=days_ago(today, 100),
        last=91,
        pain=lambda n: 7 - min(max(n, 0) // 20, 3) + n % 2,
        dose_ug=lambda n: steps[min(n // 15, 5)],
        dreams=lambda n: ("vivid", "normal", "nightmares", "none")[n % 4],
        side_effects=lambda n: (
            ("vivid_dreams", "insomnia", "headache", "nausea", "anxiety", "other")[n % 6],
        ),
        dose_taken=lambda n: ("yes", "yes", "partly", "no")[n % 4],
        skip=lambda n: (-14 <= n < -6) or (60 <= n < 66),
    )
    plan_set(patient=patient, start_ug=500, step_ug=1500, interval_days=14, target_ug=9000)
    note_add(clinician=carol, patient=patient, text="Discussed sleep hygiene and timing. " * 20)
    followup_set(clinician=carol, patient=patient, due_on=today)
    if clock is not None:
        start = days_ago(today, 100)
        _context(patient, start, today, clock)
    recompute(patient)
    return patient


def _context(patient, start, today, clock) -> None:
    """Every questionnaire of weeks 0-12, finished in its window; treatments and events."""
    import datetime as dt

    from ldn_diary.diary.services import life_event_add, treatment_add
    from ldn_diary.questionnaires.services import questionnaire_finish, questionnaire_save

    acr = {
        "painful_areas": ["neck", "left_hip", "right_hip", "left_upper_arm", "right_upper_arm",
                          "lower_back", "upper_back", "left_jaw", "chest"],
        "symptoms_3_months": True, "fatigue": 2, "waking_unrefreshed": 3, "cognitive": 2,
        "headaches": True, "lower_abdominal": False, "depression": True,
    }  # fmt: skip
    for week, level in ((0, 7), (4, 6), (8, 5), (12, 4)):
        day = start + dt.timedelta(days=7 * week - (2 if week == 0 else -2))
        clock.move_to(dt.datetime.combine(day, dt.time(12), dt.UTC))
        answers = {"fiqr": {str(n): level for n in range(1, 22)}, "acr2016": acr}
        if week:
            answers["pgic"] = {"answer": 5 - week // 4}
        for instrument, given in answers.items():
            questionnaire_save(patient=patient, instrument=instrument, week=week, answers=given)
            questionnaire_finish(patient=patient, instrument=instrument, week=week)
    clock.move_to(dt.datetime.combine(today, dt.time(10), dt.UTC))
    for name, category, began, ended in (
        ("Pregabalin 75 mg twice daily", "gabapentinoid", 40, None),
        ("Physiotherapy (hydrotherapy pool)", "physical_therapy", 10, 60),
        ("Vitamin D 1000 IU", "supplement", -300, None),
        ("Amitriptyline 10 mg at night", "antidepressant", -700, -20),
        ("Tramadol 50 mg", "opioid", 95, None),
    ):
        treatment_add(
            patient=patient,
            name=name,
            category=category,
            start_date=start + dt.timedelta(days=began),
            stop_date=None if ended is None else start + dt.timedelta(days=ended),
        )
    for n in (12, 33, 57, 81):
        life_event_add(patient=patient, date=start + dt.timedelta(days=n), kind="flare")
    life_event_add(
        patient=patient,
        date=start + dt.timedelta(days=47),
        kind="life_event",
        text="Moved house, a stressful fortnight with little sleep",
    )


def test_the_brief_prints_on_exactly_one_a4_and_one_letter_page(page, live_server, carol, clock):
    today = carol.local_today()
    patient = busy_patient(carol, today, clock)
    log_in(page, live_server, "carol")
    page.goto(f"{live_server.url}/clinic/p/{patient.uuid}/brief/")
    # The chart is drawn by plotly.js in the browser; print only once it has rendered.
    page.wait_for_selector("#brief-chart[data-rendered=true]")
    assert page.locator("#brief-chart .main-svg").count() >= 1
    page.emulate_media(media="print")
    page.locator("article.brief").screenshot(path=str(SHOTS / "clinic-brief-test-print.png"))
    # Headroom: the printed brief stays well inside the 10.2 in Letter box (96 px per inch), so
    # a longer name or one more caveat line does not spill onto a second page.
    height = page.evaluate("document.querySelector('article.brief').getBoundingClientRect().height")
    assert height < 9.8 * 96, f"brief is {height / 96:.2f} in tall"
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        (SHOTS / f"clinic-brief-test-{paper}.pdf").write_bytes(pdf)
        assert pdf_pages(pdf) == 1, f"{paper}: {pdf_pages(pdf)} pages"
    # The page header, navigation and buttons are not printed.
    assert not page.locator("header.site").is_visible()
    assert not page.locator("[data-print]").is_visible()


def test_the_roster_sorts_and_filters_without_reloading(page, live_server, carol):
    today = carol.local_today()
    for name, pain in (("Xena", 8), ("Yves", 3)):
        p = linked_patient(carol, name.lower(), name)
        write_diary(p, start=days_ago(today, 30), last=30, pain=lambda n, v=pain: 6 if n < 0 else v)
        recompute(p)
    log_in(page, live_server, "carol")
    # A marker on window survives htmx swaps but not a page load.
    page.evaluate("window.__noReload = true")
    page.click("th a.sort:has-text('Pain change')")
    page.wait_for_url(re.compile(r"sort=pain"))
    rows = page.locator("table.roster tbody th a:first-child").all_inner_texts()
    assert rows.index("Xena") < rows.index("Yves")  # worst change first
    page.select_option("#roster-flag", "worsening")
    page.wait_for_url(re.compile(r"flag=worsening"))
    # A function, not an expression: Playwright evaluates a bare expression with eval(), which
    # the page's Content-Security-Policy refuses.
    page.wait_for_function("() => document.querySelectorAll('table.roster tbody tr').length === 1")
    assert page.locator("table.roster tbody").inner_text().count("Xena") == 1
    # Links inside the table keep the form in step (its selects come back out of band).
    page.click("a.clear")
    page.wait_for_function("() => document.querySelectorAll('table.roster tbody tr').length === 3")
    assert page.input_value("#roster-flag") == ""
    page.click("a.chip-link:has-text('Worsening')")
    page.wait_for_function("() => document.querySelectorAll('table.roster tbody tr').length === 1")
    assert page.input_value("#roster-flag") == "worsening"
    assert page.evaluate("window.__noReload") is True
    page.screenshot(path=str(SHOTS / "clinic-roster-test-filtered.png"), full_page=True)


def test_the_dashboard_chart_draws_each_point_where_the_diary_says(page, live_server, carol, alice):
    """What plotly.js actually drew (its calcdata), against the diary: guards the compact
    encodings in charts.py (x0/dx for daily series, one row per strip trace)."""
    today = carol.local_today()
    write_diary(
        alice,
        start=days_ago(today, 40),
        last=40,
        pain=lambda n: 3 + n % 5,
        side_effects=lambda n: ("headache",) if n % 3 == 0 else (),
        dreams=lambda n: "vivid" if n % 4 == 0 else "none",
        skip=lambda n: n % 7 == 3,
    )
    recompute(alice)
    log_in(page, live_server, "carol")
    page.goto(f"{live_server.url}/clinic/p/{alice.uuid}/")
    page.wait_for_selector("#timeline[data-rendered=true]")
    drawn = page.evaluate(
        """() => {
          const gd = document.getElementById('timeline');
          const out = {};
          gd._fullData.forEach((t, i) => {
            // Missing points are plotly's BADNUM (undefined): keep only drawn ones.
            out[t.name] = gd.calcdata[i].filter(c => Number.isFinite(c.x) && Number.isFinite(c.y))
              .map(c => [c.x, c.y]);
          });
          const ax = gd._fullLayout.yaxis3;
          out._rows = Object.fromEntries(ax.ticktext.map((t, i) => [t, ax.tickvals[i]]));
          return out;
        }"""
    )
    expected = [(n, 3 + n % 5) for n in range(-14, 41) if n % 7 != 3]
    assert [tuple(p) for p in drawn["Pain (daily)"]] == expected
    headache = drawn["Headache"]
    assert [x for x, _ in headache] == [n for n in range(-14, 41) if n % 3 == 0 and n % 7 != 3]
    assert {y for _, y in headache} == {drawn["_rows"]["Headache"]}
    assert {y for _, y in drawn["Dreams: vivid"]} == {drawn["_rows"]["Dreams"]}
    page.screenshot(path=str(SHOTS / "clinic-dashboard-test.png"), full_page=True)
