"""What the clinician sees beside the diary: the red "opioid + LDN" flag (from both directions),
other treatments and events on the dashboard, the brief and both charts, and the finished
questionnaires with the FIQR's MCID."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ldn_diary.clinic import presentation, rules
from ldn_diary.diary.services import (
    dose_change_add,
    life_event_add,
    treatment_add,
    treatment_edit,
)
from ldn_diary.questionnaires.services import questionnaire_finish, questionnaire_save
from ldn_diary.trends.charts import EventMark, TreatmentMark, context_lane

from .conftest import days_ago, linked_patient, recompute, write_diary

FLAG = "Opioid + LDN"


def roster_flags(carol) -> dict[str, set[str]]:
    return {r.name: r.flag_codes for r in presentation.roster(carol).rows}


# --- The opioid + LDN flag ------------------------------------------------------------------------


def test_an_opioid_recorded_while_on_ldn_flags_the_patient(carol, alice, today):
    dose_change_add(patient=alice, effective_date=days_ago(today, 30), dose_ug=4500)
    assert rules.OPIOID not in roster_flags(carol)["Alice"]
    treatment_add(patient=alice, name="Tramadol", category="opioid", start_date=days_ago(today, 2))
    assert rules.OPIOID in roster_flags(carol)["Alice"]


def test_an_ldn_dose_added_while_on_an_opioid_flags_the_patient(carol, alice, today):
    treatment_add(patient=alice, name="Codeine", category="opioid", start_date=days_ago(today, 60))
    assert rules.OPIOID not in roster_flags(carol)["Alice"]
    dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    flags = {f.code: f for f in presentation.roster(carol).rows[0].flags}
    assert flags[rules.OPIOID].label == FLAG
    assert flags[rules.OPIOID].detail == "Codeine taken with LDN today"


@pytest.mark.parametrize(
    ("opioid_stop", "ldn_steps", "flagged"),
    [
        (0, [(30, 4500)], True),  # stopped today: still taken today
        (1, [(30, 4500)], False),  # stopped yesterday
        (None, [(30, 4500), (5, 0)], False),  # LDN paused
        (None, [(30, 4500), (10, 0), (3, 1000)], True),  # LDN restarted
    ],
)
def test_the_flag_needs_both_taken_today(carol, alice, today, opioid_stop, ldn_steps, flagged):
    for ago, dose_ug in ldn_steps:
        dose_change_add(patient=alice, effective_date=days_ago(today, ago), dose_ug=dose_ug)
    stop = None if opioid_stop is None else days_ago(today, opioid_stop)
    treatment_add(
        patient=alice,
        name="Oxycodone",
        category="opioid",
        start_date=days_ago(today, 20),
        stop_date=stop,
    )
    assert (rules.OPIOID in roster_flags(carol)["Alice"]) is flagged


def test_the_roster_shows_the_flag_in_red_first_and_filters_by_it(client, carol, alice, today):
    other = linked_patient(carol, "olga", "Olga")
    write_diary(other, start=days_ago(today, 30), last=30)
    write_diary(alice, start=days_ago(today, 30), last=30)
    treatment_add(patient=alice, name="Tramadol", category="opioid", start_date=days_ago(today, 4))
    recompute(alice, other)
    client.force_login(carol)
    html = client.get(reverse("clinic:roster")).content.decode()
    assert '<span class="flag flag-opioid_ldn" title="Tramadol taken with LDN today">' in html
    assert "How the columns and flags are worked out" in html
    assert "<strong>Opioid + LDN</strong> (red, listed first)" in html
    rows = presentation.roster(carol).rows
    assert rows[0].name == "Alice" and rows[0].flags[0].code == rules.OPIOID  # most severe first
    only = client.get(reverse("clinic:roster"), {"flag": rules.OPIOID}).content.decode()
    assert "Alice" in only and "Olga" not in only.split('id="roster-table"')[1]


def test_the_dashboard_and_brief_show_the_flag(client, carol, alice, today):
    write_diary(alice, start=days_ago(today, 30), last=30)
    treatment_add(patient=alice, name="Tramadol", category="opioid", start_date=days_ago(today, 4))
    recompute(alice)
    client.force_login(carol)
    for name in ("clinic:patient", "clinic:brief"):
        html = client.get(reverse(name, args=[alice.uuid])).content.decode()
        assert '<span class="flag flag-opioid_ldn">Opioid + LDN</span>' in html
        assert "taken with LDN" in html or "with LDN</strong>" in html


# --- Treatments and events on the dashboard, the brief and the charts -----------------------------


@pytest.fixture
def busy_context(alice, today):
    write_diary(alice, start=days_ago(today, 60), last=60)
    treatment_add(
        patient=alice,
        name="Pregabalin",
        category="gabapentinoid",
        start_date=days_ago(today, 25),
        note="75 mg twice a day",
    )
    treatment_add(
        patient=alice,
        name="Physiotherapy",
        category="physical_therapy",
        start_date=days_ago(today, 50),
        stop_date=days_ago(today, 20),
    )
    # Stopped long before the diary: listed, but not drawn.
    treatment_add(
        patient=alice,
        name="Amitriptyline",
        category="antidepressant",
        start_date=dt.date(2019, 1, 1),
        stop_date=dt.date(2020, 6, 30),
    )
    life_event_add(patient=alice, date=days_ago(today, 40), kind="flare", text="after travel")
    life_event_add(patient=alice, date=days_ago(today, 10), kind="life_event", text="Moved <house>")
    recompute(alice)


def test_the_dashboard_lists_treatments_and_events(client, carol, alice, busy_context):
    client.force_login(carol)
    html = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    section = html[html.index('id="treatments"') :]
    for words in (
        "Pregabalin",
        "Gabapentinoid",
        "75 mg twice a day",
        "Physiotherapy",
        "Amitriptyline",
    ):
        assert words in section
    assert "Flare</strong> — after travel" in section
    assert "Moved &lt;house&gt;" in section  # escaped
    assert FLAG not in html


def test_the_brief_lists_them_in_a_paragraph(client, carol, alice, busy_context):
    client.force_login(carol)
    html = client.get(reverse("clinic:brief", args=[alice.uuid])).content.decode()
    section = html[html.index('class="brief-context"') :]
    today = carol.local_today()
    pregabalin = today - dt.timedelta(days=25)
    assert f"Pregabalin from {pregabalin.day} {pregabalin:%b}" in section
    assert "Physiotherapy " in section and "(opioid)" not in section
    # Stopped before the diary began: on the dashboard's list, not on the brief's.
    assert "Amitriptyline" not in section
    assert "Flares " in section and "life event " in section and "(Moved &lt;house&gt;)" in section


def test_the_timeline_draws_treatment_bars_and_event_symbols(carol, alice, today, busy_context):
    figure = presentation.patient_dashboard(carol, alice).figure
    treatments = [t for t in figure["data"] if t["name"] == "Other treatments"]
    # Pregabalin (day 35 to today, day 60) and physiotherapy (day 10 to day 40); day 0 = the
    # first dose, 60 days ago. Amitriptyline ended before the diary: not drawn.
    assert sorted((t["x"][0], t["x"][-1]) for t in treatments) == [(10, 40), (35, 60)]
    assert [t["showlegend"] for t in treatments].count(True) == 1  # one legend entry
    labels = {a["text"] for a in figure["layout"]["annotations"]}
    assert {"Pregabalin", "Physiotherapy"} <= labels and "Amitriptyline" not in labels
    flare = next(t for t in figure["data"] if t["name"] == "Flare")
    event = next(t for t in figure["data"] if t["name"] == "Life event")
    assert flare["x"] == [20] and flare["marker"]["symbol"] == "star"
    assert event["x"] == [50] and event["marker"]["symbol"] == "diamond-open"
    # The lane sits above the 0-10 scores; the ticks stay 0-10.
    layout = figure["layout"]["yaxis"]
    assert layout["range"][1] > 11 and layout["tickvals"] == [0, 2, 4, 6, 8, 10]
    assert all(y > 10.3 for t in [*treatments, flare, event] for y in t["y"])
    # A started-and-stopped bar shows both ends; an ongoing one only its start.
    physio = next(t for t in treatments if t["x"][0] == 10)
    assert physio["marker"]["size"] == [10, 8]
    assert next(t for t in treatments if t["x"][0] == 35)["marker"]["size"] == [10, 0]
    compact = presentation.patient_dashboard(carol, alice, compact=True).figure
    bars = [t for t in compact["data"] if t.get("legendgroup") == "treatments"]
    assert len(bars) == 2 and bars[0]["name"] == "Treatments"  # short names on the brief


def test_the_lane_escapes_names_and_caps_the_rows():
    first, last = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
    treatments = [
        TreatmentMark(f"Med <{i}>", "Other", dt.date(2026, 1, 1 + i), None) for i in range(6)
    ]
    lane = context_lane(treatments, [EventMark(last, "flare")], x=str, first=first, last=last)
    assert len([t for t in lane.traces if t.name == "Other treatments"]) == 4  # the latest 4
    texts = [a["text"] for a in lane.annotations]
    assert "Med &lt;5&gt;" in texts and texts[-1] == "Also: Med &lt;0&gt;, Med &lt;1&gt;"
    assert context_lane([], [], x=str, first=first, last=last).top == 10.3


def test_the_patient_s_history_chart_has_the_same_lane(alice_client_for, alice, today):
    client = alice_client_for
    write_diary(alice, start=days_ago(today, 30), last=30)
    treatment_add(
        patient=alice, name="Vitamin D", category="supplement", start_date=days_ago(today, 5)
    )
    life_event_add(patient=alice, date=days_ago(today, 3), kind="flare")
    figure = client.get(reverse("diary:history")).context["figure"]
    names = [t["name"] for t in figure["data"]]
    assert "Other treatments" in names and "Flare" in names
    bar = next(t for t in figure["data"] if t["name"] == "Other treatments")
    assert bar["x"] == [days_ago(today, 5).isoformat(), today.isoformat()]
    # The lane's labels sit on the data (xref x); the panel titles on the paper.
    annotations = figure["layout"]["annotations"]
    assert {a["text"] for a in annotations if a["xref"] == "x"} == {"Vitamin D"}


@pytest.fixture
def alice_client_for(client, alice):
    client.force_login(alice)
    return client


# --- Questionnaires -------------------------------------------------------------------------------


def finish(patient, instrument, week, answers, day: dt.date, clock) -> None:
    clock.move_to(dt.datetime.combine(day, dt.time(12), dt.UTC))
    questionnaire_save(
        patient=patient, instrument=instrument, week=week, answers=answers, today=day
    )
    questionnaire_finish(patient=patient, instrument=instrument, week=week, today=day)


def test_the_dashboard_and_brief_show_fiqr_pgic_and_acr(client, carol, alice, today, clock):
    start = days_ago(today, 60)
    write_diary(alice, start=start, last=60)
    recompute(alice)
    at = lambda n: start + dt.timedelta(days=n)  # noqa: E731
    # Week 0 all 6 (total 60), week 4 all 5 (total 50: 16.7 % lower, MCID), week 8 function
    # all 6 and the rest 5 (54/3 + 10 + 50/2 = 53: 11.7 % lower, no MCID).
    finish(alice, "fiqr", 0, {str(n): 6 for n in range(1, 22)}, at(-2), clock)
    finish(alice, "fiqr", 4, {str(n): 5 for n in range(1, 22)}, at(28), clock)
    finish(alice, "fiqr", 8, {str(n): 6 if n <= 9 else 5 for n in range(1, 22)}, at(56), clock)
    finish(alice, "pgic", 8, {"answer": 2}, at(56), clock)
    acr = {
        "painful_areas": ["neck", "left_hip", "right_hip", "left_upper_arm", "right_upper_arm",
                          "lower_back", "upper_back"],
        "symptoms_3_months": True, "fatigue": 2, "waking_unrefreshed": 2, "cognitive": 1,
        "headaches": False, "lower_abdominal": False, "depression": False,
    }  # fmt: skip
    finish(alice, "acr2016", 0, acr, at(-2), clock)
    clock.move_to(dt.datetime.combine(today, dt.time(10), dt.UTC))
    client.force_login(carol)
    html = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    section = html[html.index('id="questionnaires"') :]
    assert "<strong>60.0</strong>" in section and "<strong>50.0</strong>" in section
    assert "<strong>53.0</strong>" in section
    assert '16 % lower <span class="badge ok">MCID met</span>' in section
    assert "11 % lower</td>" in section  # no MCID badge
    assert 'Much improved</strong> <span class="badge ok">responder</span>' in section
    # WPI 7, SSS 5; left upper, right upper, left lower, right lower and axial: met.
    assert "Week 0: <strong>met</strong> · WPI 7/19, SSS 5/12, FS 12" in section
    brief = client.get(reverse("clinic:brief", args=[alice.uuid])).content.decode()
    q = brief[brief.index('class="brief-q"') :]
    assert "wk 0 <strong>60.0</strong>" in q and "wk 4 <strong>50.0</strong> −16 %" in q
    assert (
        '−16 % <strong class="mcid">MCID</strong>' in q and "wk 8 <strong>53.0</strong> −11 %;" in q
    )
    assert "function/overall/symptoms</span> wk 0 18/12/30, wk 8 18/10/25" in q
    assert "wk 8 much improved (responder)" in q and "met wk 0 (wk 0: WPI 7, SSS 5)" in q


def test_a_draft_is_not_shown_to_the_clinician(client, carol, alice, today):
    write_diary(alice, start=days_ago(today, 28), last=28)
    questionnaire_save(patient=alice, instrument="fiqr", week=4, answers={"1": 9})
    client.force_login(carol)
    html = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert "None finished yet." in html


def test_a_stopped_opioid_taken_with_ldn_before_is_marked_but_not_flagged(
    client, carol, alice, today
):
    write_diary(alice, start=days_ago(today, 40), last=40)
    t = treatment_add(
        patient=alice, name="Codeine", category="opioid", start_date=days_ago(today, 20)
    )
    treatment_edit(
        treatment=t,
        name="Codeine",
        category="opioid",
        start_date=days_ago(today, 20),
        stop_date=days_ago(today, 15),
    )
    client.force_login(carol)
    html = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert '<span class="flag flag-opioid_ldn">taken with LDN</span>' in html
    assert '<span class="flag flag-opioid_ldn">Opioid + LDN</span>' not in html
