from __future__ import annotations

from django.apps import AppConfig


class QuestionnairesConfig(AppConfig):
    name = "ldn_diary.questionnaires"
    label = "questionnaires"
    default_auto_field = "django.db.models.BigAutoField"
