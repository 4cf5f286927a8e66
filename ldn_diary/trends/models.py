from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.conf import settings
from django.db import models

from . import arrays

# What "queued" means for a TrendState row, read by the services that queue recomputes and by
# the selectors that report a summary's status:
# a burst of saves within this many seconds shares one queued recompute (coalescing);
COALESCE_SECONDS = 5
# a recompute queued this long ago and still not done is presumed lost (broker restarted, worker
# killed): the sweep queues it again, and the selectors stop calling it "computing".
QUEUE_TIMEOUT = dt.timedelta(minutes=10)
# A patient whose recompute failed (their data broke the engine) is retried by the sweep only
# after this long, so one bad diary cannot keep a worker busy; a new write retries at once.
FAILURE_RETRY = dt.timedelta(hours=1)


class TrendState(models.Model):
    """Per patient: which version of the diary the stored trends were computed from.

    Every diary or dose write bumps ``data_version`` in the same transaction (see
    ``ldn_diary.trends.services.trends_mark_dirty``). Stored results are stale while
    ``computed_version < data_version``. The row doubles as the recompute outbox: if the broker
    was down when a write was committed, the periodic sweep finds the dirty row and queues it.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="trend_state",
    )
    data_version = models.PositiveBigIntegerField(default=0)
    computed_version = models.PositiveBigIntegerField(default=0)
    dirty_since = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # The last recompute could not compute this patient (see services.trends_recompute_patients):
    # when, and a short reason ("dates_out_of_range" or the error's class name, never data).
    # Cleared by the next recompute that succeeds.
    failed_at = models.DateTimeField(null=True, blank=True)
    # A database default too: PostgresStorage inserts states with raw SQL naming older columns.
    failure = models.CharField(max_length=80, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["dirty_since"],
                name="trendstate_dirty_idx",
                condition=models.Q(dirty_since__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return (
            f"trends of {self.patient_id}: computed {self.computed_version} of {self.data_version}"
        )

    @property
    def is_stale(self) -> bool:
        return self.computed_version < self.data_version


class SeriesField(models.Field):
    """A one-dimensional numpy array: a PostgreSQL array, or its bytes on SQLite (see arrays)."""

    def __init__(self, *args: Any, dtype: str, **kwargs: Any) -> None:
        self.dtype = dtype
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, {**kwargs, "dtype": self.dtype}

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "postgresql":
            return f"{arrays.ELEMENTS[self.dtype][0]}[]"
        return "blob"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> np.ndarray | None:
        return None if value is None else arrays.from_db(value, self.dtype)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        values = np.asarray(value, dtype=self.dtype)
        if connection.vendor == "postgresql":
            # Django binds parameters as text on the client; a list is what psycopg adapts.
            return values.tolist()
        return arrays.to_bytes(values)


def _series(dtype: str, help_text: str) -> SeriesField:
    return SeriesField(dtype=dtype, help_text=help_text)


class TrendSeries(models.Model):
    """A patient's daily trends, from their first to their last diary entry, as one row.

    Element i of every array is day ``start + i``. Written only by ``trends_recompute_patients``
    (on PostgreSQL by COPY), read through ``ldn_diary.trends.selectors``, which hands pages the
    days as ``TrendDayRow`` values. A 7-day mean is NaN when fewer than 4 of the 7 days were
    logged; a change is NaN without a valid, non-zero baseline; a dose is NO_DOSE (-1) before
    the first recorded dose. The latest day's pain mean and change are columns of their own, so
    the roster reads them without loading the arrays.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="trend_series",
        # No database FK: these rows are derived data rewritten in bulk; Django still deletes
        # them with the patient (on_delete is emulated in Python), and trends_delete_orphans
        # removes any left by a recompute racing that deletion.
        db_constraint=False,
    )
    start = models.DateField()
    end = models.DateField()
    dose_ug = _series("int32", "Micrograms in effect each day (0 = stopped, -1 = no dose yet).")
    logged = _series("bool", "The patient wrote an entry that day.")
    logged_7 = _series("int16", "Days with an entry among the 7 days ending on each day.")
    pain_r7 = _series("float64", "7-day mean of pain.")
    fatigue_r7 = _series("float64", "7-day mean of fatigue.")
    sleep_r7 = _series("float64", "7-day mean of sleep quality.")
    mood_r7 = _series("float64", "7-day mean of mood.")
    # Change of the 7-day mean from baseline in %, positive = better for every symptom.
    pain_pct = _series("float64", "Change of the pain mean from baseline, %.")
    fatigue_pct = _series("float64", "Change of the fatigue mean from baseline, %.")
    sleep_pct = _series("float64", "Change of the sleep mean from baseline, %.")
    mood_pct = _series("float64", "Change of the mood mean from baseline, %.")
    last_pain_r7 = models.FloatField(null=True, blank=True)
    last_pain_pct = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"trends of {self.patient_id} {self.start} to {self.end}"


class ResponseSummary(models.Model):
    """The engine's response summary for one patient (baseline, week windows, dose phases).

    ``data`` is exactly the dict ``ldn_diary.clinical.compute_cohort`` returns for the patient;
    ``data_version`` is the ``TrendState.data_version`` it was computed from, so a reader can
    tell a stale summary from a current one without touching the diary.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="response_summary",
    )
    data = models.JSONField(default=dict)
    # Fingerprints of what is stored for the patient: ``data`` as encode_summary writes it, and
    # their TrendSeries row (days_digests). A recompute that comes out the same leaves the stored
    # rows alone (ldn_diary.trends.storage.PostgresStorage).
    data_digest = models.CharField(max_length=32, blank=True)
    days_digest = models.CharField(max_length=32, blank=True)
    computed_at = models.DateTimeField()
    data_version = models.PositiveBigIntegerField(default=0)
    engine_version = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"summary of {self.patient_id} at version {self.data_version}"


class RunKind(models.TextChoices):
    NIGHTLY = "nightly", "Nightly: patients whose diary or the engine changed"
    WEEKLY = "weekly", "Weekly: everyone"


class RecomputeRun(models.Model):
    """One big recompute (the nightly or the weekly job), split into ``RecomputeBatch`` tasks
    that any number of worker processes share (``services.trends_run_start``)."""

    kind = models.CharField(max_length=16, choices=RunKind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    patients = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk}: {self.batches_done} of {self.batches} batches"


class RecomputeBatch(models.Model):
    """Some patients of a run, computed by one task. A worker claims the batch before computing
    it, so a redelivered message (acks_late) never computes its patients a second time."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="batch_rows")
    number = models.PositiveIntegerField()
    patient_ids = models.JSONField(default=list)
    # Who computed it: the worker's host name and process id (for the logs and the tests).
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_batch_number_per_run")
        ]

    def __str__(self) -> str:
        return f"batch {self.number} of run {self.run_id}"
