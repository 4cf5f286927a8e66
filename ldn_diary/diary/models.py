from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The rules these models enforce live in rules.py and dosing.py; the database holds the ones that
# must never be broken (one entry per day, scores 0-10, dose bounds). Re-exported here because
# much of the code reads the choices from the models.
from .choices import (
    DoseTaken,
    Dreams,
    Formulation,
    LifeEventKind,
    SideEffect,
    TimeOfDay,
    TreatmentCategory,
)
from .dosing import MAX_DOSE_UG, MIN_DOSE_UG
from .rules import (
    BACKFILL_DAYS,
    DOSE_NOTE_MAX,
    EVENT_TEXT_MAX,
    NOTE_MAX,
    OTHER_TEXT_MAX,
    PLAN_INTERVAL_DAYS,
    SCORE_FIELDS,
    SCORE_MAX,
    SCORE_MIN,
    TREATMENT_NAME_MAX,
    TREATMENT_NOTE_MAX,
)

__all__ = [
    "BACKFILL_DAYS",
    "MAX_DOSE_UG",
    "MIN_DOSE_UG",
    "SCORE_FIELDS",
    "DiaryEntry",
    "DoseChange",
    "DoseTaken",
    "ImportStash",
    "Dreams",
    "Formulation",
    "LifeEvent",
    "LifeEventKind",
    "SideEffect",
    "TimeOfDay",
    "TitrationPlan",
    "Treatment",
    "TreatmentCategory",
]


def _score_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{name}__gte": SCORE_MIN, f"{name}__lte": SCORE_MAX}),
        name=f"entry_{name}_0_10",
    )


