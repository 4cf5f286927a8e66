"""Celery tasks for support groups: each takes ids and calls one service.

``compute_release`` is idempotent (a release that is no longer computing is left alone), so it
acknowledges late and retries database hiccups with backoff; when it finally gives up, the
release is marked failed so the moderator's page stops saying "computing".
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import release_compute, release_fail


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=5 * 60,
    retry_jitter=True,
    max_retries=6,
)
def compute_release(release_id: int) -> None:
    """Compute one requested release (queued by services.release_request on commit)."""
    try:
        release_compute(release_id=release_id)
    except OperationalError:
        raise
    except Exception:
        release_fail(release_id=release_id)
        raise
