from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "ldn_diary.reminders"
    label = "reminders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the VAPID key check)
