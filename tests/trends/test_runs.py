"""The big jobs: nightly (changed patients only) and weekly (everyone) runs, fanned out as one
task per batch of patients, and each batch computed once however often its message arrives."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from ldn_diary.clinical.constants import ENGINE_VERSION
from ldn_diary.trends import services, tasks
from ldn_diary.trends.models import (
    QUEUE_TIMEOUT,
    RecomputeBatch,
    RecomputeRun,
    ResponseSummary,
    RunKind,
    TrendState,
)
from ldn_diary.trends.selectors import CURRENT, trend_summary_for
from ldn_diary.trends.services import (
    trends_batch_compute,
    trends_recompute_patients,
    trends_run_patients,
    trends_run_start,
)
from tests.conftest import make_user

from .conftest import save_entry, stored_days

D0 = dt.date(2024, 1, 1)
BATCH = "ldn_diary.trends.tasks.recompute_batch"


def diary(patient, days: int, pain: int = 5) -> None:
    for n in range(days):
        save_entry(patient, D0 + dt.timedelta(days=n), pain, 5, 5, 5)


@pytest.fixture
def three(alice, bob):
    charlie = make_user("charlie", "patient")
    for k, patient in enumerate((alice, bob, charlie)):
        diary(patient, 10, pain=k + 3)
    trends_recompute_patients(patient_ids=[alice.pk, bob.pk, charlie.pk])
    return alice, bob, charlie


def test_the_nightly_run_takes_only_changed_diaries_and_engine_versions(three, carol):
    alice, bob, charlie = three
    assert trends_run_patients(kind=RunKind.NIGHTLY) == []
    save_entry(bob, D0 + dt.timedelta(days=3), 9, 9, 9, 9)  # a new diary version
    ResponseSummary.objects.filter(patient=charlie).update(engine_version="2020.1")

    assert trends_run_patients(kind=RunKind.NIGHTLY) == [bob.pk, charlie.pk]
    # Weekly: every patient (carol is a clinician).
    assert trends_run_patients(kind=RunKind.WEEKLY) == [alice.pk, bob.pk, charlie.pk]


def test_a_run_fans_out_one_task_per_batch_and_closes_once(
    three, task_runs, django_capture_on_commit_callbacks
):
    alice, bob, charlie = three
    before = ResponseSummary.objects.get(patient=alice).computed_at
    with django_capture_on_commit_callbacks(execute=True):
        run = trends_run_start(kind=RunKind.WEEKLY, batch_size=2)

    assert task_runs[BATCH] == 2
    run.refresh_from_db()
    assert (run.patients, run.batches, run.batches_done, run.failed) == (3, 2, 2, 0)
    assert run.finished_at is not None
    batches = list(RecomputeBatch.objects.filter(run=run).order_by("number"))
    assert [b.patient_ids for b in batches] == [[alice.pk, bob.pk], [charlie.pk]]
    assert all(b.done_at and b.claimed_by for b in batches)
    # Recomputed (a new stamp), and still current.
    assert ResponseSummary.objects.get(patient=alice).computed_at > before
    assert trend_summary_for(charlie).status == CURRENT


def test_an_empty_nightly_run_finishes_at_once(three, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = trends_run_start(kind=RunKind.NIGHTLY)
    run.refresh_from_db()
    assert (run.patients, run.batches) == (0, 0)
    assert run.finished_at is not None


def test_a_batch_is_computed_once_however_often_its_message_arrives(three):
    alice, bob, charlie = three
    save_entry(alice, D0 + dt.timedelta(days=2), 9, 9, 9, 9)
    run = trends_run_start(kind=RunKind.NIGHTLY)  # published on commit: not yet run here
    [batch] = RecomputeBatch.objects.filter(run=run)

    assert trends_batch_compute(batch_id=batch.pk, worker="w1") is True
    computed = ResponseSummary.objects.get(patient=alice).computed_at
    # A redelivered message, another worker: nothing is computed again.
    assert trends_batch_compute(batch_id=batch.pk, worker="w2") is False
    assert ResponseSummary.objects.get(patient=alice).computed_at == computed
    batch.refresh_from_db()
    assert batch.claimed_by == "w1"
    run.refresh_from_db()
    assert run.batches_done == 1 and run.finished_at is not None


def test_a_claim_held_by_a_live_worker_is_respected_and_a_lost_one_retaken(three, clock):
    alice, _, _ = three
    save_entry(alice, D0 + dt.timedelta(days=2), 9, 9, 9, 9)
    run = trends_run_start(kind=RunKind.NIGHTLY)
    [batch] = RecomputeBatch.objects.filter(run=run)
    RecomputeBatch.objects.filter(pk=batch.pk).update(claimed_by="w1", claimed_at=timezone.now())

    assert trends_batch_compute(batch_id=batch.pk, worker="w2") is False
    assert TrendState.objects.get(patient=alice).is_stale

    clock.shift(QUEUE_TIMEOUT + dt.timedelta(seconds=1))  # w1 presumed lost with its worker
    assert trends_batch_compute(batch_id=batch.pk, worker="w2") is True
    assert not TrendState.objects.get(patient=alice).is_stale


def test_a_batch_that_raises_is_released_for_the_retry(three, monkeypatch):
    alice, _, _ = three
    save_entry(alice, D0 + dt.timedelta(days=2), 9, 9, 9, 9)
    run = trends_run_start(kind=RunKind.NIGHTLY)
    [batch] = RecomputeBatch.objects.filter(run=run)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "trends_recompute_patients", broken)
    with pytest.raises(RuntimeError):
        trends_batch_compute(batch_id=batch.pk, worker="w1")
    batch.refresh_from_db()
    assert (batch.claimed_at, batch.done_at) == (None, None)

    monkeypatch.undo()
    assert trends_batch_compute(batch_id=batch.pk, worker="w1") is True


def test_the_beat_schedules_the_nightly_and_the_weekly_run():
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.recompute_all.name in schedule
    assert tasks.recompute_everyone.name in schedule
    weekly = schedule[tasks.recompute_everyone.name]["schedule"]
    assert weekly.day_of_week == {0}  # Sunday


def test_the_nightly_task_on_an_unchanged_cohort_computes_nobody(
    three, task_runs, django_capture_on_commit_callbacks
):
    stored = stored_days([p.pk for p in three])
    with django_capture_on_commit_callbacks(execute=True):
        tasks.recompute_all.delay()
    assert task_runs[BATCH] == 0
    assert RecomputeRun.objects.get().patients == 0
    assert stored_days([p.pk for p in three]) == stored
    assert all(s.engine_version == ENGINE_VERSION for s in ResponseSummary.objects.all())
