from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.conf import settings
from django.db import models

from ldn_diary.clinical.constants import SYMPTOMS
from ldn_diary.clinical.summary import NO_DAY, SummaryColumns, summary_dict

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
    (on PostgreSQL by one INSERT per batch), read through ``ldn_diary.trends.selectors``, which hands pages the
    days as ``TrendDayRow`` values. What is stored is what the engine counts, small integers:
    each symptom's 7-day total and the baseline's totals. The 7-day means and the changes from
    baseline follow from them on read (``selectors.series_values`` by the engine's own
    ``clinical.trend_values``), bit-identical to the engine's: a 7-day mean needs 4 of the 7
    days logged, and a change a valid baseline. A dose is NO_DOSE (-1) before the first
    recorded dose. The latest day's pain mean and change are columns of their own, so the
    roster reads them without loading the arrays.
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
    # Every entry has all four scores, so each total is over the days logged among the 7.
    pain_total7 = _series("int16", "Sum of pain over the 7 days ending each day.")
    fatigue_total7 = _series("int16", "Sum of fatigue over the 7 days ending each day.")
    sleep_total7 = _series("int16", "Sum of sleep quality over the 7 days ending each day.")
    mood_total7 = _series("int16", "Sum of mood over the 7 days ending each day.")
    base_n = models.PositiveSmallIntegerField(
        help_text="Days logged in the baseline the changes are measured from; 0 = none valid."
    )
    pain_base_total = models.PositiveSmallIntegerField(help_text="Sum of pain in the baseline.")
    fatigue_base_total = models.PositiveSmallIntegerField(
        help_text="Sum of fatigue in the baseline."
    )
    sleep_base_total = models.PositiveSmallIntegerField(help_text="Sum of sleep in the baseline.")
    mood_base_total = models.PositiveSmallIntegerField(help_text="Sum of mood in the baseline.")
    last_pain_r7 = models.FloatField(null=True, blank=True)
    last_pain_pct = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"trends of {self.patient_id} {self.start} to {self.end}"


# TrendSeries' per-symptom columns, in SYMPTOMS order.
TOTAL7_FIELDS = tuple(f"{s}_total7" for s in SYMPTOMS)
BASE_TOTAL_FIELDS = tuple(f"{s}_base_total" for s in SYMPTOMS)


# The summary's per-window columns (ldn_diary.clinical.summary.SummaryColumns' window_* and
# symptom_* fields) and their stored element types. Days are date ordinals (0 = none).
WINDOW_DTYPES = {
    "window_week": "int16",
    "window_start": "int32",
    "window_end": "int32",
    "window_assessed_start": "int32",
    "window_dose_ug": "int32",
    "window_days_logged": "int16",
    "window_valid": "bool",
    "window_adherence": "float64",
    "window_low_adherence": "int16",
    "window_composite": "int16",
}
SYMPTOM_DTYPES = {
    "symptom_mean": "float64",
    "symptom_change_points": "float64",
    "symptom_change_pct": "float64",
    "symptom_class": "int16",
    "symptom_two_point": "int16",
    "symptom_ci_low": "float64",
    "symptom_ci_high": "float64",
    "symptom_beyond_noise": "int16",
    "symptom_tau_u": "float64",
    "symptom_n": "int16",
}
BASELINE_FIELDS = tuple(f"baseline_{s}" for s in SYMPTOMS)


def _window(dtype: str, help_text: str) -> SeriesField:
    # NULL only on a placeholder row (see storage.OrmStorage.lock), which reads as {}.
    return SeriesField(dtype=dtype, help_text=help_text, null=True, blank=True)


