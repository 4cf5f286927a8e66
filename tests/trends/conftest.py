"""Fixtures for the trends tests: diary writes, Celery configuration, counting task runs.

``save_entry`` and ``change_dose`` write through the diary's own services, which mark the
patient's trends dirty in the same transaction, exactly as the web pages do.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery.signals import task_prerun

from ldn_diary.accounts.models import User
from ldn_diary.celery import app
from ldn_diary.diary.models import DiaryEntry, DoseChange, Dreams
from ldn_diary.diary.services import dose_change_add, entry_save

# A port nothing listens on: connecting is refused at once, like a broker that is down.
DEAD_BROKER = "redis://127.0.0.1:1/0"


def save_entry(
    patient: User, day: dt.date, pain: int, fatigue: int, sleep: int, mood: int
) -> DiaryEntry:
    """Write the day's entry as the patient would on that day (so any date may be used)."""
    version = (
        DiaryEntry.objects.filter(patient=patient, date=day)
        .values_list("version", flat=True)
        .first()
    )
    entry, _ = entry_save(
        patient=patient,
        date=day,
        pain=pain,
        fatigue=fatigue,
        sleep=sleep,
        mood=mood,
        dreams=Dreams.NONE,
        version=version,
        request_key=None,
        today=day,
    )
    return entry


def change_dose(patient: User, day: dt.date, dose_ug: int) -> DoseChange:
    return dose_change_add(patient=patient, effective_date=day, dose_ug=dose_ug, today=day)


@contextmanager
def celery_conf(**conf: Any) -> Iterator[None]:
    """Change the Celery app's configuration for a block, e.g. its broker or eager mode.

    Celery prefers the CELERY_BROKER_URL environment variable to its configuration, so that is
    overridden too. The broker connection and producer pools are built once and cached on the
    app, so they are dropped on the way in and out (as Celery itself does after a fork).
    """
    old = {key: app.conf[key] for key in conf}
    old_env = os.environ.get("CELERY_BROKER_URL")

    def drop_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.update(conf)
    if "broker_url" in conf:
        os.environ["CELERY_BROKER_URL"] = conf["broker_url"]
    drop_pools()
    try:
        yield
    finally:
        app.conf.update(old)
        if old_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_env
        drop_pools()


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    """Run tasks in-process whatever CELERY_BROKER_URL says; tests that need the broker opt out.

    Without this, a run with CELERY_BROKER_URL set would leave every queued recompute in Redis
    with no worker to run it.
    """
    with celery_conf(task_always_eager=True, task_eager_propagates=True):
        yield


@pytest.fixture
def task_runs() -> Iterator[Counter[str]]:
    """Counts task executions by name (eager runs too), through Celery's own signal."""
    runs: Counter[str] = Counter()

    def count(sender: Any = None, **_: Any) -> None:
        runs[sender.name] += 1

    task_prerun.connect(count, weak=False)
    try:
        yield runs
    finally:
        task_prerun.disconnect(count)


def stored_days(patient_ids: list[int]) -> list[tuple[Any, ...]]:
    """Every stored trend day of these patients, as (patient id, date, dose, logged, logged_7,
    four 7-day means, four changes), in patient and date order."""
    from dataclasses import astuple

    from ldn_diary.trends.models import TrendSeries
    from ldn_diary.trends.selectors import series_days

    return [
        (series.patient_id, *astuple(row))
        for series in TrendSeries.objects.filter(patient_id__in=patient_ids).order_by("pk")
        for row in series_days(series)
    ]


def stored_day(patient: User, day: dt.date) -> Any:
    """The patient's stored trend day (a ``TrendDayRow``), or None."""
    from ldn_diary.trends.selectors import trend_days_for

    days = trend_days_for(patient, day, day)
    return days[0] if days else None


def stored_summaries(patient_ids: list[int]) -> list[tuple[Any, ...]]:
    """Every stored summary column of these patients (arrays as their bytes, so NaN compares
    equal to itself), with the dict it reads as, in patient order."""
    import numpy as np

    from ldn_diary.trends.models import ResponseSummary

    return [
        (
            *(
                value.tobytes() if isinstance(value, np.ndarray) else value
                for value in (
                    getattr(summary, f.attname) for f in ResponseSummary._meta.concrete_fields
                )
            ),
            summary.data,
        )
        for summary in ResponseSummary.objects.filter(patient_id__in=patient_ids).order_by("pk")
    ]
