"""trends_recompute_patients end to end: diary rows in, TrendSeries / ResponseSummary / TrendState out."""

from __future__ import annotations

import datetime as dt
import struct
import threading
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from ldn_diary.clinical import compute_cohort, compute_patient
from ldn_diary.clinical.constants import ENGINE_VERSION
from ldn_diary.diary.models import DiaryEntry
from ldn_diary.trends import services
from ldn_diary.trends.arrays import binary_array, load_array
from ldn_diary.trends.models import ResponseSummary, TrendSeries, TrendState
from ldn_diary.trends.selectors import trend_days_for
from ldn_diary.trends.services import (
    trends_delete_orphans,
    trends_mark_dirty,
    trends_recompute_all,
    trends_recompute_patients,
)

from .conftest import change_dose, save_entry, stored_day, stored_days, stored_summaries

D0 = dt.date(2024, 1, 1)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="exercises PostgreSQL's fast path (PostgresStorage)"
)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def random_diary(patient, *, days: int, seed: int, doses: bool = True) -> None:
    rng = np.random.default_rng(seed)
    for n in range(days):
        if rng.random() < 0.8:
            pain, fatigue, sleep, mood = np.clip(np.rint(rng.normal(5, 1.6, 4)), 0, 10)
            save_entry(patient, day(n), int(pain), int(fatigue), int(sleep), int(mood))
    if doses:
        for k, dose in enumerate((1500, 3000, 4500)):
            change_dose(patient, day(15 + 14 * k), dose)


def stored_rows(patient_ids: list[int]) -> list[tuple]:
    return stored_days(patient_ids)


def test_it_stores_a_row_per_calendar_day_and_the_summary(alice):
    save_entry(alice, day(0), 6, 5, 4, 5)
    save_entry(alice, day(1), 4, 5, 4, 5)
    save_entry(alice, day(2), 5, 5, 4, 5)
    # day(3) missed: the row exists, unlogged, and the mean is not carried over it.
    save_entry(alice, day(4), 7, 5, 4, 5)
    save_entry(alice, day(5), 8, 5, 4, 5)
    change_dose(alice, day(4), 1500)
    version = TrendState.objects.get(patient=alice).data_version

    counts = trends_recompute_patients(patient_ids=[alice.pk])

    assert (counts.patients, counts.entries, counts.days) == (1, 5, 6)
    rows = trend_days_for(alice)
    assert [r.date for r in rows] == [day(n) for n in range(6)]
    assert [r.logged for r in rows] == [True, True, True, False, True, True]
    assert [r.logged_7 for r in rows] == [1, 2, 3, 3, 4, 5]
    assert [r.dose_ug for r in rows] == [None, None, None, None, 1500, 1500]
    # The 7-day mean needs 4 logged days: first on day 4, (6 + 4 + 5 + 7) / 4.
    assert [r.pain_r7 for r in rows[:4]] == [None] * 4
    assert rows[4].pain_r7 == pytest.approx(22 / 4)
    assert rows[5].pain_r7 == pytest.approx(30 / 5)
    # Four days of data before therapy start is no valid baseline: no change is stored.
    assert all(r.pain_pct is None for r in rows)

    summary = ResponseSummary.objects.get(patient=alice)
    assert summary.data_version == version
    assert summary.engine_version == ENGINE_VERSION
    assert summary.data["therapy_start"] == "2024-01-05"
    assert summary.data["data_start"] == "2024-01-01"
    assert summary.data["data_end"] == "2024-01-06"
    assert summary.data["baseline"]["valid"] is False
    assert summary.data["composite_responder"] is None

    state = TrendState.objects.get(patient=alice)
    assert state.computed_version == state.data_version == version
    assert state.dirty_since is None
    assert state.queued_at is None
    assert state.computed_at == summary.computed_at


def test_rolling_means_and_changes_match_pandas(alice):
    """Independent oracle: pandas over a calendar index, baseline from the 14 days before."""
    random_diary(alice, days=70, seed=8)
    trends_recompute_patients(patient_ids=[alice.pk])

    entries = pd.DataFrame.from_records(
        DiaryEntry.objects.filter(patient=alice).values("date", "pain", "fatigue", "sleep", "mood")
    )
    entries["date"] = pd.to_datetime(entries["date"])
    daily = entries.set_index("date").sort_index().asfreq("D").astype(float)
    rolling = daily.rolling("7D", min_periods=4).mean()
    start = pd.Timestamp(day(15))
    baseline = daily.loc[start - pd.Timedelta(days=14) : start - pd.Timedelta(days=1)]
    assert baseline["pain"].notna().sum() >= 11, "the seed must give a valid baseline"
    base = baseline.mean()

    rows = pd.DataFrame.from_records([asdict(row) for row in trend_days_for(alice)])
    assert list(pd.to_datetime(rows["date"])) == list(daily.index)
    for symptom, worse_up in (("pain", True), ("fatigue", True), ("sleep", False), ("mood", False)):
        np.testing.assert_allclose(
            rows[f"{symptom}_r7"].astype(float), rolling[symptom], rtol=1e-12, equal_nan=True
        )
        # Percent of the baseline on the problem scale: the score, or 10 - score for symptoms
        # measured upwards (sleep, mood).
        problem = (lambda x: x) if worse_up else (lambda x: 10 - x)  # noqa: E731
        expected = (
            100 * (problem(base[symptom]) - problem(rolling[symptom])) / problem(base[symptom])
        )
        np.testing.assert_allclose(
            rows[f"{symptom}_pct"].astype(float), expected, rtol=1e-9, atol=1e-9, equal_nan=True
        )


