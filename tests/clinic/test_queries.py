"""Query counts of the roster and the dashboard, pinned, and the same for 1 and 50 patients.

Each patient gets everything a roster row reads (doses, a plan, entries with side effects,
trends, a note and a follow-up date, other treatments with an opioid), so a lazy per-row query
anywhere would show up as growth; the dashboard's patient also has flares and finished
questionnaires, and the count does not grow with them.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ldn_diary.clinic.services import followup_set, note_add
from ldn_diary.diary.services import life_event_add, plan_set, treatment_add
from ldn_diary.questionnaires.services import questionnaire_finish, questionnaire_save

from .conftest import days_ago, linked_patient, recompute, write_diary

# Session + user (2), the roster's data version (1), the audit rows of the patients shown (1,
# one INSERT however many), then on a cache miss the roster itself (11): patients, doses,
# plans, entry counts, side-effect reports, latest trend rows, summary heads, trend states, last
# notes, follow-ups, opioids taken today (the "opioid + LDN" flag). With the data unchanged, a
# reload or another sort or filter costs the first 4.
ROSTER_QUERIES = 15
ROSTER_QUERIES_CACHED = 4
# Session + user (2), the patient (1), the audit row of the read (1), trend state and summary
# (1), the clinician's notes and follow-up (2), the finished questionnaires (1: not a diary
# write, so read fresh every time); and, unless the patient's data is cached since its last
# change, entries, doses, plan, trend rows, the entry statistics shared with the roster, other
# treatments, flares and life events (7).
DASHBOARD_QUERIES = 15
DASHBOARD_QUERIES_CACHED = 8


def make_patients(carol, today, n):
    patients = []
    for i in range(n):
        patient = linked_patient(carol, f"p{i:03d}", f"Patient {i:03d}")
        write_diary(
            patient,
            start=days_ago(today, 30),
            last=30,
            pain=lambda d: 7 if d < 10 else 4,
            side_effects=lambda d: ("vivid_dreams",) if d % 2 else (),
            dose_ug=lambda d: 1500 if d < 14 else 3000,
        )
        plan_set(patient=patient, start_ug=1500, step_ug=1500, interval_days=14, target_ug=4500)
        treatment_add(
            patient=patient, name="Tramadol", category="opioid", start_date=days_ago(today, 3)
        )
        treatment_add(
            patient=patient,
            name="Physio",
            category="physical_therapy",
            start_date=days_ago(today, 9),
        )
        note_add(clinician=carol, patient=patient, text="Seen.")
        followup_set(clinician=carol, patient=patient, due_on=today + dt.timedelta(days=14))
        patients.append(patient)
    recompute(*patients)
    return patients


def count_queries(client, url) -> int:
    """Queries of a request with nothing cached (the worst case)."""
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("n", [1, 50])
def test_roster_query_count_is_pinned_for_1_and_50_patients(
    client, carol, today, n, django_assert_num_queries
):
    make_patients(carol, today, n)
    client.force_login(carol)
    with django_assert_num_queries(ROSTER_QUERIES):
        response = client.get(reverse("clinic:roster"))
    html = response.content.decode()
    assert f"{n + 1} of {n + 1} linked patients" in html  # n, and Alice
    assert html.count('data-label="Patient"') == min(n + 1, 50)  # one page

    def table(page: str) -> str:
        return page[page.index('<section id="roster-table"') :]

    with django_assert_num_queries(ROSTER_QUERIES_CACHED):
        assert table(client.get(reverse("clinic:roster")).content.decode()) == table(html)
    with CaptureQueriesContext(connection) as ctx:
        filtered = client.get(reverse("clinic:roster"), {"sort": "-pain", "flag": "review"})
    # No audit INSERT when the filter leaves nobody on the page.
    shown = filtered.content.decode().count('data-label="Patient"')
    assert len(ctx.captured_queries) == ROSTER_QUERIES_CACHED - (0 if shown else 1)


def test_roster_queries_do_not_grow_from_1_to_50_patients(client, carol, today):
    make_patients(carol, today, 1)
    client.force_login(carol)
    one = count_queries(client, reverse("clinic:roster"))
    extra = []
    for i in range(49):
        patient = linked_patient(carol, f"q{i:03d}", f"Extra {i:03d}")
        write_diary(patient, start=days_ago(today, 30), last=30, side_effects=("nausea",))
        note_add(clinician=carol, patient=patient, text="Seen.")
        extra.append(patient)
    recompute(*extra)
    assert count_queries(client, reverse("clinic:roster")) == one
    # Sorting, filtering, searching and paging do not add queries either.
    for query in ("?sort=-pain&flag=side_effect", "?q=extra&page=2", "?response=none"):
        assert count_queries(client, reverse("clinic:roster") + query) == one


@pytest.mark.parametrize("days", [20, 120])
def test_dashboard_query_count_is_pinned_whatever_the_diary_length(
    client, carol, alice, today, days, django_assert_num_queries
):
    write_diary(alice, start=days_ago(today, days), last=days, side_effects=("headache",))
    for n in range(days // 10):
        life_event_add(patient=alice, date=days_ago(today, n * 10), kind="flare")
        treatment_add(
            patient=alice, name=f"Med {n}", category="supplement", start_date=days_ago(today, n)
        )
    for week in (0, 4, 8, 12):
        if 7 * week - 3 <= days:
            # Finished in its own window, so each one is a real (week, answers) row.
            with time_machine.travel(
                dt.datetime.combine(days_ago(today, days - 7 * week), dt.time(12), dt.UTC)
            ):
                questionnaire_save(
                    patient=alice,
                    instrument="fiqr",
                    week=week,
                    answers={str(n): 5 for n in range(1, 22)},
                    today=days_ago(today, days - 7 * week),
                )
                questionnaire_finish(
                    patient=alice,
                    instrument="fiqr",
                    week=week,
                    today=days_ago(today, days - 7 * week),
                )
    note_add(clinician=carol, patient=alice, text="First note.")
    note_add(clinician=carol, patient=alice, text="Second note.")
    recompute(alice)
    client.force_login(carol)
    cache.clear()
    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get(reverse("clinic:patient", args=[alice.uuid]))
    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get(reverse("clinic:brief", args=[alice.uuid]))
    # The patient-derived part is cached until the diary, the results or the day change.
    with django_assert_num_queries(DASHBOARD_QUERIES_CACHED):
        html = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert "Opioid + LDN" not in html and "Med 0" in html
    assert 'class="compact-table fiqr"' in html
