"""The roster's rules on hand-made values (no database): flags, adherence, doses."""

from __future__ import annotations

import datetime as dt

import pytest

from ldn_diary.clinic import rules

T = dt.date(2026, 6, 30)


def d(n: int) -> dt.date:
    """n days before T."""
    return T - dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("pct", "flagged"), [(None, False), (10.0, False), (-29.9, False), (-30.0, True), (-55, True)]
)
def test_worsening_is_30_percent_worse_than_baseline_inclusive(pct, flagged):
    assert (rules.worsening_flag(pct) is not None) is flagged


@pytest.mark.parametrize(
    ("last", "flagged"), [(None, True), (d(0), False), (d(6), False), (d(7), True)]
)
def test_no_entries_for_seven_days_or_more(last, flagged):
    assert (rules.silent_flag(last, T) is not None) is flagged


def test_a_side_effect_on_half_the_days_for_three_weeks_persists():
    # Logged every day of the last 21; nausea on 11 of them (>= 50 %) and also in the week before.
    reports = [(d(n), ["nausea"]) for n in range(0, 21, 2)] + [(d(23), ["nausea"])]
    assert rules.persistent_side_effects(reports, 21, T) == [("nausea", 11)]


def test_a_side_effect_that_began_recently_does_not_persist_yet():
    reports = [(d(n), ["nausea"]) for n in range(0, 14)]  # every day, but only for 2 weeks
    assert rules.persistent_side_effects(reports, 21, T) == []


def test_a_side_effect_on_under_half_the_logged_days_does_not_persist():
    reports = [(d(n), ["headache"]) for n in range(0, 21, 3)] + [(d(22), ["headache"])]
    assert rules.persistent_side_effects(reports, 21, T) == []  # 7 of 21


def test_half_of_the_logged_days_counts_not_half_of_the_calendar():
    # 8 logged days in the window, 4 with insomnia: 50 % of logged days.
    reports = [(d(n), ["insomnia"]) for n in (1, 5, 9, 13)] + [(d(25), ["insomnia"])]
    assert rules.persistent_side_effects(reports, 8, T) == [("insomnia", 4)]
    # Too few logged days to judge.
    assert rules.persistent_side_effects(reports, 6, T) == []


@pytest.mark.parametrize(
    ("therapy_day", "due"),
    [
        (24, None),
        (25, 28),
        (28, 28),
        (31, 28),
        (42, 28),
        (43, None),
        (53, 56),
        (84, 84),
        (98, 84),
        (99, None),
    ],
)
def test_review_is_due_around_days_28_56_84_until_two_weeks_after(therapy_day, due):
    start = T - dt.timedelta(days=therapy_day)
    assert rules.review_due(start, None, T) == due


def test_a_note_written_since_the_review_opened_clears_it():
    start = T - dt.timedelta(days=30)
    assert rules.review_due(start, start + dt.timedelta(days=24), T) == 28  # before it opened
    assert rules.review_due(start, start + dt.timedelta(days=25), T) is None


def test_no_review_without_therapy():
    assert rules.review_due(None, None, T) is None


def test_dose_adherence_counts_partly_as_half():
    assert rules.dose_adherence(10, 2, 14) == pytest.approx(11 / 14)
    assert rules.dose_adherence(0, 0, 0) is None
