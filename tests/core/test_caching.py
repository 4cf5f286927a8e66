"""The shared cache: pages keep working, uncached, while it is down; and in CI it is real Redis,
shared between processes."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from django.urls import reverse

from ldn_diary import caching
from tests.clinic.conftest import days_ago, recompute, write_diary

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # A port nothing listens on: connecting is refused at once, like a Redis that is down.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def _fresh_breaker():
    caching.reset_breaker()
    yield
    caching.reset_breaker()


def test_the_roster_and_dashboard_work_uncached_while_redis_is_down(client, alice, carol, caplog):
    today = carol.local_today()
    write_diary(alice, start=days_ago(today, 30), last=30)
    recompute(alice)
    client.force_login(carol)
    with override_settings(CACHES=DEAD_REDIS), caplog.at_level(logging.WARNING, "ldn_diary"):
        roster = client.get(reverse("clinic:roster"))
        dashboard = client.get(reverse("clinic:patient", args=[alice.uuid]))
        again = client.get(reverse("clinic:roster"), {"sort": "name"})
    assert roster.status_code == dashboard.status_code == again.status_code == 200
    assert "Alice" in roster.content.decode() and "Alice" in again.content.decode()
    assert 'id="timeline"' in dashboard.content.decode()
    warnings = [r for r in caplog.records if "Cache unavailable" in r.getMessage()]
    # The first failure opens the breaker; the other requests do not try (and wait) again.
    assert len(warnings) == 1
    assert "Alice" not in warnings[0].getMessage()


def test_a_counter_fails_open_when_the_cache_is_down():
    with override_settings(CACHES=DEAD_REDIS):
        assert caching.incr("clinic:redeem-failures:1", 60) is None
        assert caching.peek("clinic:redeem-failures:1") == 0
        assert caching.get_or_compute("k", lambda: 42, 60) == 42


def test_values_are_cached_and_counters_count():
    key = f"test:{uuid.uuid4()}"
    calls = []
    assert caching.get_or_compute(key, lambda: calls.append(1) or "v", 60) == "v"
    assert caching.get_or_compute(key, lambda: calls.append(1) or "w", 60) == "v"
    assert calls == [1]
    assert [caching.incr(key + ":n", 60) for _ in range(3)] == [1, 2, 3]


@pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL"), reason="needs a real Redis (CI sets CELERY_BROKER_URL)"
)
def test_with_redis_every_process_sees_the_same_cache():
    """Two independent clients of the same Redis, as two gunicorn workers would have."""
    location = os.environ["CELERY_BROKER_URL"]
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": location, "KEY_PREFIX": prefix}
    }  # fmt: skip
    with override_settings(CACHES=settings):
        caching.set("roster", ["rows"], 60)
        assert caching.incr("hits", 60) == 1
    other_worker = RedisCache(location, {"KEY_PREFIX": prefix})
    assert other_worker.get("roster") == ["rows"]
    assert other_worker.incr("hits") == 2
    other_worker.delete_many(["roster", "hits"])