class ResponseSummary(models.Model):
    """The engine's response summary for one patient (baseline, week windows, dose phases).

    Stored as typed columns, exactly ``ldn_diary.clinical.summary.SummaryColumns`` for the one
    patient: scalars for the patient, an array per window field (the patient's week windows,
    then their dose phases) and an array per window-and-symptom field (window after window,
    SYMPTOMS order within each). ``data`` rebuilds the dict ``compute_cohort`` describes
    (``clinical.summary_dict``). ``data_version`` is the ``TrendState.data_version`` it was
    computed from, so a reader can tell a stale summary from a current one without touching
    the diary.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="response_summary",
    )
    therapy_start = models.DateField(null=True, blank=True)
    data_start = models.DateField(null=True, blank=True)
    data_end = models.DateField(null=True, blank=True)
    baseline_valid = models.BooleanField(default=False)
    baseline_days = models.PositiveSmallIntegerField(default=0)
    baseline_pain = models.FloatField(null=True, blank=True)
    baseline_fatigue = models.FloatField(null=True, blank=True)
    baseline_sleep = models.FloatField(null=True, blank=True)
    baseline_mood = models.FloatField(null=True, blank=True)
    # The assessed week window's index among the patient's windows; -1 for none.
    assessed = models.SmallIntegerField(default=-1)
    window_week = _window("int16", "Week number of a week window; 0 for a dose phase.")
    window_start = _window("int32", "First day (date ordinal).")
    window_end = _window("int32", "Last day (date ordinal).")
    window_assessed_start = _window("int32", "A phase's settled tail: first day, 0 = none.")
    window_dose_ug = _window("int32", "A phase's dose; -1 for a week window.")
    window_days_logged = _window("int16", "Days with an entry in the assessed days.")
    window_valid = _window("bool", "Enough days logged to classify.")
    window_adherence = _window("float64", "Share of answered days with the dose taken.")
    window_low_adherence = _window("int16", "1 = yes, 0 = no, -1 = not assessable.")
    window_composite = _window("int16", "Composite responder: 1, 0 or -1 (not assessable).")
    symptom_mean = _window("float64", "Mean per window and symptom.")
    symptom_change_points = _window("float64", "Change from baseline in points.")
    symptom_change_pct = _window("float64", "Change from baseline in %.")
    symptom_class = _window("int16", "0 = no class, else 1 + the index in CLASS_LABELS.")
    symptom_two_point = _window("int16", "Two-point change: 1, 0 or -1.")
    symptom_ci_low = _window("float64", "95 % interval of the change, low end.")
    symptom_ci_high = _window("float64", "95 % interval of the change, high end.")
    symptom_beyond_noise = _window("int16", "Beyond day-to-day variation: 1, 0 or -1.")
    symptom_tau_u = _window("float64", "Tau-U against the baseline.")
    symptom_n = _window("int16", "Values in the window.")
    # Fingerprints of what is stored for the patient: the summary columns above (summary
    # digests in storage.py), and their TrendSeries row (days_digests). A recompute that comes
    # out the same leaves the stored rows alone (ldn_diary.trends.storage.PostgresStorage).
    data_digest = models.CharField(max_length=32, blank=True)
    days_digest = models.CharField(max_length=32, blank=True)
    computed_at = models.DateTimeField()
    data_version = models.PositiveBigIntegerField(default=0)
    engine_version = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"summary of {self.patient_id} at version {self.data_version}"

    @property
    def is_placeholder(self) -> bool:
        """The row a first recompute locks before it has a result (never committed as such)."""
        return self.window_week is None

    def columns(self) -> SummaryColumns:
        """The stored summary as the engine's columns, for one patient."""
        if self.is_placeholder:
            raise ValueError("a placeholder summary has no columns")
        n_windows = len(self.window_week)
        means = [getattr(self, name) for name in BASELINE_FIELDS]
        return SummaryColumns(
            therapy_start=np.array([_ordinal(self.therapy_start)], dtype=np.int64),
            data_start=np.array([_ordinal(self.data_start)], dtype=np.int64),
            data_end=np.array([_ordinal(self.data_end)], dtype=np.int64),
            baseline_valid=np.array([self.baseline_valid], dtype=bool),
            baseline_days=np.array([self.baseline_days], dtype=np.int64),
            baseline_mean=np.array([[np.nan if m is None else m for m in means]]),
            assessed=np.array([self.assessed], dtype=np.int64),
            window_bounds=np.array([0, n_windows], dtype=np.int64),
            **{name: _canonical(getattr(self, name)) for name in WINDOW_DTYPES},
            **{
                name: _canonical(getattr(self, name)).reshape(n_windows, len(SYMPTOMS))
                for name in SYMPTOM_DTYPES
            },
        )

    @property
    def data(self) -> dict[str, Any]:
        """The summary dict (``clinical.summary_dict``); {} for a placeholder row."""
        return {} if self.is_placeholder else summary_dict(self.columns(), 0)


def _ordinal(day: dt.date | None) -> int:
    return NO_DAY if day is None else day.toordinal()


def _canonical(values: np.ndarray) -> np.ndarray:
    """A stored array in the engine's dtype: int64, float64 or bool."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    return values


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
