"""Diary test helpers. State is changed through the services, as the style guide asks."""

from __future__ import annotations

import datetime as dt
import uuid

import factory
import pytest

from ldn_diary.accounts.models import User
from ldn_diary.diary.csvio import DiaryRow
from ldn_diary.diary.services import diary_import, entry_save


class DiaryRowFactory(factory.Factory):
    """A valid parsed CSV row; ``.build()`` needs no database."""

    class Meta:
        model = DiaryRow

    line = factory.Sequence(lambda n: n + 2)
    date = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    pain = 6
    fatigue = 7
    sleep = 3
    mood = 5
    dreams = "normal"
    side_effects = ()
    side_effect_other = ""
    dose_ug = None
    # Asked only on days with LDN; empty (not applicable) before the first dose.
    dose_taken = factory.LazyAttribute(lambda row: "yes" if row.dose_ug else "")
    note = ""


def entry_kwargs(**overrides) -> dict:
    values = {
        "pain": 6,
        "fatigue": 7,
        "sleep": 3,
        "mood": 5,
        "dreams": "normal",
        "side_effects": [],
        "side_effect_other": "",
        "dose_taken": "yes",
        "note": "",
        "version": None,
        "request_key": uuid.uuid4(),
    }
    values.update(overrides)
    return values


def save_entry(patient: User, date: dt.date, **overrides):
    return entry_save(patient=patient, date=date, **entry_kwargs(**overrides))


def seed_days(patient: User, days: int, *, end: dt.date, dose_steps=()) -> None:
    """Log ``days`` consecutive days ending on ``end`` through the import service.

    ``dose_steps`` is [(day_index, dose_ug)], applied from that row on.
    """
    steps = dict(dose_steps)
    dose = None
    rows = []
    for i in range(days):
        dose = steps.get(i, dose)
        rows.append(
            DiaryRowFactory.build(
                line=i + 2,
                date=end - dt.timedelta(days=days - 1 - i),
                pain=(i * 7) % 11,
                fatigue=(i * 3) % 11,
                sleep=(i * 5) % 11,
                mood=(i * 2) % 11,
                dose_ug=dose,
            )
        )
    diary_import(patient=patient, rows=rows, today=end)


def entry_post(date: dt.date, **overrides) -> dict:
    """Form data as the entry page posts it."""
    data = {
        "date": date.isoformat(),
        "pain": "6",
        "fatigue": "7",
        "sleep": "3",
        "mood": "5",
        "dreams": "normal",
        "dose_taken": "yes",
        "side_effect_other": "",
        "note": "",
        "version": "",
        "request_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def today(alice) -> dt.date:
    return alice.local_today()


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def checked(body: str, name: str) -> list[str]:
    """Values of the checked radio buttons / checkboxes called ``name`` in rendered HTML."""
    import re

    return re.findall(
        rf'<input type="(?:radio|checkbox)" name="{name}" value="([^"]*)"[^>]*\bchecked\b', body
    )