def test_the_series_refuse_an_entry_without_all_four_scores():
    """The series keep one 7-day count for the four symptoms (every entry has all four
    scores); an entry without one must fail loudly, not store wrong means."""
    from ldn_diary.trends.storage import series_columns

    days = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(8)]
    whole = compute_patient([(d, 5, 5, 5, 5) for d in days], [])
    assert series_columns(np.array([1]), whole)[1]["pain_total7"].tolist()[-1] == 35
    gap = compute_patient([(d, 5, None if d == days[3] else 5, 5, 5) for d in days], [])
    with pytest.raises(ValueError, match="an entry lacks a score"):
        series_columns(np.array([1]), gap)


def test_a_recompute_replaces_the_rows_of_those_patients_only(alice, bob):
    random_diary(alice, days=30, seed=1)
    random_diary(bob, days=20, seed=2)
    trends_recompute_patients(patient_ids=[alice.pk, bob.pk])
    bob_rows = stored_rows([bob.pk])

    # Alice's diary shrinks to one week and is recomputed alone.
    DiaryEntry.objects.filter(patient=alice, date__gt=day(6)).delete()
    save_entry(alice, day(3), 10, 10, 0, 0)
    trends_recompute_patients(patient_ids=[alice.pk])

    dates = DiaryEntry.objects.filter(patient=alice).order_by("date")
    first, last = dates.first().date, dates.last().date
    assert last <= day(6)
    assert [row.date for row in trend_days_for(alice)] == [
        first + dt.timedelta(days=n) for n in range((last - first).days + 1)
    ]
    assert stored_rows([bob.pk]) == bob_rows


def test_a_patient_without_entries_gets_an_empty_current_summary(alice):
    counts = trends_recompute_patients(patient_ids=[alice.pk])

    assert (counts.entries, counts.days) == (0, 0)
    summary = ResponseSummary.objects.get(patient=alice)
    assert summary.data["data_start"] is None
    assert summary.data["windows"] == []
    assert TrendState.objects.get(patient=alice).computed_version == 0


def test_a_write_during_the_compute_leaves_the_patient_stale(alice, monkeypatch):
    random_diary(alice, days=30, seed=4)
    version = TrendState.objects.get(patient=alice).data_version

    def engine_with_a_concurrent_save(cohort):
        # The diary was already read; this write lands between the read and the stamp.
        save_entry(alice, day(40), 1, 1, 9, 9)
        return compute_cohort(cohort)

    monkeypatch.setattr(services, "compute_cohort", engine_with_a_concurrent_save)
    trends_recompute_patients(patient_ids=[alice.pk])

    state = TrendState.objects.get(patient=alice)
    assert state.computed_version == version
    assert state.data_version == version + 1
    assert state.is_stale
    assert state.dirty_since is not None
    assert ResponseSummary.objects.get(patient=alice).data_version == version
    assert stored_day(alice, day(40)) is None

    monkeypatch.undo()
    trends_recompute_patients(patient_ids=[alice.pk])
    state.refresh_from_db()
    assert not state.is_stale
    assert state.dirty_since is None
    assert stored_day(alice, day(40)).logged


def test_recompute_all_goes_in_batches_and_reports_progress(alice, bob, carol):
    from tests.conftest import make_user

    charlie = make_user("charlie", "patient")
    for seed, patient in enumerate((alice, bob, charlie)):
        random_diary(patient, days=25, seed=seed)
    seen: list[tuple[int, int]] = []

    counts = trends_recompute_all(
        batch_size=2, progress=lambda done, total: seen.append((done, total))
    )

    assert seen == [(2, 3), (3, 3)]
    assert counts.patients == 3
    # Carol is a clinician: not recomputed.
    assert set(ResponseSummary.objects.values_list("patient_id", flat=True)) == {
        alice.pk,
        bob.pk,
        charlie.pk,
    }
    assert not TrendState.objects.filter(dirty_since__isnull=False).exists()


