from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from . import twofactor

Handler = Callable[[HttpRequest], HttpResponse]


class PatientTimezoneMiddleware:
    """Render times in the signed-in user's own time zone."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.tzinfo)
        else:
            timezone.deactivate()
        return self.get_response(request)


class LanguageResetMiddleware:
    """Back to the default language once the response is made.

    LocaleMiddleware and UserLanguageMiddleware activate a language for the request's thread and
    leave it active; without this, the next work in that thread outside a request (a task run
    in-process, a management command in the same worker) would speak the last visitor's language.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()


class UserLanguageMiddleware:
    """Pages in the signed-in user's stored language (User.language), whatever the browser asks.

    LocaleMiddleware has already chosen from the switcher's cookie or Accept-Language; that choice
    stands for anonymous pages. Once signed in, the profile's picker wins, so a patient reads the
    same language on every device and in every email.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page this app renders.

    Pages carry health data (a diary, a dashboard, a group's release) or forms with a CSRF token,
    so no browser or proxy may keep a copy. Static files never reach this middleware: whitenoise
    answers them earlier, with long-lived caching under hashed names.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


def _back_to(request: HttpRequest, view: str) -> HttpResponse:
    """Send the browser to ``view`` with ``next`` set to where it was going (htmx-aware)."""
    target = reverse(view)
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False) or request.headers.get("HX-Request") == "true":
        return HttpResponseClientRedirect(target)
    return redirect(target)


class SessionLifetimeMiddleware:
    """A session ends after ``SESSION_IDLE_SECONDS`` (30 min) without a request, and
    ``SESSION_ABSOLUTE_SECONDS`` (12 h) after sign-in, whichever comes first.

    The absolute limit counts from sign-in (``twofactor.LOGIN_AT_KEY``, set by the login signal);
    a re-authentication does not extend it.
    Activity is written at most once a minute, so a page's htmx requests do not each save the
    session.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            login_at = session.setdefault(twofactor.LOGIN_AT_KEY, now)
            seen_at = session.get(twofactor.SEEN_AT_KEY, now)
            idle = now - seen_at > settings.SESSION_IDLE_SECONDS
            expired = now - login_at > settings.SESSION_ABSOLUTE_SECONDS
            if idle or expired:
                logout(request)
                messages.info(
                    request,
                    "You were signed out after 30 minutes without activity. Log in again."
                    if idle
                    else "You were signed out: a session lasts at most 12 hours. Log in again.",
                )
                return _back_to(request, settings.LOGIN_URL)
            if now - seen_at >= 60 or twofactor.SEEN_AT_KEY not in session:
                session[twofactor.SEEN_AT_KEY] = now
        return self.get_response(request)


# Where an unverified clinician, moderator or administrator may go: the second-factor pages
# themselves, logging out, and the health check. Everything else waits for the code.
_OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/healthz", "/static/")


class SecondFactorMiddleware:
    """No page but the second-factor ones for a user who must give one and has not yet."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            twofactor.requires_second_factor(user)
            and not twofactor.is_verified(request)
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            return _back_to(request, "accounts:two_factor")
        return self.get_response(request)