class DiaryEntry(models.Model):
    """One day of a patient's diary. The database allows one per patient per local date."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="diary_entries"
    )
    date = models.DateField()
    pain = models.PositiveSmallIntegerField()
    fatigue = models.PositiveSmallIntegerField()
    sleep = models.PositiveSmallIntegerField()
    mood = models.PositiveSmallIntegerField()
    dreams = models.CharField(max_length=12, choices=Dreams.choices, default=Dreams.NONE)
    # A list of SideEffect values; free text for "other" lives in side_effect_other.
    side_effects = models.JSONField(default=list, blank=True)
    side_effect_other = models.CharField(max_length=OTHER_TEXT_MAX, blank=True)
    dose_taken = models.CharField(max_length=8, choices=DoseTaken.choices, default=DoseTaken.YES)
    note = models.TextField(max_length=NOTE_MAX, blank=True)
    # Filled in after the day itself (up to BACKFILL_DAYS back); shown to the clinician as such.
    backfilled = models.BooleanField(default=False)
    # Optimistic concurrency: a save must name the version it edited (two tabs, two phones).
    version = models.PositiveIntegerField(default=1)
    # The idempotency key of the last accepted submission: a retried request is a no-op.
    last_request_key = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "date"], name="one_entry_per_patient_day"),
            *[_score_check(f) for f in SCORE_FIELDS],
            models.CheckConstraint(
                condition=Q(dreams__in=[c.value for c in Dreams]), name="entry_dreams_valid"
            ),
            models.CheckConstraint(
                condition=Q(dose_taken__in=[c.value for c in DoseTaken]),
                name="entry_dose_taken_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.date}"

    @property
    def side_effect_labels(self) -> list[str]:
        labels = dict(SideEffect.choices)
        out = [labels.get(code, code) for code in self.side_effects if code != SideEffect.OTHER]
        if SideEffect.OTHER in self.side_effects:
            out.append(self.side_effect_other or "Other")
        return out


class DoseChange(models.Model):
    """A change of LDN dose, effective from a date until the next change. 0 µg = stopped."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dose_changes"
    )
    effective_date = models.DateField()
    dose_ug = models.PositiveIntegerField(
        help_text=_("Micrograms per day; 0 means stopped/paused.")
    )
    time_of_day = models.CharField(
        max_length=8, choices=TimeOfDay.choices, default=TimeOfDay.BEDTIME
    )
    formulation = models.CharField(
        max_length=12, choices=Formulation.choices, default=Formulation.CAPSULE
    )
    note = models.CharField(max_length=DOSE_NOTE_MAX, blank=True)
    from_plan = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "effective_date"], name="one_dose_change_per_patient_day"
            ),
            models.CheckConstraint(
                condition=Q(dose_ug=0) | Q(dose_ug__gte=MIN_DOSE_UG, dose_ug__lte=MAX_DOSE_UG),
                name="dose_ug_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dose_mg:g} mg from {self.effective_date}"

    @property
    def dose_mg(self) -> float:
        return self.dose_ug / 1000


class TitrationPlan(models.Model):
    """How the patient plans to step up: start, step, interval and target (one per patient)."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="titration_plan"
    )
    start_ug = models.PositiveIntegerField()
    step_ug = models.PositiveIntegerField()
    interval_days = models.PositiveSmallIntegerField()
    target_ug = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start_ug__gte=MIN_DOSE_UG, start_ug__lte=MAX_DOSE_UG),
                name="plan_start_in_range",
            ),
            models.CheckConstraint(
                condition=Q(target_ug__gte=MIN_DOSE_UG, target_ug__lte=MAX_DOSE_UG),
                name="plan_target_in_range",
            ),
            models.CheckConstraint(
                condition=Q(step_ug__gte=MIN_DOSE_UG, step_ug__lte=MAX_DOSE_UG),
                name="plan_step_in_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    interval_days__gte=PLAN_INTERVAL_DAYS.start,
                    interval_days__lte=PLAN_INTERVAL_DAYS.stop - 1,
                ),
                name="plan_interval_1_90",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_ug} µg + {self.step_ug} µg every {self.interval_days} d to {self.target_ug} µg"


# An uploaded file waits this long for the patient to confirm its preview; after that it is
# refused and the periodic purge (ldn_diary.diary.tasks.purge_import_stashes) deletes it.
IMPORT_STASH_TTL = dt.timedelta(hours=1)


class ImportStash(models.Model):
    """A checked CSV upload waiting for the patient to confirm its preview (one per patient).

    Kept server-side so the preview page never sends the data back and what is confirmed is
    what was checked; a new upload replaces it; confirming or cancelling deletes it, and so
    does the purge once it is older than IMPORT_STASH_TTL. The token, rendered into the
    confirm form, is 256 random bits, so an old or forged form confirms nothing.
    """

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_stash"
    )
    token = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"import of {self.patient_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + IMPORT_STASH_TTL


class Treatment(models.Model):
    """Another medicine or therapy beside LDN, from a start date to an optional stop date.

    Recorded because it can explain a change as well as LDN can (a new pregabalin prescription,
    physiotherapy), and because an opioid must not be taken with LDN (rules.opioids_with_ldn).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="treatments"
    )
    name = models.CharField(max_length=TREATMENT_NAME_MAX)
    category = models.CharField(max_length=24, choices=TreatmentCategory.choices)
    start_date = models.DateField()
    # Empty while the patient still takes it; both dates count as days taken.
    stop_date = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=TREATMENT_NOTE_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "name"]
        indexes = [models.Index(fields=["patient", "category"], name="treatment_patient_category")]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=[c.value for c in TreatmentCategory]),
                name="treatment_category_valid",
            ),
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True) | Q(stop_date__gte=models.F("start_date")),
                name="treatment_stop_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.start_date}"

    @property
    def is_opioid(self) -> bool:
        return self.category == TreatmentCategory.OPIOID


class LifeEvent(models.Model):
    """A flare or another life event on a date: context for the trends, never a score."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="life_events"
    )
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=LifeEventKind.choices)
    text = models.CharField(max_length=EVENT_TEXT_MAX, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["patient", "date"], name="life_event_patient_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[c.value for c in LifeEventKind]), name="life_event_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"
