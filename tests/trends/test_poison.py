"""A patient whose stored data breaks the engine never blocks the others in a recompute batch.

The poison is what old data may hold: a day of year 1, written straight into the database as
rows saved before the diary's date rules would be. The batch stores everyone else, logs the
failing patient by id only, marks them failed, and the sweep retries them later.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest
from django.db import connection
from django.urls import reverse

from ldn_diary.clinical import compute_cohort
from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.trends import services
from ldn_diary.trends.models import FAILURE_RETRY, ResponseSummary, TrendSeries, TrendState
from ldn_diary.trends.selectors import trend_days_for
from ldn_diary.trends.services import (
    trends_recompute_all,
    trends_recompute_patients,
    trends_sweep_outbox,
)

from ..conftest import Role, make_user
from .conftest import change_dose, save_entry

D0 = dt.date(2026, 9, 1)
SECRET_NOTE = "poisoned-diary-note-7f3a"
storage_paths = pytest.mark.parametrize(
    "use_postgres",
    [
        pytest.param(False, id="orm"),
        pytest.param(
            True,
            id="postgres",
            marks=pytest.mark.skipif(
                connection.vendor != "postgresql",
                reason="exercises PostgreSQL's fast path (PostgresStorage)",
            ),
        ),
    ],
)


def diary(patient, days: int = 30) -> None:
    for n in range(days):
        save_entry(patient, D0 + dt.timedelta(days=n), 6 - n % 3, 5, 4, 5)
    change_dose(patient, D0 + dt.timedelta(days=5), 1500)


def poison(patient, *, entry: bool = True, dose: bool = True) -> None:
    """A year-1 row, bypassing the services' rules, as data saved before them might be."""
    if entry:
        DiaryEntry.objects.create(
            patient=patient, date=dt.date(1, 1, 1), pain=3, fatigue=3, sleep=3, mood=3,
            note=SECRET_NOTE,
        )  # fmt: skip
    if dose:
        DoseChange.objects.create(patient=patient, effective_date=dt.date(1, 1, 1), dose_ug=1500)


@pytest.fixture
def cohort(alice, bob):
    """Alice poisoned between two healthy patients (ids before and after hers)."""
    zoe = make_user("zoe", Role.PATIENT)
    for patient in (alice, bob, zoe):
        diary(patient)
    poison(alice)
    return alice, bob, zoe


@storage_paths
def test_the_healthy_patients_of_a_poisoned_batch_are_computed(cohort, use_postgres, caplog):
    alice, bob, zoe = cohort
    with caplog.at_level(logging.ERROR, logger="ldn_diary.trends.services"):
        counts = trends_recompute_patients(
            patient_ids=[p.pk for p in cohort], use_postgres=use_postgres
        )

    assert counts.failed == 1
    for healthy in (bob, zoe):
        state = TrendState.objects.get(patient=healthy)
        assert not state.is_stale and state.failed_at is None
        assert len(trend_days_for(healthy)) == 30
        assert ResponseSummary.objects.get(patient=healthy).data["therapy_start"]
    state = TrendState.objects.get(patient=alice)
    assert state.is_stale and state.failed_at is not None
    assert state.failure == "dates_out_of_range" and state.queued_at is None
    assert not TrendSeries.objects.filter(patient=alice).exists()
    assert not ResponseSummary.objects.filter(patient=alice).exists()  # no empty placeholder

    # Logged with the patient's id and a reason, and nothing from their diary.
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.args == (alice.pk, "dates_out_of_range")
    text = record.getMessage()
    assert SECRET_NOTE not in text and "0001" not in text and record.exc_info is None


@storage_paths
def test_a_poisoned_dose_alone_or_a_far_future_day_is_isolated_too(alice, bob, use_postgres):
    diary(alice)
    diary(bob)
    poison(alice, entry=False)
    DiaryEntry.objects.create(
        patient=bob, date=dt.date(9999, 12, 31), pain=1, fatigue=1, sleep=1, mood=1
    )
    counts = trends_recompute_patients(patient_ids=[alice.pk, bob.pk], use_postgres=use_postgres)
    assert counts.failed == 2 and counts.days_written == 0
    assert set(TrendState.objects.values_list("failure", flat=True)) == {"dates_out_of_range"}


@storage_paths
def test_an_engine_error_is_narrowed_down_to_the_patient_who_causes_it(
    alice, bob, use_postgres, monkeypatch
):
    """Whatever else a diary might hold that the engine cannot take, the batch is halved until
    the failing patient is alone; everyone else is stored."""
    others = [make_user(f"p{i}", Role.PATIENT) for i in range(5)]
    for patient in (alice, bob, *others):
        diary(patient, days=20)
    save_entry(alice, D0 + dt.timedelta(days=25), 9, 9, 9, 9)  # the "poison" for this engine

    runs = []

    def fragile_engine(cohort):
        runs.append(cohort.n_patients)
        if (cohort.entry_values == 9).all(axis=1).any():
            raise FloatingPointError("the engine tripped")
        return compute_cohort(cohort)

    monkeypatch.setattr(services, "compute_cohort", fragile_engine)
    ids = [p.pk for p in (alice, bob, *others)]
    counts = trends_recompute_patients(patient_ids=ids, use_postgres=use_postgres)

    assert counts.failed == 1 and runs[0] == 7 and len(runs) <= 1 + 2 * 3
    assert TrendState.objects.get(patient=alice).failure == "FloatingPointError"
    computed = set(TrendSeries.objects.values_list("patient_id", flat=True))
    assert computed == set(ids) - {alice.pk}
    # The merged result is what each healthy patient gets alone.
    for patient in (bob, *others):
        rows = trend_days_for(patient)
        trends_recompute_patients(patient_ids=[patient.pk], use_postgres=use_postgres, force=True)
        assert trend_days_for(patient) == rows


