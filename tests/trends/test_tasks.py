"""Queueing: coalescing a burst, surviving a dead broker, the outbox sweep, re-queueing.

Tasks run eagerly (in-process) unless a test points the Celery app at a broker; nothing of
ours is mocked. A dead broker is a real connection refused on a port nothing listens on.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ldn_diary.clinical import compute_cohort
from ldn_diary.diary.models import DiaryEntry
from ldn_diary.trends import services, tasks
from ldn_diary.trends.models import QUEUE_TIMEOUT, ResponseSummary, TrendState
from ldn_diary.trends.selectors import CURRENT, STALE, trend_days_for, trend_summary_for
from ldn_diary.trends.services import trends_sweep_outbox

from .conftest import DEAD_BROKER, celery_conf, save_entry, stored_day, stored_days

D0 = dt.date(2024, 1, 1)
RECOMPUTE = "ldn_diary.trends.tasks.recompute_patient"
RECOMPUTE_MANY = "ldn_diary.trends.tasks.recompute_patients"


def test_five_saves_in_one_transaction_run_one_recompute(
    alice, task_runs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(5):
            save_entry(alice, D0 + dt.timedelta(days=n), 5, 5, 5, 5)

    assert task_runs[RECOMPUTE] == 1
    assert trend_summary_for(alice).status == CURRENT
    assert len(trend_days_for(alice)) == 5


def test_each_committed_save_recomputes_when_nothing_is_queued(
    alice, task_runs, django_capture_on_commit_callbacks
):
    # Eager tasks run at once, so every save finds the slot free again.
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            save_entry(alice, D0 + dt.timedelta(days=n), 5, 5, 5, 5)

    assert task_runs[RECOMPUTE] == 3
    assert TrendState.objects.get(patient=alice).computed_version == 3


def test_a_save_while_the_broker_is_down_is_kept_and_swept_later(
    alice, task_runs, django_capture_on_commit_callbacks
):
    with celery_conf(broker_url=DEAD_BROKER, task_always_eager=False):
        with django_capture_on_commit_callbacks(execute=True):
            entry = save_entry(alice, D0, 7, 6, 3, 4)
        # The sweep cannot publish either; the patient stays in the outbox for the next one.
        assert trends_sweep_outbox() == 0

    assert DiaryEntry.objects.filter(pk=entry.pk, pain=7).exists()
    state = TrendState.objects.get(patient=alice)
    assert state.is_stale
    assert state.dirty_since is not None
    assert state.queued_at is None
    assert trend_summary_for(alice).status == "missing"
    assert task_runs[RECOMPUTE] == 0

    # The broker is back (eager here): the periodic sweep queues and runs the recompute.
    tasks.sweep_outbox.delay()

    assert task_runs[RECOMPUTE_MANY] == 1
    state.refresh_from_db()
    assert not state.is_stale
    assert (state.dirty_since, state.queued_at) == (None, None)
    assert trend_summary_for(alice).status == CURRENT
    assert stored_day(alice, D0).logged


def test_the_sweep_requeues_a_lost_task_but_not_a_fresh_one(alice, bob, task_runs):
    save_entry(alice, D0, 5, 5, 5, 5)
    save_entry(bob, D0, 5, 5, 5, 5)
    # Both saves claimed the queue slot (their tasks never ran: no commit in this test).
    # Alice's claim is older than the timeout, as if the worker had lost her task.
    TrendState.objects.filter(patient=alice).update(
        queued_at=timezone.now() - QUEUE_TIMEOUT - dt.timedelta(minutes=1)
    )

    assert trends_sweep_outbox() == 1

    assert task_runs[RECOMPUTE_MANY] == 1
    assert ResponseSummary.objects.filter(patient=alice).exists()
    assert not ResponseSummary.objects.filter(patient=bob).exists()
    assert TrendState.objects.get(patient=bob).is_stale


def test_a_save_during_the_recompute_queues_another(
    alice, task_runs, monkeypatch, django_capture_on_commit_callbacks
):
    calls = 0

    def engine_with_a_save_during_the_first_run(cohort):
        nonlocal calls
        calls += 1
        if calls == 1:
            # Arrives within the coalescing window of the first save, so it queues nothing
            # itself: the running task must notice and queue the follow-up.
            save_entry(alice, D0 + dt.timedelta(days=1), 2, 2, 8, 8)
        return compute_cohort(cohort)

    monkeypatch.setattr(services, "compute_cohort", engine_with_a_save_during_the_first_run)
    with django_capture_on_commit_callbacks(execute=True):
        save_entry(alice, D0, 5, 5, 5, 5)

    assert task_runs[RECOMPUTE] == 2
    state = TrendState.objects.get(patient=alice)
    assert state.data_version == state.computed_version == 2
    assert state.queued_at is None
    assert stored_day(alice, D0 + dt.timedelta(days=1)).logged


def test_the_nightly_job_recomputes_the_changed_patients_and_sweeps(
    alice, bob, task_runs, django_capture_on_commit_callbacks
):
    save_entry(alice, D0, 5, 5, 5, 5)
    save_entry(bob, D0, 6, 6, 6, 6)
    TrendState.objects.update(queued_at=None)

    # The run's batch tasks are published when the run's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.recompute_all.delay()

    assert task_runs["ldn_diary.trends.tasks.recompute_all"] == 1
    assert task_runs["ldn_diary.trends.tasks.recompute_batch"] == 1
    assert trend_summary_for(alice).status == CURRENT
    assert trend_summary_for(bob).status == CURRENT
    # Everyone was current after the full run, so the sweep had nothing to queue.
    assert task_runs[RECOMPUTE_MANY] == 0


def _stored(*patients) -> tuple:
    """Everything a recompute stores for these patients, as plain values."""
    ids = [p.pk for p in patients]
    days = stored_days(ids)
    summaries = [
        (s.patient_id, s.data, s.data_version, s.engine_version)
        for s in ResponseSummary.objects.filter(patient_id__in=ids).order_by("patient_id")
    ]
    states = list(
        TrendState.objects.filter(patient_id__in=ids)
        .order_by("patient_id")
        .values_list("patient_id", "data_version", "computed_version", "dirty_since", "queued_at")
    )
    return days, summaries, states


def test_running_a_recompute_task_twice_stores_the_same_rows(alice, bob, task_runs):
    """acks_late means a message may be delivered again after a worker dies mid-task: the
    second run must leave exactly what the first one stored."""
    for n in range(20):
        save_entry(alice, D0 + dt.timedelta(days=n), 7 - n % 3, 6, 3 + n % 4, 5)
        save_entry(bob, D0 + dt.timedelta(days=n), 4, 5, 6, 7 - n % 2)
    services.trends_mark_dirty(patient_id=alice.pk)  # leave something for the task to do

    tasks.recompute_patient.delay(alice.pk)
    first = _stored(alice, bob)
    assert first[0] and first[1]
    tasks.recompute_patient.delay(alice.pk)
    assert _stored(alice, bob) == first

    tasks.recompute_patients.delay([alice.pk, bob.pk])
    both = _stored(alice, bob)
    tasks.recompute_patients.delay([alice.pk, bob.pk])
    assert _stored(alice, bob) == both
    alices = [row for row in both[0] if row[0] == alice.pk]
    assert alices == first[0] and len(both[0]) == 2 * len(alices)  # bob's are new, hers unchanged
    assert task_runs[RECOMPUTE] >= 2 and task_runs[RECOMPUTE_MANY] == 2


def test_recompute_tasks_acknowledge_late_and_retry_database_errors():
    """Configuration the two properties above depend on (redelivery, retry with backoff)."""
    from django.db import OperationalError

    for task in (tasks.recompute_patient, tasks.recompute_patients):
        assert task.acks_late is True
        assert OperationalError in task.autoretry_for
        assert task.max_retries and task.retry_backoff


def test_a_stale_summary_stays_readable_until_recomputed(alice):
    save_entry(alice, D0, 5, 5, 5, 5)
    tasks.recompute_patient.delay(alice.pk)
    save_entry(alice, D0 + dt.timedelta(days=1), 5, 5, 5, 5)
    TrendState.objects.filter(patient=alice).update(queued_at=None)

    summary = trend_summary_for(alice)
    assert summary.status == STALE
    assert summary.data["data_end"] == "2024-01-01"


def test_a_task_for_a_deleted_patient_does_nothing(alice, task_runs):
    save_entry(alice, D0, 5, 5, 5, 5)
    patient_id = alice.pk
    alice.delete()

    tasks.recompute_patient.delay(patient_id)

    assert task_runs[RECOMPUTE] == 1
    assert not ResponseSummary.objects.filter(patient_id=patient_id).exists()
