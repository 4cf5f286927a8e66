"""The response summary stored as typed columns: what is read back is exactly what the engine
computed, a placeholder reads as {}, one query reads it, and it takes far less room than the
JSON document it replaced."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from ldn_diary.clinical import compute_patient
from ldn_diary.diary.models import DiaryEntry
from ldn_diary.trends.models import ResponseSummary
from ldn_diary.trends.selectors import CURRENT, trend_summary_for
from ldn_diary.trends.services import trends_recompute_patients
from ldn_diary.trends.storage import SUMMARY_FIELDS, TAKEN_CODES
from tests.conftest import make_user

from .conftest import change_dose, save_entry

D0 = dt.date(2024, 1, 1)
DOSES = [(D0 + dt.timedelta(days=20 + 21 * k), ug) for k, ug in enumerate((1500, 3000, 4500, 0))]
on_postgres = connection.vendor == "postgresql"
postgres_only = pytest.mark.skipif(not on_postgres, reason="measures PostgreSQL's storage")
# The ORM path everywhere; on PostgreSQL the fast path (PostgresStorage) too.
PATHS = [False, True] if on_postgres else [False]


def typed(value: Any) -> Any:
    """The value with every float, int and bool told apart, floats by repr (so -0.0 != 0.0)."""
    if isinstance(value, dict):
        return [[key, typed(item)] for key, item in value.items()]  # key order counts too
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, bool | int | float):
        return [type(value).__name__, repr(value)]
    return value


def diary_of_120_days(patient, *, seed: int, doses: bool = True) -> list[tuple[Any, ...]]:
    """About 100 entries over 120 days with every dose answer, and four dose changes; returns
    the entries as compute_patient takes them, read back from the diary."""
    rng = np.random.default_rng(seed)
    answers = list(TAKEN_CODES)
    for n in range(120):
        if rng.random() < 0.85:
            day = D0 + dt.timedelta(days=n)
            save_entry(
                patient, day, *(int(v) for v in np.clip(np.rint(rng.normal(5, 2, 4)), 0, 10))
            )
            if doses and n >= 20:
                answer = answers[int(rng.integers(len(answers)))]
                DiaryEntry.objects.filter(patient=patient, date=day).update(dose_taken=answer)
    if doses:
        for day, dose in DOSES:
            change_dose(patient, day, dose)
    return [
        (*row[:5], TAKEN_CODES[row[5]])
        for row in DiaryEntry.objects.filter(patient=patient)
        .order_by("date")
        .values_list("date", "pain", "fatigue", "sleep", "mood", "dose_taken")
    ]


@pytest.mark.parametrize("use_postgres", PATHS)
def test_a_summary_reads_back_exactly_as_computed(alice, bob, use_postgres):
    charlie = make_user("charlie", "patient")
    expected = {
        alice.pk: diary_of_120_days(alice, seed=1),
        bob.pk: diary_of_120_days(bob, seed=2, doses=False),  # no therapy start
        charlie.pk: [],  # no entries at all
    }
    doses = {
        alice.pk: [
            (D0 + dt.timedelta(days=20 + 21 * k), ug) for k, ug in enumerate((1500, 3000, 4500, 0))
        ],
        bob.pk: [],
        charlie.pk: [],
    }

    trends_recompute_patients(patient_ids=list(expected), use_postgres=use_postgres)

    for pid, entries in expected.items():
        computed = compute_patient(entries, doses[pid]).summaries[0]
        stored = ResponseSummary.objects.get(patient_id=pid)
        assert typed(stored.data) == typed(computed)
        # Through JSON too, the form the pages and the report command use.
        assert json.loads(json.dumps(stored.data, allow_nan=False)) == computed
    summary = alice.response_summary.data
    assert len(summary["phases"]) == 4 and summary["assessed_window"] == "week_12"


def test_a_placeholder_row_reads_as_an_empty_summary(alice):
    placeholder = ResponseSummary.objects.create(patient=alice, computed_at=timezone.now())

    assert ResponseSummary.objects.get(pk=placeholder.pk).data == {}


def test_the_storage_writes_every_summary_column():
    columns = {f.column for f in ResponseSummary._meta.concrete_fields}
    assert columns == {"patient_id", *SUMMARY_FIELDS}


def test_a_full_summary_is_read_in_one_query(alice, django_assert_num_queries):
    entries = diary_of_120_days(alice, seed=3)
    trends_recompute_patients(patient_ids=[alice.pk])

    with django_assert_num_queries(1):
        summary = trend_summary_for(alice)

    assert summary.status == CURRENT
    assert len(summary.data["windows"]) == 3 and len(summary.data["phases"]) == 4
    assert summary.data["data_end"] == entries[-1][0].isoformat()


@postgres_only
def test_a_stored_summary_takes_well_under_its_json(alice):
    diary_of_120_days(alice, seed=4)
    trends_recompute_patients(patient_ids=[alice.pk])
    text = json.dumps(ResponseSummary.objects.get(patient=alice).data, separators=(",", ":"))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(s.*) FROM trends_responsesummary AS s WHERE patient_id = %s",
            [alice.pk],
        )
        [[row_bytes]] = cursor.fetchall()
        # The old column as stored: jsonb, compressed with lz4 (migration 0002).
        cursor.execute("CREATE TEMPORARY TABLE old_summary (data jsonb COMPRESSION lz4)")
        cursor.execute("INSERT INTO old_summary VALUES (%s::jsonb)", [text])
        cursor.execute("SELECT pg_column_size(data) FROM old_summary")
        [[json_bytes]] = cursor.fetchall()

    assert len(text) > 7000  # a full summary: three week windows and four dose phases
    assert row_bytes < 2500
    # Measured: 2136 bytes for the whole row against 3560 for the jsonb alone (8.4 kB of text).
    assert row_bytes < 2300
    assert row_bytes < 0.65 * json_bytes, (row_bytes, json_bytes)


@postgres_only
def test_a_stored_series_of_120_days_stays_inline(alice):
    """The series keep small integers (totals), not floats: 120 days fit in one row under
    PostgreSQL's TOAST threshold (about 2 kB), so reading one never touches a second table."""
    diary_of_120_days(alice, seed=5)
    trends_recompute_patients(patient_ids=[alice.pk])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(s.*), s.end - s.start + 1 "
            "FROM trends_trendseries AS s WHERE patient_id = %s",
            [alice.pk],
        )
        [[row_bytes, days]] = cursor.fetchall()
        cursor.execute(
            "SELECT pg_relation_size(reltoastrelid) FROM pg_class "
            "WHERE relname = 'trends_trendseries'"
        )
        [[toast_bytes]] = cursor.fetchall()

    assert days == 120
    # Measured: 1776 bytes. As 7-day means and changes in floats, its eight float arrays alone
    # took 8 x 984 bytes (migration 0007).
    assert row_bytes < 1900, row_bytes
    assert toast_bytes == 0
