"""Start-up check that the VAPID keys in the environment are a pair (``manage.py check``, and
every ``runserver``/``migrate``), so a typo shows at deploy time, not at the first push."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from . import keys


@register()
def vapid_keys_match(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not settings.VAPID_PUBLIC_KEY:
        return []
    problem = keys.problem(settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY)
    if problem is None:
        return []
    return [
        Error(problem, hint="`python manage.py vapid_keys` prints a new pair.", id="reminders.E001")
    ]