def test_the_nightly_recompute_stores_the_others(cohort):
    alice, bob, zoe = cohort
    counts = trends_recompute_all(batch_size=2)
    assert counts.failed == 1 and counts.patients == 3
    assert len(trend_days_for(bob)) + len(trend_days_for(zoe)) == 60


def test_a_failed_patient_is_retried_by_the_sweep_later_not_at_once(cohort, clock, task_runs):
    alice, bob, zoe = cohort
    trends_recompute_patients(patient_ids=[alice.pk, bob.pk, zoe.pk])
    first_failure = TrendState.objects.get(patient=alice).failed_at
    assert trends_sweep_outbox() == 0  # failed a moment ago: not yet
    assert task_runs["ldn_diary.trends.tasks.recompute_patients"] == 0
    clock.shift(FAILURE_RETRY + dt.timedelta(minutes=1))
    assert trends_sweep_outbox() == 1  # alice only: bob and zoe are current
    assert task_runs["ldn_diary.trends.tasks.recompute_patients"] == 1
    # Still poisoned: failed again, stamped anew, and not queued again in a loop.
    state = TrendState.objects.get(patient=alice)
    assert state.failed_at > first_failure and state.is_stale and state.queued_at is None
    assert task_runs["ldn_diary.trends.tasks.recompute_patient"] == 0
    assert trends_sweep_outbox() == 0


def test_once_the_data_is_fixed_the_failure_clears(cohort):
    alice, bob, zoe = cohort
    trends_recompute_patients(patient_ids=[alice.pk])
    assert TrendState.objects.get(patient=alice).failed_at is not None
    DiaryEntry.objects.filter(patient=alice, date=dt.date(1, 1, 1)).delete()
    DoseChange.objects.filter(patient=alice, effective_date=dt.date(1, 1, 1)).delete()
    trends_recompute_patients(patient_ids=[alice.pk])
    state = TrendState.objects.get(patient=alice)
    assert state.failed_at is None and state.failure == "" and not state.is_stale


def test_the_poisoned_patient_can_still_save_and_use_every_page(
    client, cohort, today_alice, django_capture_on_commit_callbacks
):
    """Saving used to run the recompute in-process (no broker) and answer 500; now it saves,
    and the patient's and the clinician's pages all answer."""
    from ldn_diary.clinic.services import link_grant

    alice, bob, zoe = cohort
    trends_recompute_patients(patient_ids=[alice.pk, bob.pk, zoe.pk])  # alice failed before
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("diary:entry_save"),
            {
                "date": today_alice.isoformat(),
                "pain": "4",
                "fatigue": "4",
                "sleep": "6",
                "mood": "6",
                "dreams": "none",
                "dose_taken": "yes",
            },
        )
    assert response.status_code == 302 and len(callbacks) == 1
    assert DiaryEntry.objects.filter(patient=alice, date=today_alice).exists()
    assert TrendState.objects.get(patient=alice).failure == "dates_out_of_range"
    for name in ("diary:today", "diary:history", "diary:doses", "diary:export"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("diary:history"), {"month": "0001-01"}).status_code == 200
    dose = DoseChange.objects.filter(patient=alice, effective_date=dt.date(1, 1, 1)).get()
    assert client.get(reverse("diary:dose_edit", args=[dose.uuid])).status_code == 200

    carol = make_user("carol", Role.CLINICIAN)
    link_grant(patient=alice, clinician=carol)
    client.force_login(carol)
    for name, args in (
        ("clinic:roster", []),
        ("clinic:patient", [alice.uuid]),
        ("clinic:brief", [alice.uuid]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 200, name


@pytest.fixture
def today_alice(alice):
    return alice.local_today()


def test_isolating_keeps_the_order_and_indices_of_the_cohort():
    """_subset and _merge are exact inverses over consecutive parts."""
    rng = np.random.default_rng(3)
    ids = np.array([3, 8, 11, 40])
    entry_patient = np.repeat(np.arange(4), 20)
    entry_day = np.tile(np.arange(739000, 739020), 4)
    values = rng.integers(0, 11, (80, 4)).astype(float)
    from ldn_diary.clinical import CohortInput

    cohort = CohortInput(
        4, entry_patient, entry_day, values, np.array([1, 2]), np.array([739005, 739003]),
        np.array([1500, 3000]),
    )  # fmt: skip
    whole = compute_cohort(cohort)
    ok, merged, failures = services.compute_isolating(
        ids, cohort, latest=dt.date.fromordinal(739100)
    )
    assert failures == {} and ok.tolist() == ids.tolist()
    parts, _ = services._compute_or_split(ids, cohort)
    halves = [
        (ids[:2], compute_cohort(services._subset(cohort, np.arange(4) < 2))),
        (ids[2:], compute_cohort(services._subset(cohort, np.arange(4) >= 2))),
    ]
    ok2, joined = services._merge(halves)
    for result in (merged, joined):
        assert np.array_equal(result.day_patient, whole.day_patient)
        assert np.array_equal(result.day_day, whole.day_day)
        assert np.allclose(result.day_rolling, whole.day_rolling, equal_nan=True)
        assert result.summaries == whole.summaries
