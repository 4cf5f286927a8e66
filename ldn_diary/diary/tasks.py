"""Celery tasks for the diary: each calls one service (ldn_diary.diary.services)."""

from __future__ import annotations

from celery import shared_task

from .services import import_stash_purge


@shared_task
def purge_import_stashes() -> int:
    """Beat, every few minutes: delete uploads whose preview was never confirmed in time."""
    return import_stash_purge()
