"""Questionnaire test helpers: the first dose goes in through the diary's service, so the
schedule counts from it as it does for a patient."""

from __future__ import annotations

import datetime as dt

import pytest

from ldn_diary.accounts.models import User
from ldn_diary.diary.services import dose_change_add
from ldn_diary.questionnaires.schedule import ACR2016, FIQR, PGIC

__all__ = ["ACR2016", "FIQR", "PGIC", "fiqr_post", "start_ldn"]


def start_ldn(patient: User, days_ago: int, today: dt.date, dose_ug: int = 1500) -> dt.date:
    """Record the first dose ``days_ago`` days before ``today``; returns therapy start."""
    start = today - dt.timedelta(days=days_ago)
    dose_change_add(patient=patient, effective_date=start, dose_ug=dose_ug, today=today)
    return start


def fiqr_post(answers: dict[int, int], action: str = "next") -> dict[str, str]:
    """A FIQR part as the page posts it: item_N for the answered items, and the button."""
    return {**{f"item_{n}": str(v) for n, v in answers.items()}, "action": action}


@pytest.fixture
def today(alice) -> dt.date:
    return alice.local_today()


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
