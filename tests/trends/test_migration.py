"""Migrations 0004, 0006 and 0007: stored trends from the per-day table (0004), the JSON
summaries (0006) and the series of means (0007) end up correct in TrendSeries and the summary
columns after ``migrate`` and the next job, and pages say they are behind until then."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ldn_diary.clinical import compute_patient
from ldn_diary.clinical.constants import ENGINE_VERSION, SYMPTOMS
from ldn_diary.trends.models import ResponseSummary, RunKind, TrendState
from ldn_diary.trends.selectors import (
    CURRENT,
    MISSING,
    STALE,
    trend_days_for,
    trend_summary_for,
)
from ldn_diary.trends.services import trends_run_start, trends_sweep_outbox

from .conftest import save_entry

D0 = dt.date(2024, 1, 1)
BEFORE = [("trends", "0003_trendstate_failure")]
JSON_SUMMARIES = [("trends", "0005_recompute_runs")]
AFTER = LATEST = [("trends", "0007_series_totals")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_after_migrate_and_the_next_job_the_trends_are_correct(
    alice, bob, django_capture_on_commit_callbacks
):
    old = migrate(BEFORE)
    try:
        # Claim the queue slot so these saves queue no recompute (the new code's) on commit.
        for patient in (alice, bob):
            TrendState.objects.create(patient=patient, queued_at=timezone.now())
        for n in range(12):
            save_entry(alice, D0 + dt.timedelta(days=n), 6, 5, 4, 5)
        save_entry(bob, D0, 3, 3, 3, 3)
        # What the old storage had for alice: a row per day and her summary, current.
        version = TrendState.objects.get(patient=alice).data_version
        TrendState.objects.filter(patient=alice).update(
            computed_version=version, dirty_since=None, queued_at=None
        )
        TrendState.objects.filter(patient=bob).update(queued_at=None)
        old.get_model("trends", "TrendDay").objects.bulk_create(
            old.get_model("trends", "TrendDay")(
                patient_id=alice.pk,
                date=D0 + dt.timedelta(days=n),
                logged=True,
                logged_7=min(n + 1, 7),
                pain_r7=1.0,  # deliberately wrong: the recompute must replace it
            )
            for n in range(12)
        )
        old.get_model("trends", "ResponseSummary").objects.create(
            patient_id=alice.pk,
            data={"therapy_start": None},
            computed_at=dt.datetime(2024, 1, 12, tzinfo=dt.UTC),
            data_version=version,
            engine_version=ENGINE_VERSION,
        )
    finally:
        migrate(AFTER)

    # Not calculated (0006 drops the JSON summaries), and queued by the next sweep (dirty) or
    # the nightly run.
    summary = trend_summary_for(alice)
    assert summary.status == MISSING and summary.data is None
    assert TrendState.objects.get(patient=alice).dirty_since is not None
    assert trend_days_for(alice) == []

    with django_capture_on_commit_callbacks(execute=True):
        run = trends_run_start(kind=RunKind.NIGHTLY)
    run.refresh_from_db()
    assert run.patients == 2 and run.finished_at is not None
    assert trend_summary_for(alice).status == CURRENT
    days = trend_days_for(alice)
    assert [d.date for d in days] == [D0 + dt.timedelta(days=n) for n in range(12)]
    assert days[-1].pain_r7 == 6.0 and days[-1].logged_7 == 7
    assert trend_summary_for(bob).status == CURRENT


@pytest.mark.django_db(transaction=True)
def test_json_summaries_are_recomputed_into_columns(alice, bob, django_capture_on_commit_callbacks):
    old = migrate(JSON_SUMMARIES)
    try:
        for patient in (alice, bob):
            TrendState.objects.create(patient=patient, queued_at=timezone.now())
        for n in range(30):
            save_entry(alice, D0 + dt.timedelta(days=n), 6 - n // 10, 5, 4, 5)
        # A current JSON summary (its content is not read again).
        version = TrendState.objects.get(patient=alice).data_version
        TrendState.objects.filter(patient=alice).update(
            computed_version=version, dirty_since=None, queued_at=None
        )
        TrendState.objects.filter(patient=bob).update(queued_at=None)
        old.get_model("trends", "ResponseSummary").objects.create(
            patient_id=alice.pk,
            data={"therapy_start": None},
            computed_at=dt.datetime(2024, 1, 30, tzinfo=dt.UTC),
            data_version=version,
            engine_version=ENGINE_VERSION,
        )
    finally:
        migrate(AFTER)

    assert not ResponseSummary.objects.exists()
    state = TrendState.objects.get(patient=alice)
    assert state.data_version == version + 1 > state.computed_version
    assert state.dirty_since is not None and state.queued_at is None
    assert trend_summary_for(alice).status == MISSING

    with django_capture_on_commit_callbacks(execute=True):
        assert trends_sweep_outbox() == 1  # alice; bob had no summary and stays as he was
    summary = trend_summary_for(alice)
    assert summary.status == CURRENT
    entries = [(D0 + dt.timedelta(days=n), 6 - n // 10, 5, 4, 5) for n in range(30)]
    assert summary.data == compute_patient(entries, []).summaries[0]


SERIES_OF_MEANS = [("trends", "0006_summary_columns")]


@pytest.mark.django_db(transaction=True)
def test_series_of_means_are_recomputed_as_totals(alice, django_capture_on_commit_callbacks):
    """0007: the series kept means and changes (floats); they are dropped, the patient reads
    as behind, and the next job stores totals that read back as the engine's values."""
    entries = [(D0 + dt.timedelta(days=n), 6 - n // 10, 5, 4 + n % 3, 5) for n in range(30)]
    TrendState.objects.create(patient=alice, queued_at=timezone.now())  # no recompute on save
    for entry in entries:
        save_entry(alice, *entry)
    with django_capture_on_commit_callbacks(execute=True):
        trends_run_start(kind=RunKind.NIGHTLY)
    assert trend_summary_for(alice).status == CURRENT
    old = migrate(SERIES_OF_MEANS)
    try:
        old.get_model("trends", "TrendSeries").objects.create(
            patient_id=alice.pk,
            start=D0,
            end=D0 + dt.timedelta(days=29),
            dose_ug=[-1] * 30,
            logged=[True] * 30,
            logged_7=[min(n + 1, 7) for n in range(30)],
            # Deliberately wrong: none of it may survive.
            **{f"{s}_{kind}": [1.0] * 30 for s in SYMPTOMS for kind in ("r7", "pct")},
        )
    finally:
        migrate(LATEST)

    assert trend_days_for(alice) == []
    assert trend_summary_for(alice).status == STALE  # from an older engine until recomputed
    assert TrendState.objects.get(patient=alice).dirty_since is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert trends_sweep_outbox() == 1
    assert trend_summary_for(alice).status == CURRENT
    expected = compute_patient(entries, [])
    days = trend_days_for(alice)
    assert [d.date for d in days] == [e[0] for e in entries]
    np.testing.assert_array_equal(
        [[d.rolling()[s] for s in SYMPTOMS] for d in days],
        np.where(np.isnan(expected.day_rolling), None, expected.day_rolling),
    )
