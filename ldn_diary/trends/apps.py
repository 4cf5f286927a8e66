from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _mark_dirty(sender: object, *, patient_id: int, **kwargs: Any) -> None:
    from .services import trends_mark_dirty

    trends_mark_dirty(patient_id=patient_id)


class TrendsConfig(AppConfig):
    name = "ldn_diary.trends"
    label = "trends"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every diary write marks the patient's trends stale in the same transaction (the
        # outbox; see trends.services). The diary sends the signal and knows nothing of trends.
        from ldn_diary.diary.signals import diary_changed

        diary_changed.connect(_mark_dirty, dispatch_uid="trends-mark-dirty")
        # TrendSeries arrays go to PostgreSQL in binary, encoded by numpy (trends.arrays).
        import psycopg

        from .arrays import register

        register(psycopg)
