"""Who the client is, and how often it may try: login lockouts and the other guessable forms.

**The client's address.** Behind a TLS proxy every request comes from the proxy, so the address
is taken from ``X-Forwarded-For`` only when the TCP peer is one of ``settings.TRUSTED_PROXIES``,
and then the rightmost address that is not itself a trusted proxy (the leftmost entries are
whatever the client chose to send). With no trusted proxies (the default) the client is the
peer, and a forged header changes nothing.

**Logins** (django-axes, through :class:`LoginThrottleHandler`). Failures are counted twice,
separately:

- per client address, any usernames: ``AXES_FAILURE_LIMIT`` (10) within
  ``AXES_ADDRESS_COOLOFF`` (1 hour) locks that address out of every account, which stops
  spraying one password across many accounts;
- per account, any addresses: ``AXES_ACCOUNT_FAILURE_LIMIT`` (30) within
  ``AXES_ACCOUNT_COOLOFF`` (15 minutes) locks the account, which stops a guessing attack spread
  over many addresses.

The account limit is higher than the address limit (settings refuse otherwise), and a client
that is locked out is refused without its attempts being counted. So one address alone can
never lock somebody else's account: it is locked out itself after 10 failures, 20 short of the
account's limit. Locking a victim out takes failures from at least three addresses, and then
lasts 15 minutes after the last of them; the victim can still reset their password meanwhile.

**Other forms** (sign-up, password reset, invite and join codes) count through
``ldn_diary.caching`` in the shared cache: :func:`hit` adds one and says whether the limit is
passed.
"""

from __future__ import annotations

import ipaddress
import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from ldn_diary import caching

log = logging.getLogger(__name__)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client's IP address, believing X-Forwarded-For only from trusted proxies."""
    peer = _ip(request.META.get("REMOTE_ADDR", "")) or ipaddress.ip_address("0.0.0.0")  # noqa: S104
    if not _trusted(peer):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    client = peer
    for item in reversed(forwarded.split(",")):
        hop = _ip(item)
        if hop is None:
            break  # a malformed entry: trust nothing further left
        client = hop
        if not _trusted(hop):
            break
    return str(client)


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def address_failures(address: str) -> int:
    since = timezone.now() - settings.AXES_ADDRESS_COOLOFF
    return _failures(AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since))


def account_failures(username: str) -> int:
    since = timezone.now() - settings.AXES_ACCOUNT_COOLOFF
    return _failures(AccessAttempt.objects.filter(username=username, attempt_time__gte=since))


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with separate address and account limits (module docstring)."""

    def is_locked(self, request, credentials=None) -> bool:
        if address_failures(request.axes_ip_address) >= settings.AXES_FAILURE_LIMIT:
            return True
        username = get_client_username(request, credentials)
        return bool(username) and account_failures(username) >= settings.AXES_ACCOUNT_FAILURE_LIMIT

    def get_failures(self, request, credentials=None) -> int:
        return address_failures(request.axes_ip_address)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if (
            request is not None
            and not request.axes_locked_out
            and self.is_locked(request, credentials)
        ):
            request.axes_locked_out = True


# --- Other forms, counted in the shared cache ------------------------------------------------


def hit(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one attempt at ``scope`` by ``key``; True when this one is over ``limit``.

    While the cache is down nothing is counted and every attempt is allowed (fails open): the
    forms limited here are also protected by their own secrets' size.
    """
    count = caching.incr(f"throttle:{scope}:{key}", window)
    return count is not None and count > limit


def over(scope: str, key: str, *, limit: int) -> bool:
    """True when ``scope`` by ``key`` has already used up ``limit`` (counts nothing)."""
    return caching.peek(f"throttle:{scope}:{key}") >= limit


def count(scope: str, key: str, *, window: int) -> None:
    """Count one failure at ``scope`` by ``key``."""
    caching.incr(f"throttle:{scope}:{key}", window)
