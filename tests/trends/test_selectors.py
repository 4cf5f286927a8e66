"""What pages read: summary status (current / stale / computing / missing) and trend rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ldn_diary.trends.models import QUEUE_TIMEOUT, ResponseSummary, TrendState
from ldn_diary.trends.selectors import (
    COMPUTING,
    CURRENT,
    MISSING,
    STALE,
    latest_trend_days,
    trend_days_for,
    trend_summary_for,
)
from ldn_diary.trends.services import trends_recompute_patients
from tests.conftest import make_user

from .conftest import save_entry

D0 = dt.date(2024, 1, 1)


def diary(patient, days: int, pain: int = 5) -> None:
    for n in range(days):
        save_entry(patient, D0 + dt.timedelta(days=n), pain, 5, 5, 5)


def test_a_patient_never_computed_is_missing(alice):
    summary = trend_summary_for(alice)

    assert summary.status == MISSING
    assert summary.data is None
    assert summary.message == "Not calculated yet."


def test_a_first_recompute_in_the_queue_is_computing(alice):
    # The save claims the queue slot (its task would run on commit).
    save_entry(alice, D0, 5, 5, 5, 5)

    assert trend_summary_for(alice).status == COMPUTING


def test_a_recomputed_patient_is_current(alice, django_assert_num_queries):
    diary(alice, 10)
    trends_recompute_patients(patient_ids=[alice.pk])

    with django_assert_num_queries(1):
        summary = trend_summary_for(alice)

    assert summary.status == CURRENT
    assert summary.data["data_end"] == "2024-01-10"
    assert summary.data_version == summary.latest_version == 10
    assert summary.computed_at is not None


def test_a_write_after_the_recompute_makes_it_computing_then_stale(alice):
    diary(alice, 10)
    trends_recompute_patients(patient_ids=[alice.pk])
    save_entry(alice, D0 + dt.timedelta(days=10), 9, 9, 1, 1)

    summary = trend_summary_for(alice)
    assert summary.status == COMPUTING
    assert (summary.data_version, summary.latest_version) == (10, 11)
    # The old summary is still shown, with the status saying it lags.
    assert summary.data["data_end"] == "2024-01-10"

    # Publishing failed (the sweep will queue it): plainly stale, not "computing".
    TrendState.objects.filter(patient=alice).update(queued_at=None)
    assert trend_summary_for(alice).status == STALE
    # A task queued long ago is presumed lost: stale again.
    TrendState.objects.filter(patient=alice).update(
        queued_at=timezone.now() - QUEUE_TIMEOUT - dt.timedelta(seconds=1)
    )
    assert trend_summary_for(alice).status == STALE


def test_a_summary_from_an_older_engine_is_stale(alice):
    diary(alice, 5)
    trends_recompute_patients(patient_ids=[alice.pk])
    ResponseSummary.objects.filter(patient=alice).update(engine_version="0")

    assert trend_summary_for(alice).status == STALE


def test_trend_days_are_the_patients_own_in_date_order(alice, bob):
    diary(alice, 10)
    diary(bob, 12)
    trends_recompute_patients(patient_ids=[alice.pk, bob.pk])

    days = list(trend_days_for(alice))
    assert [d.date for d in days] == [D0 + dt.timedelta(days=n) for n in range(10)]
    # Bob's 12 days are not alice's 10 (same dates, so only the length tells them apart).
    assert len(trend_days_for(bob)) == 12

    window = trend_days_for(alice, start=D0 + dt.timedelta(days=3), end=D0 + dt.timedelta(days=5))
    assert [d.date.day for d in window] == [4, 5, 6]


@pytest.mark.parametrize("roster_size", [1, 6])
def test_latest_trend_days_is_one_query_for_any_roster(
    alice, roster_size, django_assert_num_queries
):
    patients = [alice] + [make_user(f"patient{k}", "patient") for k in range(roster_size - 1)]
    for k, patient in enumerate(patients):
        diary(patient, 8 + k, pain=k % 11)
    trends_recompute_patients(patient_ids=[p.pk for p in patients])
    no_rows = make_user("newcomer", "patient")

    with django_assert_num_queries(1):
        latest = latest_trend_days([p.pk for p in patients] + [no_rows.pk])

    assert set(latest) == {p.pk for p in patients}
    for k, patient in enumerate(patients):
        assert latest[patient.pk].date == D0 + dt.timedelta(days=7 + k)
        assert latest[patient.pk].pain_r7 == pytest.approx(k % 11)


@pytest.mark.parametrize("days", [10, 60])
def test_a_chart_reads_a_patients_series_in_one_query(alice, days, django_assert_num_queries):
    diary(alice, days)
    trends_recompute_patients(patient_ids=[alice.pk])

    with django_assert_num_queries(1):
        rows = trend_days_for(alice, start=D0 + dt.timedelta(days=2))

    assert [r.date for r in rows] == [D0 + dt.timedelta(days=n) for n in range(2, days)]
    assert rows[-1].pain_r7 == 5.0 and rows[-1].logged_7 == 7 and rows[-1].dose_ug is None
