"""The Celery application; configuration lives in settings under the CELERY_ namespace."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_diary.settings")

app = Celery("ldn_diary")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
