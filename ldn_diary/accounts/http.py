"""The request type of views that require a signed-in user, for the type checker.

``login_required`` guarantees ``request.user`` is a ``User`` (never ``AnonymousUser``), and
``django_htmx.middleware.HtmxMiddleware`` adds ``request.htmx``; django-stubs knows neither, so
those views annotate their request with this class instead of ``HttpRequest``.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from .models import User


class AuthenticatedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
