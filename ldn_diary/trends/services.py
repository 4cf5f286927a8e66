"""Writes to the trends app: marking results stale, queueing recomputes, and running them.

How a diary write reaches the stored trends:

1. The diary service calls ``trends_mark_dirty`` inside its own transaction. That bumps
   ``TrendState.data_version`` with the write, and the first write of a burst claims the
   ``queued_at`` slot and publishes ``recompute_patient`` on commit (``trends_enqueue``).
2. The task runs ``trends_recompute_queued``: ``trends_recompute_patients`` reads the diary,
   runs the clinical engine (``ldn_diary.clinical.compute_cohort``) and replaces the stored
   ``TrendSeries`` row and ``ResponseSummary`` in one transaction, stamped with the version read
   before the data. Writes that arrived meanwhile leave the patient stale and are queued again.
3. If publishing failed (broker down), the committed write still left the patient dirty, and
   ``trends_sweep_outbox`` (every 5 minutes, and at the end of each nightly or weekly run)
   queues it.

The big jobs (``trends_run_start``): nightly, the patients whose diary or engine version
changed; weekly, everyone. A run is split into batches of RUN_BATCH_SIZE patients, each its own
task, so every worker process on every machine takes a share. ``trends_recompute_all`` does the
same work in this process (the ``recompute_trends --all`` command, the benchmark).

One patient's data never blocks the others in a batch: a patient whose days lie outside the
diary's bounds (``diary.rules.EARLIEST_DATE`` to today; old rows may predate that rule), or
whose diary makes the engine fail, is left out, logged by id only and marked failed in
``TrendState``; the rest of the batch is computed and stored. The sweep retries a failed
patient after ``FAILURE_RETRY``, and any new write of theirs retries at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, fields

import numpy as np
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from ldn_diary.accounts.models import Role, User
from ldn_diary.clinical import CohortInput, CohortResult, compute_cohort
from ldn_diary.clinical.constants import ENGINE_VERSION
from ldn_diary.clinical.summary import concat_summaries
from ldn_diary.diary.rules import EARLIEST_DATE

from .models import (
    COALESCE_SECONDS,
    FAILURE_RETRY,
    QUEUE_TIMEOUT,
    RecomputeBatch,
    RecomputeRun,
    ResponseSummary,
    RunKind,
    TrendSeries,
    TrendState,
)
from .storage import storage_for_connection

log = logging.getLogger(__name__)

# Patients per transaction in a full recompute: large enough for the batch-wide statements and
# the vectorised engine to pay off, small enough that one batch holds its locks for well under a
# second and that the batches share the threads evenly (10 000 patients in 2 000s left one
# thread idle for the fifth batch: 1.33x the SQL baseline against 1.09x in 1 000s; bench/README).
RECOMPUTE_BATCH_SIZE = 1000
# Batches in flight at once in a full recompute on PostgreSQL: while one thread runs the engine
# (Python), the other's statements keep the database busy, so both CPUs work.
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
    due = (Q(queued_at__isnull=True) | Q(queued_at__lt=now - QUEUE_TIMEOUT)) & (
        Q(failed_at__isnull=True) | Q(failed_at__lt=now - FAILURE_RETRY)
    )
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
    # Patients left out because their data broke the engine (marked failed in TrendState).
    failed: int = 0

    def __add__(self, other: RecomputeCounts) -> RecomputeCounts:
        return RecomputeCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def trends_recompute_patients(
    *, patient_ids: Iterable[int], force: bool = False, use_postgres: bool | None = None
) -> RecomputeCounts:
    """Recompute and store the trends and response summaries of these patients, atomically.

    Reads each table once for the whole set, runs the vectorised engine once, replaces the
    patients' TrendSeries rows, updates their ResponseSummary and stamps their TrendState with the
    diary version read before the diary itself (so a write committed meanwhile leaves the
    patient stale, to be recomputed again). On PostgreSQL, rows and summaries that come out
    exactly as stored are left alone, so re-running over an unchanged diary writes little;
    ``force`` rewrites them all the same. ``use_postgres`` forces PostgreSQL's own path
    (``ldn_diary.trends.storage``) on or off; by default it is used wherever available.
    """
    ids = np.unique(np.fromiter((int(i) for i in patient_ids), dtype=np.int64))
    if len(ids) == 0:
        return RecomputeCounts(0, 0, 0)
    store = storage_for_connection(use_postgres=use_postgres, force=force)
    now = timezone.now()
    with transaction.atomic():
        versions, cohort = store.read(ids, now)
        ok_ids, result, failures = compute_isolating(ids, cohort, latest=now.date())
        days_written = summaries_written = 0
        if len(ok_ids):
            ok_versions = {pid: versions[pid] for pid in ok_ids.tolist()}
            days_written, summaries_written = store.write(
                ok_ids, result, ok_versions, now, ENGINE_VERSION
            )
        if failures:
            _mark_failed(failures, now)
    return RecomputeCounts(
        len(ids),
        len(cohort.entry_day),
        len(result.day_day),
        days_written,
        summaries_written,
        len(failures),
    )


def _mark_failed(failures: dict[int, str], now: dt.datetime) -> None:
    """Record failed patients: still dirty, not queued (the sweep retries after FAILURE_RETRY).

    Logged by patient id and reason only: no diary value reaches the log.
    """
    by_reason: dict[str, list[int]] = {}
    for patient_id, reason in sorted(failures.items()):
        by_reason.setdefault(reason, []).append(patient_id)
        log.error(
            "Trend recompute failed for patient %s (%s); the others in the batch were stored, "
            "and the sweep retries this one.",
            patient_id,
            reason,
        )
    for reason, pids in by_reason.items():
        TrendState.objects.filter(patient_id__in=pids).update(
            failed_at=now, failure=reason[:80], queued_at=None
        )
    # The lock step gave a first-time patient a placeholder summary; one that was never filled
    # in must not look like a result.
    ResponseSummary.objects.filter(patient_id__in=list(failures), engine_version="").delete()


# --------------------------------------------------------------------------------------------------
# Isolating a patient whose data breaks the engine

OUT_OF_RANGE = "dates_out_of_range"


def compute_isolating(
    ids: np.ndarray, cohort: CohortInput, *, latest: dt.date
) -> tuple[np.ndarray, CohortResult, dict[int, str]]:
    """Run the engine over the cohort, leaving out any patient it cannot compute.

    Returns the ids computed (sorted), their result, and {patient id: reason} for the rest.
    First, a patient with any day before ``diary.rules.EARLIEST_DATE`` or after ``latest`` + 1
    (no time zone's today is later) is refused, because such days make the engine count days
    back past year 1 or lay out millions of calendar days. Then, should the engine still raise
    for the batch, it is split in halves until the failing patients are alone (a few extra
    engine runs, only when something is wrong).
    """
    lo, hi = EARLIEST_DATE.toordinal(), latest.toordinal() + 1
    bad = np.zeros(len(ids), dtype=bool)
    for patient, day in (
        (cohort.entry_patient, cohort.entry_day),
        (cohort.dose_patient, cohort.dose_day),
    ):
        outside = (day < lo) | (day > hi)
        bad[patient[outside]] = True
    failures = {int(ids[p]): OUT_OF_RANGE for p in np.flatnonzero(bad)}
    keep = ~bad
    if bad.any():
        ids, cohort = ids[keep], _subset(cohort, keep)
    parts, errors = _compute_or_split(ids, cohort)
    failures.update(errors)
    if not parts:
        return ids[:0], compute_cohort(_subset(cohort, np.zeros(len(ids), dtype=bool))), failures
    return *_merge(parts), failures


def _compute_or_split(
    ids: np.ndarray, cohort: CohortInput
) -> tuple[list[tuple[np.ndarray, CohortResult]], dict[int, str]]:
    try:
        return [(ids, compute_cohort(cohort))], {}
    except Exception as exc:  # whatever one patient's data makes the engine raise
        if len(ids) == 1:
            return [], {int(ids[0]): type(exc).__name__}
    half = len(ids) // 2
    parts: list[tuple[np.ndarray, CohortResult]] = []
    failures: dict[int, str] = {}
    for part in (np.arange(len(ids)) < half, np.arange(len(ids)) >= half):
        done, failed = _compute_or_split(ids[part], _subset(cohort, part))
        parts += done
        failures.update(failed)
    return parts, failures


def _subset(cohort: CohortInput, keep: np.ndarray) -> CohortInput:
    """The cohort's rows of the patients where ``keep`` (one flag per patient) is set."""
    index = np.cumsum(keep) - 1
    entries, doses = keep[cohort.entry_patient], keep[cohort.dose_patient]
    return CohortInput(
        n_patients=int(keep.sum()),
        entry_patient=index[cohort.entry_patient[entries]],
        entry_day=cohort.entry_day[entries],
        entry_values=cohort.entry_values[entries],
        dose_patient=index[cohort.dose_patient[doses]],
        dose_day=cohort.dose_day[doses],
        dose_ug=cohort.dose_ug[doses],
    )


def _merge(parts: list[tuple[np.ndarray, CohortResult]]) -> tuple[np.ndarray, CohortResult]:
    """Results of consecutive parts of a cohort (in id order) as one result."""
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [len(ids) for ids, _ in parts[:-1]])
    merged: dict[str, object] = {}
    for f in fields(CohortResult):
        if f.name == "summary":
            merged[f.name] = concat_summaries([result.summary for _, result in parts])
        elif f.name == "day_patient":
            merged[f.name] = np.concatenate(
                [r.day_patient + off for (_, r), off in zip(parts, offsets, strict=True)]
            )
        else:
            merged[f.name] = np.concatenate([getattr(r, f.name) for _, r in parts])
    return np.concatenate([ids for ids, _ in parts]), CohortResult(**merged)  # type: ignore[arg-type]


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
        # A patient who just failed is not queued again at once (that would loop): the sweep
        # retries them after FAILURE_RETRY.
        claimed = TrendState.objects.filter(
            Q(queued_at__isnull=True) | Q(queued_at__lte=started),
            patient_id=patient_id,
            data_version__gt=F("computed_version"),
            failed_at__isnull=True,
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
    use_postgres: bool | None = None,
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
            return trends_recompute_patients(
                patient_ids=batch, force=force, use_postgres=use_postgres
            )
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
        total += trends_recompute_patients(
            patient_ids=batch, force=force, use_postgres=use_postgres
        )
        if progress is not None:
            progress(total.patients, len(patient_ids))
    return total


# --------------------------------------------------------------------------------------------------
# The big jobs: runs fanned out as batch tasks

# Patients per batch task in a run: large enough for the batch-wide statements and the vectorised
# engine to pay off (about a second of work), small enough that a run of 10 000 patients spreads over workers.
RUN_BATCH_SIZE = 1000


def trends_run_patients(*, kind: str) -> list[int]:
    """The patients a run recomputes, in id order.

    Weekly: every patient. Nightly: those whose diary changed since their trends were computed
    (a data version ahead, or still marked dirty) and those whose stored summary comes from
    another engine version (or who have none yet); an unchanged patient is not read at all.
    """
    patients = User.objects.filter(role=Role.PATIENT)
    if kind == RunKind.NIGHTLY:
        changed = Q(trend_state__data_version__gt=F("trend_state__computed_version")) | Q(
            trend_state__dirty_since__isnull=False
        )
        other_engine = Q(trend_state__isnull=False) & ~Q(
            response_summary__engine_version=ENGINE_VERSION
        )
        patients = patients.filter(changed | other_engine)
    return list(patients.order_by("pk").values_list("pk", flat=True).distinct())


def trends_run_start(
    *, kind: str, batch_size: int = RUN_BATCH_SIZE, queue: str | None = None
) -> RecomputeRun:
    """Start a nightly or weekly run: its patients split into batches, one task per batch.

    The tasks are published on commit; any number of worker processes (on any machine) take
    them from the broker, so more workers finish a run sooner. The last batch to finish
    deletes orphaned rows and sweeps the outbox. Without a broker (development, tests) the
    tasks run here, one after another. ``queue`` routes the tasks (tests, benchmarks).
    """
    from .tasks import recompute_batch

    patient_ids = trends_run_patients(kind=kind)
    chunks = [
        patient_ids[start : start + batch_size] for start in range(0, len(patient_ids), batch_size)
    ]
    with transaction.atomic():
        run = RecomputeRun.objects.create(
            kind=kind, started_at=timezone.now(), patients=len(patient_ids), batches=len(chunks)
        )
        batches = RecomputeBatch.objects.bulk_create(
            [RecomputeBatch(run=run, number=n, patient_ids=chunk) for n, chunk in enumerate(chunks)]
        )
        batch_ids = [batch.pk for batch in batches]

        def publish() -> None:
            if not batch_ids:
                _run_finished(run.pk)
            for batch_id in batch_ids:
                try:
                    recompute_batch.apply_async(args=[batch_id], queue=queue)
                except (KombuOperationalError, OSError):
                    # The batch stays unclaimed; its dirty patients wait for the sweep, the
                    # rest for the next run.
                    log.warning("Could not queue batch %s of a trends run.", batch_id)

        transaction.on_commit(publish)
    return run


def trends_batch_compute(*, batch_id: int, worker: str) -> bool:
    """Claim a run's batch and compute it; False when another worker has it or it is done.

    The claim is one conditional UPDATE, so two workers handed the same message (a redelivery
    after a lost acknowledgement) never both compute it. A claim older than QUEUE_TIMEOUT is
    presumed lost with its worker and may be taken again; a batch that raises is released, so
    the task's retry can claim it.
    """
    now = timezone.now()
    claimed = RecomputeBatch.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - QUEUE_TIMEOUT),
        pk=batch_id,
        done_at__isnull=True,
    ).update(claimed_by=worker[:200], claimed_at=now)
    if not claimed:
        return False
    batch = RecomputeBatch.objects.get(pk=batch_id)
    try:
        # A patient deleted since the run started has nothing left to compute.
        ids = list(User.objects.filter(pk__in=batch.patient_ids).values_list("pk", flat=True))
        counts = trends_recompute_patients(patient_ids=ids)
    except BaseException:
        RecomputeBatch.objects.filter(pk=batch_id).update(claimed_by="", claimed_at=None)
        raise
    with transaction.atomic():
        RecomputeBatch.objects.filter(pk=batch_id).update(done_at=timezone.now())
        RecomputeRun.objects.filter(pk=batch.run_id).update(
            batches_done=F("batches_done") + 1, failed=F("failed") + counts.failed
        )
    _run_finished(batch.run_id)
    return True


def _run_finished(run_id: int) -> None:
    """Close the run if every batch is done (only one caller wins), then tidy up after it."""
    closed = RecomputeRun.objects.filter(
        pk=run_id, batches_done__gte=F("batches"), finished_at__isnull=True
    ).update(finished_at=timezone.now())
    if closed:
        trends_delete_orphans()
        trends_sweep_outbox()


def trends_delete_orphans() -> int:
    """Delete trend rows whose patient no longer exists; return how many.

    TrendSeries has no database foreign key (see the model), so a recompute that commits just
    after the patient's deletion removed their row could leave one behind. The nightly job
    clears them; nothing reads them in the meantime (every read goes through a patient).
    """
    return TrendSeries.objects.exclude(patient_id__in=User.objects.values("pk")).delete()[0]
