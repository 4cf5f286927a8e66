"""Writes to the trends app: marking results stale, queueing recomputes, and running them.

How a diary write reaches the stored trends:

1. The diary service calls ``trends_mark_dirty`` inside its own transaction. That bumps
   ``TrendState.data_version`` with the write, and the first write of a burst claims the
   ``queued_at`` slot and publishes ``recompute_patient`` on commit (``trends_enqueue``).
2. The task runs ``trends_recompute_queued``: ``trends_recompute_patients`` reads the diary,
   runs the clinical engine (``ldn_diary.clinical.compute_cohort``) and replaces the stored
   ``TrendDay`` rows and ``ResponseSummary`` in one transaction, stamped with the version read
   before the data. Writes that arrived meanwhile leave the patient stale and are queued again.
3. If publishing failed (broker down), the committed write still left the patient dirty, and
   ``trends_sweep_outbox`` (every 5 minutes, and after the nightly ``trends_recompute_all``)
   queues it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass

import numpy as np
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from ldn_diary.accounts.models import Role, User
from ldn_diary.clinical import compute_cohort
from ldn_diary.clinical.constants import ENGINE_VERSION

from .models import COALESCE_SECONDS, QUEUE_TIMEOUT, TrendDay, TrendState
from .storage import storage_for_connection

log = logging.getLogger(__name__)

# Patients per transaction in a full recompute: large enough for COPY and the vectorised engine
# to pay off, small enough that one batch holds its locks for about a second.
RECOMPUTE_BATCH_SIZE = 2000
# Batches in flight at once in a full recompute on PostgreSQL: while one thread runs the engine
# (Python), the other's COPY and UPDATE keep the database busy, so both CPUs work.
RECOMPUTE_THREADS = 2
# Patients per recompute_patients task published by the sweep.
SWEEP_CHUNK = 500


# --------------------------------------------------------------------------------------------------
# Marking dirty and queueing


def trends_mark_dirty(*, patient_id: int) -> None:
    """Record that the patient's diary changed; call inside the writing transaction.

    The version bump is committed with the write itself, so even if publishing the task fails
    (broker down) the patient stays dirty and ``sweep_outbox`` queues the recompute later.
    """
    now = timezone.now()
    TrendState.objects.get_or_create(patient_id=patient_id)
    TrendState.objects.filter(patient_id=patient_id).update(data_version=F("data_version") + 1)
    TrendState.objects.filter(patient_id=patient_id, dirty_since__isnull=True).update(
        dirty_since=now
    )
    # Only the first save of a burst queues a task; the task re-queues itself if more saves
    # arrive while it runs (see trends_recompute_queued).
    claimed = TrendState.objects.filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - dt.timedelta(seconds=COALESCE_SECONDS)),
        patient_id=patient_id,
    ).update(queued_at=now)
    if claimed:
        transaction.on_commit(lambda: trends_enqueue(patient_id=patient_id))


def trends_enqueue(*, patient_id: int, countdown: int = COALESCE_SECONDS) -> bool:
    """Publish a recompute task. Never raises: a dead broker leaves the outbox row dirty."""
    from .tasks import recompute_patient

    try:
        recompute_patient.apply_async(args=[patient_id], countdown=countdown)
    except (KombuOperationalError, OSError):
        # The broker being down must never fail a diary save that is already committed.
        log.warning(
            "Could not queue a trend recompute for patient %s; the sweep will.",
            patient_id,
            exc_info=True,
        )
        TrendState.objects.filter(patient_id=patient_id).update(queued_at=None)
        return False
    return True


def trends_sweep_outbox(*, chunk_size: int = SWEEP_CHUNK) -> int:
    """Queue every dirty patient that has no live queued recompute; return how many.

    Covers writes committed while the broker was down (``trends_enqueue`` cleared their
    ``queued_at``) and tasks lost after publishing (``queued_at`` older than QUEUE_TIMEOUT).
    """
    from .tasks import recompute_patients

    now = timezone.now()
    due = Q(queued_at__isnull=True) | Q(queued_at__lt=now - QUEUE_TIMEOUT)
    with transaction.atomic():
        # skip_locked: a patient being written right now is claimed by that write itself, and
        # two sweeps running at once never claim the same patient.
        patient_ids = list(
            TrendState.objects.select_for_update(skip_locked=True)
            .filter(due, dirty_since__isnull=False)
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
        )
        TrendState.objects.filter(patient_id__in=patient_ids).update(queued_at=now)

    queued = 0
    for start in range(0, len(patient_ids), chunk_size):
        chunk = patient_ids[start : start + chunk_size]
        try:
            recompute_patients.apply_async(args=[chunk])
        except (KombuOperationalError, OSError):
            log.warning(
                "Broker unavailable; %d dirty patients wait for the next sweep.",
                len(patient_ids) - queued,
                exc_info=True,
            )
            TrendState.objects.filter(patient_id__in=patient_ids[start:], queued_at=now).update(
                queued_at=None
            )
            break
        queued += len(chunk)
    return queued


# --------------------------------------------------------------------------------------------------
# Recomputing


@dataclass(frozen=True)
class RecomputeCounts:
    patients: int
    entries: int
    days: int
    # Rows actually written: a recompute leaves rows that came out the same untouched.
    days_written: int = 0
    summaries_written: int = 0

    def __add__(self, other: RecomputeCounts) -> RecomputeCounts:
        return RecomputeCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def trends_recompute_patients(
    *, patient_ids: Iterable[int], force: bool = False, use_copy: bool | None = None
) -> RecomputeCounts:
    """Recompute and store the trends and response summaries of these patients, atomically.

    Reads each table once for the whole set, runs the vectorised engine once, replaces the
    patients' TrendDay rows, updates their ResponseSummary and stamps their TrendState with the
    diary version read before the diary itself (so a write committed meanwhile leaves the
    patient stale, to be recomputed again). On PostgreSQL, rows and summaries that come out
    exactly as stored are left alone, so re-running over an unchanged diary writes little;
    ``force`` rewrites them all the same. ``use_copy`` forces PostgreSQL's COPY path
    (``ldn_diary.trends.storage``) on or off; by default it is used wherever available.
    """
    ids = np.unique(np.fromiter((int(i) for i in patient_ids), dtype=np.int64))
    if len(ids) == 0:
        return RecomputeCounts(0, 0, 0)
    store = storage_for_connection(use_copy=use_copy, force=force)
    id_list = ids.tolist()
    now = timezone.now()
    with transaction.atomic():
        store.begin()
        store.lock(id_list, now)
        versions = store.versions(id_list)
        cohort = store.read(ids)
        result = compute_cohort(cohort)
        days_written = store.replace_days(ids, result)
        summaries_written = store.write_summaries(
            id_list, result.summaries, versions, now, ENGINE_VERSION
        )
        store.stamp(versions, now)
    return RecomputeCounts(
        len(ids),
        len(cohort.entry_day),
        len(result.day_day),
        days_written,
        summaries_written,
    )


def trends_recompute_queued(*, patient_ids: Sequence[int]) -> list[int]:
    """Run queued recomputes, then queue again those written to meanwhile; return those ids.

    A save that arrives while the recompute runs finds ``queued_at`` set. If that claim is
    older than COALESCE_SECONDS the save claims again and queues its own task; otherwise it
    relies on this one, and ``queued_at`` is still at or before ``started`` afterwards.
    """
    started = timezone.now()
    # A patient deleted since the task was queued has nothing left to compute.
    patient_ids = list(User.objects.filter(pk__in=patient_ids).values_list("pk", flat=True))
    trends_recompute_patients(patient_ids=patient_ids)
    requeue: list[int] = []
    for patient_id in patient_ids:
        claimed = TrendState.objects.filter(
            Q(queued_at__isnull=True) | Q(queued_at__lte=started),
            patient_id=patient_id,
            data_version__gt=F("computed_version"),
        ).update(queued_at=timezone.now())
        if claimed:
            requeue.append(patient_id)
    for patient_id in requeue:
        trends_enqueue(patient_id=patient_id)
    return requeue


def trends_recompute_all(
    *,
    batch_size: int = RECOMPUTE_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
    force: bool = False,
    use_copy: bool | None = None,
) -> RecomputeCounts:
    """Recompute every patient, one transaction per batch; ``progress(done, total)`` after each.

    On PostgreSQL, RECOMPUTE_THREADS batches run at once, each on its own connection (the
    batches are disjoint, so they never wait for each other's locks). Inside a transaction, or
    on SQLite, the batches run one after another on this connection.
    """
    patient_ids = list(
        User.objects.filter(role=Role.PATIENT).order_by("pk").values_list("pk", flat=True)
    )
    batches = [
        patient_ids[start : start + batch_size] for start in range(0, len(patient_ids), batch_size)
    ]
    if threads is None:
        threads = RECOMPUTE_THREADS if connection.vendor == "postgresql" else 1
    if connection.in_atomic_block:
        threads = 1  # other connections cannot see the caller's uncommitted rows

    def run(batch: list[int]) -> RecomputeCounts:
        try:
            return trends_recompute_patients(patient_ids=batch, force=force, use_copy=use_copy)
        finally:
            connections.close_all()  # the worker thread's own connection

    total = RecomputeCounts(0, 0, 0)
    if threads > 1 and len(batches) > 1:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="recompute") as pool:
            for counts in pool.map(run, batches):
                total += counts
                if progress is not None:
                    progress(total.patients, len(patient_ids))
        return total
    for batch in batches:
        total += trends_recompute_patients(patient_ids=batch, force=force, use_copy=use_copy)
        if progress is not None:
            progress(total.patients, len(patient_ids))
    return total


def trends_nightly() -> RecomputeCounts:
    """The nightly job: recompute everyone, drop orphaned rows, queue anyone written meanwhile."""
    counts = trends_recompute_all()
    trends_delete_orphans()
    trends_sweep_outbox()
    return counts


def trends_delete_orphans() -> int:
    """Delete trend rows whose patient no longer exists; return how many.

    TrendDay has no database foreign key (see the model), so a recompute that commits just
    after the patient's deletion removed their rows could leave some behind. The nightly job
    clears them; nothing reads them in the meantime (every read goes through a patient).
    """
    return TrendDay.objects.exclude(patient_id__in=User.objects.values("pk")).delete()[0]
