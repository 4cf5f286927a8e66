from __future__ import annotations

from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "ldn_diary.diary"
    label = "diary"
    default_auto_field = "django.db.models.BigAutoField"
