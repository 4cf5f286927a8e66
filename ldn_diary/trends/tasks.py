"""Celery tasks for trends: each takes ids and calls one service (ldn_diary.trends.services).

Every task here is idempotent (a recompute replaces what it stores), so it acknowledges late:
a worker killed mid-task leaves the message to be redelivered instead of losing it. Database
hiccups are retried with exponential backoff; anything still failing leaves the patient dirty
in TrendState, and the sweep queues it again.
"""

from __future__ import annotations

import os
import socket

from celery import shared_task
from django.db import OperationalError

from .models import RunKind
from .services import (
    trends_batch_compute,
    trends_recompute_queued,
    trends_run_start,
    trends_sweep_outbox,
)

_RETRYING = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(**_RETRYING)
def recompute_patient(patient_id: int) -> None:
    """One patient after a diary or dose write (queued by trends_mark_dirty on commit)."""
    trends_recompute_queued(patient_ids=[patient_id])


@shared_task(**_RETRYING)
def recompute_patients(patient_ids: list[int]) -> None:
    """A list of patients, e.g. those found dirty by the sweep."""
    trends_recompute_queued(patient_ids=patient_ids)


@shared_task
def recompute_all() -> None:
    """Nightly (beat): queue a run of the patients whose diary or engine version changed."""
    trends_run_start(kind=RunKind.NIGHTLY)


@shared_task
def recompute_everyone() -> None:
    """Weekly (beat): queue a run of every patient."""
    trends_run_start(kind=RunKind.WEEKLY)


@shared_task(**_RETRYING)
def recompute_batch(batch_id: int) -> None:
    """One batch of a run; any worker may take it (see services.trends_batch_compute)."""
    trends_batch_compute(batch_id=batch_id, worker=f"{socket.gethostname()}:{os.getpid()}")


@shared_task
def sweep_outbox() -> None:
    """Every few minutes (beat): queue dirty patients whose recompute was never queued or lost."""
    trends_sweep_outbox()
