"""Clinic test helpers: diaries written through the diary's import service, trends through the
trends service, links through the consent service (never raw ``.save()``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ldn_diary.accounts.models import Role, User
from ldn_diary.clinic.services import link_grant
from ldn_diary.diary.csvio import DiaryRow
from ldn_diary.diary.services import diary_import
from ldn_diary.trends.services import trends_recompute_patients
from tests.conftest import make_user

Value = int | str | tuple | Callable[[int], Any]


def _at(value: Value, n: int) -> Any:
    return value(n) if callable(value) else value


def write_diary(
    patient: User,
    *,
    start: dt.date,
    first: int = -14,
    last: int = 0,
    pain: Value = 6,
    fatigue: Value = 6,
    sleep: Value = 4,
    mood: Value = 4,
    dreams: Value = "none",
    side_effects: Value = (),
    dose_taken: Value = "yes",
    dose_ug: Callable[[int], int | None] | int | None = 4500,
    skip: Callable[[int], bool] = lambda n: False,
    today: dt.date | None = None,
) -> None:
    """One row per day for therapy days ``first``..``last`` (day 0 = ``start``), via the import.

    Every value may be a constant or a function of the therapy day n. ``dose_ug`` applies from
    day 0 on (None: no dose that day, i.e. before therapy); the import records a dose change
    wherever it differs from the day before, exactly as a patient's CSV would.
    """
    rows = []
    for n in range(first, last + 1):
        if skip(n):
            continue
        dose = None if n < 0 else _at(dose_ug, n)
        rows.append(
            DiaryRow(
                line=len(rows) + 2,
                date=start + dt.timedelta(days=n),
                pain=_at(pain, n),
                fatigue=_at(fatigue, n),
                sleep=_at(sleep, n),
                mood=_at(mood, n),
                dreams=_at(dreams, n),
                side_effects=tuple(_at(side_effects, n)),
                side_effect_other="",
                dose_taken=_at(dose_taken, n) if n >= 0 else "",  # not asked before LDN
                dose_ug=dose,
                note="",
            )
        )
    diary_import(patient=patient, rows=rows, today=today or start + dt.timedelta(days=last))


def recompute(*patients: User) -> None:
    trends_recompute_patients(patient_ids=[p.pk for p in patients])


def linked_patient(clinician: User, username: str, display_name: str = "") -> User:
    patient = make_user(username, Role.PATIENT, display_name=display_name or username.title())
    link_grant(patient=patient, clinician=clinician)
    return patient


@pytest.fixture
def today(carol) -> dt.date:
    """The roster's reference day: Carol's local date."""
    return carol.local_today()


def days_ago(today: dt.date, n: int) -> dt.date:
    return today - dt.timedelta(days=n)
