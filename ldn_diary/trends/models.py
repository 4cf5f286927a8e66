from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from ldn_diary.clinical.constants import SYMPTOMS

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


class TrendDay(models.Model):
    """One calendar day of a patient's trends, from their first to their last diary entry.

    Written only by ``trends_recompute_patients`` (delete and re-insert per patient, by COPY on
    PostgreSQL), read through ``ldn_diary.trends.selectors``. A 7-day mean is NULL when fewer
    than 4 of the 7 days were logged; a change is NULL without a valid, non-zero baseline.
    """

    # The natural key is the primary key: no surrogate id, sequence or second index to maintain
    # when the nightly job rewrites a million rows. Its index (patient_id, date) also serves
    # "latest row per patient" (a backward scan) and date ranges for one patient.
    pk = models.CompositePrimaryKey("patient", "date")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="trend_days",
        # The primary key's index leads with patient_id, so a separate FK index would only
        # slow down the bulk rewrite.
        db_index=False,
        # No database FK: PostgreSQL checks one per inserted row (about 3.5 us each, 40 % of
        # the nightly rewrite of a million rows; see bench/README.md). These rows are derived
        # data, Django still deletes them with the patient (on_delete is emulated in Python),
        # and trends_delete_orphans removes any left by a recompute racing that deletion.
        db_constraint=False,
    )
    date = models.DateField()
    # Micrograms in effect that day (0 = stopped); NULL before the first recorded dose.
    dose_ug = models.PositiveIntegerField(null=True, blank=True)
    logged = models.BooleanField(help_text="The patient wrote an entry that day.")
    logged_7 = models.PositiveSmallIntegerField(
        help_text="Days with an entry among the 7 days ending on this one."
    )
    pain_r7 = models.FloatField(null=True, blank=True)
    fatigue_r7 = models.FloatField(null=True, blank=True)
    sleep_r7 = models.FloatField(null=True, blank=True)
    mood_r7 = models.FloatField(null=True, blank=True)
    # Change of the 7-day mean from baseline in %, positive = better for every symptom.
    pain_pct = models.FloatField(null=True, blank=True)
    fatigue_pct = models.FloatField(null=True, blank=True)
    sleep_pct = models.FloatField(null=True, blank=True)
    mood_pct = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(logged_7__lte=7), name="trendday_logged_7_at_most_7"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.date}"

    def rolling(self) -> dict[str, float | None]:
        return {s: getattr(self, f"{s}_r7") for s in SYMPTOMS}

    def change_pct(self) -> dict[str, float | None]:
        return {s: getattr(self, f"{s}_pct") for s in SYMPTOMS}


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
    # their TrendDay rows (days_digests). A recompute that comes out the same leaves the stored
    # rows alone (ldn_diary.trends.storage.PostgresStorage).
    data_digest = models.CharField(max_length=32, blank=True)
    days_digest = models.CharField(max_length=32, blank=True)
    computed_at = models.DateTimeField()
    data_version = models.PositiveBigIntegerField(default=0)
    engine_version = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"summary of {self.patient_id} at version {self.data_version}"
