"""Two releases requested at once cannot both spend the last of a group's budget."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from ldn_diary.community import services
from ldn_diary.community.models import Release, SupportGroup


@pytest.mark.django_db(transaction=True)
def test_a_second_request_waits_for_the_first_and_then_finds_the_budget_spent(mona):
    """The first request's transaction is held open until PostgreSQL reports the second one
    waiting on the group's row lock, so the race happens every time, with no fixed sleep."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions, so this race cannot happen there")
    group = services.group_create(
        moderator=mona,
        name="Tight budget",
        budget_total=Decimal("1"),
        epsilon_per_release=Decimal("1"),
    )
    spent, release = threading.Event(), threading.Event()

    def first_request() -> None:
        try:
            with transaction.atomic():
                services.release_request(group=SupportGroup.objects.get(pk=group.pk), enqueue=False)
                spent.set()
                release.wait()  # hold the lock while the second request runs
        finally:
            spent.set()
            connection.close()

    def release_when_the_second_waits() -> None:
        try:
            with connections["default"].cursor() as cursor:
                for _ in range(3000):
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.01)  # not Event.wait(timeout): see tests/diary/test_entry_save.py
        finally:
            release.set()
            connections["default"].close()

    first = threading.Thread(target=first_request)
    first.start()
    spent.wait()
    watcher = threading.Thread(target=release_when_the_second_waits)
    watcher.start()
    with pytest.raises(services.BudgetError, match="only 0 of the group's budget of 1 is left"):
        services.release_request(group=SupportGroup.objects.get(pk=group.pk), enqueue=False)
    first.join(10)
    watcher.join(10)
    group.refresh_from_db()
    assert group.epsilon_spent == 1 and Release.objects.count() == 1
