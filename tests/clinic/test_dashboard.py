"""The patient dashboard and the brief as pages: content, stale labels, notes and follow-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ldn_diary.accounts.services import profile_update
from ldn_diary.clinic.models import ClinicianNote, FollowUp
from ldn_diary.diary.models import DiaryEntry
from ldn_diary.diary.services import dose_change_add, entry_save, plan_set
from ldn_diary.trends.models import ResponseSummary, TrendState

from .conftest import days_ago, recompute, write_diary


@pytest.fixture
def diary(alice, carol, today):
    write_diary(
        alice,
        start=days_ago(today, 62),
        last=61,
        pain=lambda n: (6 if n % 2 else 8) if n < 14 else (3 if n % 2 else 4),
        dose_ug=lambda n: 1500 if n < 14 else 3000 if n < 28 else 4500,
        side_effects=lambda n: ("vivid_dreams",) if n < 10 else (),
        dose_taken=lambda n: "partly" if n == 58 else "yes",
    )
    recompute(alice)
    return alice


def page(client, user, name, patient, **kw):
    client.force_login(user)
    response = client.get(reverse(name, args=[patient.uuid]), **kw)
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_answers_is_it_working_at_which_dose(client, carol, diary):
    html = page(client, carol, "clinic:patient", diary)
    assert "Day 62</strong> of LDN (week 8)" in html
    assert "<strong>4.5 mg</strong> for 35 days" in html  # its first day counts
    assert (
        "Pain down 50 % from baseline at week 8 on 4.5 mg — substantial responder; beyond day-to-day variation."
        in html
    )
    assert "By dose phase" in html and "By week window" in html
    for row in ("1.5 mg", "3 mg", "4.5 mg", "Week 4", "Week 8", "Week 12"):
        assert f'<th scope="row">{row}</th>' in html
    assert "14 of 14 days" in html  # logging, last 14 days
    assert "96 %" in html  # dose taken: 13 yes + 1 partly of 14
    assert "Vivid dreams" in html
    assert "Not up to date" not in html


def test_stale_results_are_labelled_with_their_age_and_the_changes(client, carol, diary, today):
    # Time travel by update: the diary was written 3 hours ago, the results computed 2 hours
    # ago; then a new entry the worker has not processed yet puts the summary behind the diary.
    now = dt.datetime.now(dt.UTC)
    DiaryEntry.objects.filter(patient=diary).update(updated_at=now - dt.timedelta(hours=3))
    ResponseSummary.objects.filter(patient=diary).update(computed_at=now - dt.timedelta(hours=2))
    entry_save(
        patient=diary,
        date=today,
        pain=2,
        fatigue=2,
        sleep=6,
        mood=6,
        dreams="none",
        version=None,
        request_key=None,
        today=today,
    )
    TrendState.objects.filter(patient=diary).update(data_version=10_000, queued_at=None)
    html = page(client, carol, "clinic:patient", diary)
    assert "Not up to date." in html
    assert "Results are from 2 hours ago; 1 new or changed entry since" in html
    # Queued recompute: "recomputing".
    TrendState.objects.filter(patient=diary).update(queued_at=dt.datetime.now(dt.UTC))
    html = page(client, carol, "clinic:patient", diary)
    assert "— recomputing." in html
    brief = page(client, carol, "clinic:brief", diary)
    assert "Results are from 2 hours ago" in brief


def test_missing_results_are_labelled(client, carol, alice, today):
    write_diary(alice, start=days_ago(today, 20), last=20)  # marked dirty, never computed
    ResponseSummary.objects.filter(patient=alice).delete()
    TrendState.objects.filter(patient=alice).update(queued_at=None)
    html = page(client, carol, "clinic:patient", alice)
    assert "No results have been calculated yet" in html


def test_a_patient_with_no_entries_gets_a_page_not_an_error(client, carol, alice):
    html = page(client, carol, "clinic:patient", alice)
    assert "No LDN dose recorded" in html
    assert page(client, carol, "clinic:brief", alice)


def test_notes_by_htmx_return_only_the_notes_fragment(client, carol, diary):
    client.force_login(carol)
    url = reverse("clinic:note_add", args=[diary.uuid])
    response = client.post(url, {"text": "Week 8: much better."}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="notes"')
    assert "Week 8: much better." in html and "<html" not in html
    assert ClinicianNote.objects.get().clinician == carol
    # Without JS: a redirect back to the notes, and an empty note is refused.
    response = client.post(url, {"text": "   "})
    assert response.status_code == 302 and ClinicianNote.objects.count() == 1


def test_follow_up_date_is_set_and_cleared(client, carol, diary):
    client.force_login(carol)
    url = reverse("clinic:followup", args=[diary.uuid])
    client.post(url, {"due_on": "2031-02-03"})
    assert FollowUp.objects.get(clinician=carol, patient=diary).due_on == dt.date(2031, 2, 3)
    assert "3 Feb 2031" in page(client, carol, "clinic:patient", diary)
    client.post(url, {"due_on": ""})
    assert not FollowUp.objects.exists()


def test_follow_up_date_survives_a_second_save(client, carol, diary):
    # The date input must come back with an ISO value: a browser cannot show "03/02/2031" in a
    # type=date box, so pressing "Save date" again posted an empty value and cleared it.
    client.force_login(carol)
    url = reverse("clinic:followup", args=[diary.uuid])
    client.post(url, {"due_on": "2031-02-03"})
    html = page(client, carol, "clinic:patient", diary)
    assert 'type="date" name="due_on" value="2031-02-03"' in html
    client.post(url, {"due_on": "2031-02-03"})
    assert FollowUp.objects.get(clinician=carol, patient=diary).due_on == dt.date(2031, 2, 3)


def test_a_follow_up_date_in_the_past_is_refused_naming_the_field(client, carol, diary, today):
    client.force_login(carol)
    url = reverse("clinic:followup", args=[diary.uuid])
    client.post(url, {"due_on": "2031-02-03"})
    response = client.post(url, {"due_on": "2020-01-01"}, follow=True)
    html = response.content.decode()
    assert "Next follow-up: 1 Jan 2020 is in the past; choose today or a later date." in html
    # Nothing already saved is lost, and today itself is fine.
    assert FollowUp.objects.get(clinician=carol, patient=diary).due_on == dt.date(2031, 2, 3)
    client.post(url, {"due_on": today.isoformat()})
    assert FollowUp.objects.get(clinician=carol, patient=diary).due_on == today


def test_brief_has_summary_tables_adherence_side_effects_and_caveats(client, carol, diary):
    html = page(client, carol, "clinic:brief", diary)
    assert "Pre-visit brief: Alice" in html
    assert "Pain down 50 % from baseline at week 8 on 4.5 mg — substantial responder" in html
    assert "By dose phase" in html and "By week window" in html
    assert "Logged 14/14 of the last 14 days" in html
    assert "Vivid dreams 0 (24)" in html
    assert "Data quality" in html
    assert 'data-static="true"' in html and 'id="brief-figure"' in html
    assert "@page" not in html  # the print rules live in clinic.css


def test_brief_caveats_show_backfilled_share(client, carol, alice, today):
    write_diary(alice, start=days_ago(today, 30), last=25)
    for n in (1, 2, 3):
        entry_save(
            patient=alice,
            date=days_ago(today, n),
            pain=5,
            fatigue=5,
            sleep=5,
            mood=5,
            dreams="none",
            version=None,
            request_key=None,
            today=today,
        )
    recompute(alice)
    html = page(client, carol, "clinic:brief", alice)
    assert "were filled in on a later day (backfilled)" in html


@pytest.mark.parametrize(
    "instant", [dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)], ids=["london-ahead-of-new-york"]
)
def test_days_at_dose_are_the_patients_count_on_dashboard_and_doses_page(client, carol, alice):
    # Alice (London) started 1.5 mg on her today, 1 Dec; Dr Carol (New York) is still on 30 Nov.
    # Both pages count Alice's days, the start day as day 1, by clinical.doses.days_at_dose.
    profile_update(
        user=carol, display_name="Dr Carol", email=carol.email, time_zone="America/New_York"
    )
    alice_today = alice.local_today()
    assert alice_today == dt.date(2026, 12, 1) and carol.local_today() == dt.date(2026, 11, 30)
    dose_change_add(patient=alice, effective_date=alice_today, dose_ug=1500)
    assert "<strong>1.5 mg</strong> for 1 day<" in page(client, carol, "clinic:patient", alice)
    client.force_login(alice)
    doses = client.get(reverse("diary:doses")).content.decode()
    assert '1.5 mg</span> <span class="muted">for 1 day<' in doses


@pytest.mark.parametrize(("started_days_ago", "offered"), [(7, False), (13, False), (14, True)])
def test_the_next_step_is_offered_only_once_it_is_due(
    client, alice, today, started_days_ago, offered
):
    # A 14-day interval: until it is due the step is announced with its date, not offered.
    plan_set(patient=alice, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
    start = today - dt.timedelta(days=started_days_ago)
    dose_change_add(patient=alice, effective_date=start, dose_ug=1500)
    client.force_login(alice)
    html = client.get(reverse("diary:doses")).content.decode()
    assert ("I started 3 mg today" in html) is offered
    assert f"for {started_days_ago + 1} days" in html
    if not offered:
        due = start + dt.timedelta(days=14)
        assert f"<strong>3 mg</strong>, from {due:%A} {due.day} {due:%b}" in html


def test_the_chart_key_explains_the_strip_and_the_shaded_windows(client, carol, diary):
    # The strip's dream shades and sizes had no legend, and "weeks 4-12" labelled a
    # shading that began at week 2. The key names each window's days as the chart shades them.
    html = page(client, carol, "clinic:patient", diary)
    key = html.split('<div class="chart-key small">')[1].split("</div>")[0]
    assert "small and pale: normal" in key and "larger: vivid" in key
    assert "largest and darkest: nightmares" in key
    assert "dose not taken" in key and "partly taken" in key
    assert "wk 4 (therapy days 14–27)" in key and "wk 12 (days 70–83)" in key
    assert "start hidden" not in html
