"""The Celery application; configuration lives in settings under the CELERY_ namespace."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_diary.settings")

app = Celery("ldn_diary")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _import_the_engine_at_start(**_: object) -> None:
    """A worker imports scipy.stats, which the clinical engine loads lazily (about a second),
    when it starts rather than in its first task: the first recompute after a deploy or a
    restart does not pay for it, and with the prefork pool the children share it. Web
    processes still start without it."""
    import scipy.stats  # noqa: F401
