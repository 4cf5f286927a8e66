from __future__ import annotations

from django.apps import AppConfig


class TrendsConfig(AppConfig):
    name = "ldn_diary.trends"
    label = "trends"
    default_auto_field = "django.db.models.BigAutoField"
