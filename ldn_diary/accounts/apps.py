from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ldn_diary.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the login signal that records when this session last checked the password.
        from . import twofactor  # noqa: F401
        from .audit import connect_celery_signals

        connect_celery_signals()
