from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# Dose bounds in micrograms (docs/clinical-rules.md §1): 1 µg ultra-low up to 50 mg; 0 means
# stopped/paused.
MIN_DOSE_UG = 1
MAX_DOSE_UG = 50_000
# The patient may fill in missed days up to this many days back (design; docs/clinical-rules.md §1).
BACKFILL_DAYS = 14
SCORE_FIELDS = ("pain", "fatigue", "sleep", "mood")


class Dreams(models.TextChoices):
    NONE = "none", "None"
    NORMAL = "normal", "Normal"
    VIVID = "vivid", "Vivid"
    NIGHTMARES = "nightmares", "Nightmares"


class SideEffect(models.TextChoices):
    VIVID_DREAMS = "vivid_dreams", "Vivid dreams"
    INSOMNIA = "insomnia", "Insomnia"
    HEADACHE = "headache", "Headache"
    NAUSEA = "nausea", "Nausea"
    ANXIETY = "anxiety", "Anxiety"
    OTHER = "other", "Other"


class DoseTaken(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class TimeOfDay(models.TextChoices):
    BEDTIME = "bedtime", "Bedtime"
    MORNING = "morning", "Morning"


class Formulation(models.TextChoices):
    CAPSULE = "capsule", "Capsule"
    LIQUID = "liquid", "Liquid"
    SUBLINGUAL = "sublingual", "Sublingual"
    CREAM = "cream", "Cream"
    OTHER = "other", "Other"


def _score_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{name}__gte": 0, f"{name}__lte": 10}), name=f"entry_{name}_0_10"
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
    side_effect_other = models.CharField(max_length=200, blank=True)
    dose_taken = models.CharField(max_length=8, choices=DoseTaken.choices, default=DoseTaken.YES)
    note = models.TextField(max_length=2000, blank=True)
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
    dose_ug = models.PositiveIntegerField(help_text="Micrograms per day; 0 means stopped/paused.")
    time_of_day = models.CharField(
        max_length=8, choices=TimeOfDay.choices, default=TimeOfDay.BEDTIME
    )
    formulation = models.CharField(
        max_length=12, choices=Formulation.choices, default=Formulation.CAPSULE
    )
    note = models.CharField(max_length=500, blank=True)
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
                condition=Q(interval_days__gte=1, interval_days__lte=90),
                name="plan_interval_1_90",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_ug} µg + {self.step_ug} µg every {self.interval_days} d to {self.target_ug} µg"
