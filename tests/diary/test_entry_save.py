"""entry_save: one entry per day, upsert, idempotency, version check, dates and validation."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ldn_diary.diary.models import DiaryEntry
from ldn_diary.diary.services import StaleEntryError, dose_change_add, entry_save
from ldn_diary.trends.models import TrendState

from .conftest import entry_kwargs, save_entry


def test_the_database_allows_one_entry_per_patient_per_day(alice, today):
    save_entry(alice, today)
    row = DiaryEntry.objects.get(patient=alice, date=today)
    duplicate = DiaryEntry(
        patient=alice, date=today, pain=1, fatigue=1, sleep=1, mood=1, dreams="none"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert DiaryEntry.objects.filter(patient=alice, date=today).get() == row


def test_the_database_refuses_a_score_above_ten(alice, today):
    entry, _ = save_entry(alice, today)
    with pytest.raises(IntegrityError), transaction.atomic():
        DiaryEntry.objects.filter(pk=entry.pk).update(pain=11)


def test_it_creates_then_updates_the_same_day(alice, today):
    entry, created = save_entry(alice, today, pain=6)
    assert created and entry.version == 1 and not entry.backfilled
    again, created = save_entry(alice, today, pain=3, version=1)
    assert not created and again.pk == entry.pk and again.version == 2
    assert DiaryEntry.objects.filter(patient=alice).count() == 1
    assert DiaryEntry.objects.get(pk=entry.pk).pain == 3


def test_a_double_submit_with_the_same_key_saves_once(alice, today):
    key = uuid.uuid4()
    first, created = save_entry(alice, today, request_key=key, pain=6)
    second, created_again = save_entry(alice, today, request_key=key, pain=6)
    assert created and not created_again
    assert second.pk == first.pk and second.version == 1
    assert DiaryEntry.objects.filter(patient=alice).count() == 1


def test_a_retried_edit_with_the_same_key_does_not_bump_the_version(alice, today):
    save_entry(alice, today)
    key = uuid.uuid4()
    edited, _ = save_entry(alice, today, version=1, request_key=key, pain=2)
    retried, _ = save_entry(alice, today, version=1, request_key=key, pain=2)
    assert edited.version == retried.version == 2


def test_a_stale_version_is_refused_and_nothing_is_overwritten(alice, today):
    save_entry(alice, today, pain=6)  # tab A opened the empty day ...
    save_entry(alice, today, pain=4, version=1)  # ... tab B saved a change meanwhile
    with pytest.raises(StaleEntryError) as refused:
        save_entry(alice, today, pain=9, version=1)  # tab A still shows version 1
    message = str(refused.value)
    assert message.startswith("This day was changed in another tab or device at ")
    assert message.endswith("here is what is saved now — re-apply your change.")
    assert refused.value.entry.pain == 4
    assert DiaryEntry.objects.get(patient=alice, date=today).pain == 4
    # Re-applying on top of what is saved now works.
    entry, _ = save_entry(alice, today, pain=9, version=2)
    assert entry.pain == 9 and entry.version == 3


def test_two_first_saves_of_the_same_day_cannot_both_create(alice, today):
    save_entry(alice, today, pain=6)  # tab A; tab B also opened the day while it was empty
    with pytest.raises(StaleEntryError):
        save_entry(alice, today, pain=2, version=None)
    assert DiaryEntry.objects.get(patient=alice, date=today).pain == 6


def test_it_refuses_a_future_date(alice, today):
    with pytest.raises(ValidationError) as refused:
        save_entry(alice, today + dt.timedelta(days=1))
    assert "is in the future" in refused.value.message_dict["date"][0]
    assert not DiaryEntry.objects.exists()


def test_it_allows_14_days_back_and_marks_it_backfilled(alice, today):
    entry, _ = save_entry(alice, today - dt.timedelta(days=14))
    assert entry.backfilled
    yesterday, _ = save_entry(alice, today - dt.timedelta(days=1))
    assert yesterday.backfilled


def test_it_refuses_15_days_back(alice, today):
    with pytest.raises(ValidationError) as refused:
        save_entry(alice, today - dt.timedelta(days=15))
    message = refused.value.message_dict["date"][0]
    assert "more than 14 days ago" in message and "import a CSV file" in message
    assert not DiaryEntry.objects.exists()


def test_it_uses_the_patients_own_date(alice):
    # Alice's "today" comes from her time zone; entry_save uses it when none is given.
    entry, _ = entry_save(patient=alice, date=alice.local_today(), **entry_kwargs())
    assert not entry.backfilled


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pain", 11, "Pain must be a whole number from 0 to 10; got 11."),
        ("fatigue", -1, "Fatigue must be a whole number from 0 to 10; got -1."),
        ("sleep", 5.5, "Sleep quality must be a whole number from 0 to 10; got 5.5."),
        ("mood", None, "Mood must be a whole number from 0 to 10; got None."),
        ("dreams", "weird", "Dreams must be one of none, normal, vivid, nightmares; got 'weird'."),
        ("dose_taken", "maybe", "Dose taken must be one of yes, partly, no; got 'maybe'."),
        ("side_effects", ["dizzy"], "Unknown side effect 'dizzy'."),
        ("note", "x" * 2001, "Keep the note to 2000 characters (it has 2001)."),
        ("side_effect_other", "x" * 201, "Keep “other” to 200 characters (it has 201)"),
    ],
)
def test_it_names_each_invalid_value(alice, today, field, value, message):
    # On LDN, so whether the dose was taken is asked (and checked) too.
    dose_change_add(patient=alice, effective_date=today, dose_ug=1500)
    with pytest.raises(ValidationError) as refused:
        save_entry(alice, today, **{field: value})
    assert refused.value.message_dict[field][0].startswith(message)
    assert not DiaryEntry.objects.exists()


def test_typing_other_text_ticks_other_and_codes_are_ordered(alice, today):
    entry, _ = save_entry(
        alice, today, side_effects=["nausea", "vivid_dreams"], side_effect_other=" tinnitus "
    )
    assert entry.side_effects == ["vivid_dreams", "nausea", "other"]
    assert entry.side_effect_other == "tinnitus"


def test_every_save_marks_trends_dirty(alice, today):
    save_entry(alice, today)
    first = TrendState.objects.get(patient=alice).data_version
    save_entry(alice, today, version=1)
    assert TrendState.objects.get(patient=alice).data_version == first + 1


def test_a_refused_save_does_not_mark_trends_dirty(alice, today):
    with pytest.raises(ValidationError):
        save_entry(alice, today, pain=12)
    assert not TrendState.objects.filter(patient=alice, data_version__gt=0).exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_the_first_insert_is_answered_as_a_retry(alice, today, monkeypatch):
    """The second request finds no row, then meets the first one's insert at the unique index.

    A spy around ``services._entry_upsert`` (it calls the real one) records what each attempt
    did, so the test proves that the IntegrityError path ran, not just that the outcome was
    right. The first request's transaction is held open until PostgreSQL reports the second
    one waiting on its lock, so the race happens every time, with no fixed sleep.
    """
    import threading
    import time

    from django.db import IntegrityError, connection, connections

    from ldn_diary.diary import services

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions, so this race cannot happen there")
    key = uuid.uuid4()
    inserted, release = threading.Event(), threading.Event()
    attempts: list[tuple[str, str]] = []
    real_upsert = services._entry_upsert

    def spy(*args, **kwargs):
        who = threading.current_thread().name
        try:
            result = real_upsert(*args, **kwargs)
        except IntegrityError:
            attempts.append((who, "IntegrityError"))
            raise
        attempts.append((who, "created" if result[1] else "answered"))
        return result

    monkeypatch.setattr(services, "_entry_upsert", spy)

    def first_request() -> None:
        try:
            with transaction.atomic():
                save_entry(alice, today, request_key=key)
                inserted.set()
                release.wait()  # hold the transaction open while the second request runs
        finally:
            inserted.set()  # never leave the test waiting, even if the save failed
            connection.close()

    def release_when_the_second_waits() -> None:
        """Poll pg_stat_activity from a connection of its own until a backend waits on a lock."""
        try:
            with connections["default"].cursor() as cursor:
                for _ in range(3000):
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    if cursor.fetchone()[0]:
                        break
                    # Not Event.wait(timeout): under faketime (the suite must pass at any
                    # instant) a timed wait on a lock never returns; time.sleep does.
                    time.sleep(0.01)
        finally:
            release.set()
            connections["default"].close()

    thread = threading.Thread(target=first_request, name="first")
    thread.start()
    inserted.wait()
    assert DiaryEntry.objects.filter(patient=alice).count() == 0  # not committed yet
    watcher = threading.Thread(target=release_when_the_second_waits, name="watcher")
    watcher.start()
    entry, created = save_entry(alice, today, request_key=key)  # blocks until the first commits
    thread.join(10)
    watcher.join(10)
    me = threading.current_thread().name
    assert attempts == [("first", "created"), (me, "IntegrityError"), (me, "answered")]
    assert not created and entry.version == 1
    assert DiaryEntry.objects.filter(patient=alice).count() == 1
