from __future__ import annotations

from django.conf import settings
from django.db import models


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

    class Meta:
        indexes = [
            models.Index(
                fields=["dirty_since"],
                name="trendstate_dirty_idx",
                condition=models.Q(dirty_since__isnull=False),
            )
        ]

    @property
    def is_stale(self) -> bool:
        return self.computed_version < self.data_version