def summaries(patient_ids: list[int]) -> list[tuple]:
    """Every stored column except the time of the recompute."""
    computed_at = [f.attname for f in ResponseSummary._meta.concrete_fields].index("computed_at")
    return [row[:computed_at] + row[computed_at + 1 :] for row in stored_summaries(patient_ids)]


@postgres_only
def test_postgres_and_orm_paths_store_identical_rows(alice, bob):
    random_diary(alice, days=90, seed=5)
    random_diary(bob, days=50, seed=6, doses=False)
    change_dose(bob, day(10), 0)  # a stop before any dose: no therapy start
    ids = [alice.pk, bob.pk]

    trends_recompute_patients(patient_ids=ids, use_postgres=False)
    orm_rows, orm_summaries = stored_rows(ids), summaries(ids)
    TrendSeries.objects.all().delete()
    ResponseSummary.objects.all().delete()
    counts = trends_recompute_patients(patient_ids=ids, use_postgres=True)

    assert (counts.days_written, counts.summaries_written) == (len(orm_rows), 2)
    assert stored_rows(ids) == orm_rows
    assert summaries(ids) == orm_summaries


@postgres_only
def test_a_recompute_rewrites_only_patients_whose_results_changed(alice, bob):
    random_diary(alice, days=60, seed=12)
    random_diary(bob, days=40, seed=13)
    ids = [alice.pk, bob.pk]
    first = trends_recompute_patients(patient_ids=ids)
    assert first.days_written == first.days > 90
    alice_days = len(trend_days_for(alice))

    again = trends_recompute_patients(patient_ids=ids)
    assert (again.days, again.days_written, again.summaries_written) == (first.days, 0, 0)
    assert ResponseSummary.objects.get(patient=alice).data_version == (
        TrendState.objects.get(patient=alice).data_version
    )

    save_entry(alice, day(50), 10, 10, 0, 0)
    changed = trends_recompute_patients(patient_ids=ids)
    assert (changed.days_written, changed.summaries_written) == (alice_days, 1)
    expected_rows, expected_summaries = stored_rows(ids), summaries(ids)

    forced = trends_recompute_patients(patient_ids=ids, force=True)
    assert (forced.days_written, forced.summaries_written) == (first.days, 2)
    # Skipping and rewriting store the same: as computed from scratch.
    assert stored_rows(ids) == expected_rows
    assert summaries(ids) == expected_summaries


@postgres_only
def test_rows_lost_outside_the_app_come_back_with_force(alice):
    random_diary(alice, days=30, seed=14)
    trends_recompute_patients(patient_ids=[alice.pk])
    rows = stored_rows([alice.pk])
    TrendSeries.objects.filter(patient=alice).delete()  # not through a recompute

    trends_recompute_patients(patient_ids=[alice.pk])
    assert stored_rows([alice.pk]) == []  # the fingerprint still matches: nothing to do
    trends_recompute_patients(patient_ids=[alice.pk], force=True)
    assert stored_rows([alice.pk]) == rows


def test_the_binary_array_encoding_decodes_to_the_values():
    """Decode PostgreSQL's binary array format with struct, independently of the numpy encoder."""
    values = np.array([1.5, 0.0, np.nan, -2.25, 7.0])
    array = binary_array(values)

    assert array.oid == 1022  # float8[]
    ndim, has_null, element, length, lower = struct.unpack_from(">iiiii", array.data)
    assert (ndim, has_null, element, length, lower) == (1, 0, 701, 5, 1)
    items = [struct.unpack_from(">id", array.data, 20 + 12 * i) for i in range(length)]
    assert all(size == 8 for size, _ in items)
    assert len(array.data) == 20 + 12 * length
    decoded = [v for _, v in items]
    assert decoded[:2] == [1.5, 0.0] and np.isnan(decoded[2]) and decoded[3:] == [-2.25, 7.0]


def test_integer_arrays_load_from_their_binary_form():
    """Encode with struct, independently of the numpy loader; refuse what it cannot load."""

    def encoded(element: int, fmt: str, values: list[int], *, has_null: int = 0) -> bytes:
        size = struct.calcsize(">" + fmt)
        body = b"".join(struct.pack(f">i{fmt}", size, v) for v in values)
        return struct.pack(">iiiii", 1, has_null, element, len(values), 1) + body

    for element, fmt in ((20, "q"), (23, "i"), (21, "h")):
        loaded = load_array(encoded(element, fmt, [3, -1, 70000 if fmt != "h" else 7]))
        assert loaded.dtype == np.int64
        assert loaded.tolist() == [3, -1, 70000 if fmt != "h" else 7]
    assert load_array(struct.pack(">iii", 0, 0, 20)).tolist() == []  # '{}'
    with pytest.raises(ValueError, match="NULL"):
        load_array(encoded(20, "q", [1], has_null=1))
    with pytest.raises(ValueError, match="integer"):
        load_array(encoded(701, "d", [1.5]))


