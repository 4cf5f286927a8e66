"""The one door to Django's cache: everything the app caches or counts goes through here.

In a deployment the default cache is Redis (``CACHE_URL``), shared by every gunicorn worker and
machine, so a roster computed by one worker serves all of them and a rate limit counts every
request. A cache is an optimisation, never a dependency: when the cache cannot be reached,
``get_or_compute`` computes and returns the value uncached and ``incr`` counts nothing, and the
page still works. After a failure the cache is left alone for ``BREAKER_SECONDS`` in this process,
so a dead Redis costs one short connect timeout, not one per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

log = logging.getLogger(__name__)
T = TypeVar("T")

BREAKER_SECONDS = 30.0
_MISSING = object()
_broken_until = 0.0


def _available() -> bool:
    return time.monotonic() >= _broken_until


def _failed(action: str, exc: Exception) -> None:
    global _broken_until
    _broken_until = time.monotonic() + BREAKER_SECONDS
    # The key names the patient or clinician by primary key only; no health data in the log.
    log.warning("Cache unavailable (%s: %s); working uncached for %.0f s.", action,
                type(exc).__name__, BREAKER_SECONDS)  # fmt: skip


def reset_breaker() -> None:
    """Forget a past failure (tests, and the health check after a recovery)."""
    global _broken_until
    _broken_until = 0.0


def get(key: str, default: Any = None) -> Any:
    if not _available():
        return default
    try:
        return cache.get(key, default)
    except Exception as exc:  # any backend error: the cache is an optimisation
        _failed("get", exc)
        return default


def set(key: str, value: Any, timeout: float) -> None:  # noqa: A001 - mirrors the cache API
    if not _available():
        return
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        _failed("set", exc)


def get_or_compute(key: str, compute: Callable[[], T], timeout: float) -> T:
    """The cached value under ``key``, or ``compute()``'s, stored for ``timeout`` seconds."""
    value = get(key, _MISSING)
    if value is _MISSING:
        fresh = compute()
        set(key, fresh, timeout)
        return fresh
    return value


def incr(key: str, timeout: float) -> int | None:
    """Add one to a counter that expires ``timeout`` seconds after it is created.

    Returns the new count, or None when the cache is unreachable (the caller decides whether
    that fails open or closed).
    """
    if not _available():
        return None
    try:
        cache.add(key, 0, timeout)
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: start again
        cache.add(key, 1, timeout)
        return 1
    except Exception as exc:
        _failed("incr", exc)
        return None


def peek(key: str) -> int:
    """A counter's value (0 when absent or unreachable)."""
    value = get(key, 0)
    return int(value or 0)


def clear() -> None:
    """Empty the cache (tests only)."""
    reset_breaker()
    cache.clear()
