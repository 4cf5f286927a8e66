from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .schedule import ACR2016, FIQR, PGIC, SCHEDULE


class Instrument(models.TextChoices):
    FIQR = FIQR, "FIQR"
    ACR2016 = ACR2016, "ACR 2016 criteria"
    PGIC = PGIC, "PGIC"


class QuestionnaireResponse(models.Model):
    """One patient's answers to one questionnaire for one scheduled week.

    Saved a part at a time (a draft) until finished (``completed_at``); ``dismissed_at`` hides
    the entry page's card for this week only. The answers' format is in ``rules``; scores are
    worked out from them on reading, by ``ldn_diary.clinical``, so they always follow its rules.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="questionnaire_responses"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    week = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["week", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument", "week"], name="one_response_per_week"
            ),
            # Only the scheduled (instrument, week) pairs: FIQR and ACR at 0/4/8/12, PGIC at
            # 4/8/12 (schedule.SCHEDULE).
            models.CheckConstraint(
                condition=Q(
                    *[Q(instrument=code, week__in=weeks) for code, weeks in SCHEDULE.items()],
                    _connector=Q.OR,
                ),
                name="response_scheduled_week",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} week {self.week} of {self.patient_id}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None