@postgres_only
def test_the_database_returns_what_the_loader_expects(db):
    """The same loader on arrays PostgreSQL itself builds (as the recompute's read gets them)."""
    import psycopg
    from django.db import connection

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            "SELECT '{1,-2,3}'::int8[], '{5,6}'::int4[], '{-7}'::int2[], '{}'::int8[]", binary=True
        )
        row = cursor.fetchone()
    assert [column.tolist() for column in row] == [[1, -2, 3], [5, 6], [-7], []]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_recomputes_of_one_patient_wait_for_each_other_but_diary_writes_do_not(alice, monkeypatch):
    """Two overlapping recomputes must not both insert the patient's TrendSeries row."""
    random_diary(alice, days=20, seed=7)
    computing, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_engine(cohort):
        computing.set()
        release.wait(10)
        return compute_cohort(cohort)

    def first_recompute() -> None:
        try:
            trends_recompute_patients(patient_ids=[alice.pk])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    monkeypatch.setattr(services, "compute_cohort", slow_engine)
    # As if this recompute had been queued a moment ago: the save below coalesces into it
    # instead of running its own recompute in-process (eager Celery) on commit.
    TrendState.objects.filter(patient=alice).update(queued_at=timezone.now())
    thread = threading.Thread(target=first_recompute)
    thread.start()
    try:
        assert computing.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        # A diary write goes through while the first recompute is computing...
        save_entry(alice, day(30), 3, 3, 3, 3)
        # ...but a second recompute of the same patient waits for it (here: times out).
        with pytest.raises(OperationalError, match="lock timeout"):
            trends_recompute_patients(patient_ids=[alice.pk])
    finally:
        release.set()
        thread.join(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert errors == []
    # The first recompute read the diary before that write, so it left the patient stale.
    assert TrendState.objects.get(patient=alice).is_stale

    monkeypatch.undo()
    trends_recompute_patients(patient_ids=[alice.pk])
    assert not TrendState.objects.get(patient=alice).is_stale
    assert stored_day(alice, day(30)).logged


def test_mark_dirty_bumps_the_version_with_the_write(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for _ in range(3):
            trends_mark_dirty(patient_id=alice.pk)
    state = TrendState.objects.get(patient=alice)
    assert state.data_version == 3
    assert state.dirty_since is not None
    assert state.queued_at is not None
    assert len(callbacks) == 1


def test_deleting_a_patient_deletes_their_trends(alice, bob):
    random_diary(alice, days=10, seed=9)
    random_diary(bob, days=10, seed=10)
    trends_recompute_patients(patient_ids=[alice.pk, bob.pk])

    alice.delete()

    assert not TrendSeries.objects.filter(patient_id=alice.pk).exists()
    assert not ResponseSummary.objects.filter(patient_id=alice.pk).exists()
    assert TrendSeries.objects.filter(patient=bob).exists()


def test_orphaned_trend_rows_are_deleted(alice):
    random_diary(alice, days=10, seed=11)
    trends_recompute_patients(patient_ids=[alice.pk])
    # No database foreign key: a row can outlive its patient if a recompute commits just after
    # the patient's deletion. Such a row is simulated here.
    orphan = TrendSeries.objects.get(patient=alice)
    orphan.patient_id = alice.pk + 1000
    orphan.save(force_insert=True)

    assert trends_delete_orphans() == 1
    assert len(trend_days_for(alice)) == 10


@postgres_only
def test_the_fast_path_prepares_its_statements_and_nothing_else(alice, bob):
    """A diary save's recompute reuses the connection's prepared statements (psycopg ignores
    prepare=True while Django keeps preparing off), and Django's own queries stay unprepared."""
    random_diary(alice, days=30, seed=5)
    random_diary(bob, days=30, seed=6)
    trends_recompute_patients(patient_ids=[alice.pk])

    def prepared() -> dict[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, statement FROM pg_prepared_statements")
            return dict(cursor.fetchall())

    first = prepared()
    assert any("trends_trendseries" in sql for sql in first.values())
    assert any("trends_responsesummary" in sql for sql in first.values())
    trends_recompute_patients(patient_ids=[bob.pk])
    assert prepared() == first  # the same statements again, not new ones
    assert connection.connection.prepare_threshold is None
    assert list(DiaryEntry.objects.filter(patient=alice).values_list("pk", flat=True)[:1])
    assert prepared() == first  # an ORM query is not prepared
    assert trend_days_for(bob)[-1].date == day(29)
