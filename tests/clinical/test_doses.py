"""The dose-history rules (ldn_diary.clinical.doses), for one patient and for a cohort."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ldn_diary.clinical import doses

T = dt.date(2026, 11, 18)


def d(n: int) -> dt.date:
    return T - dt.timedelta(days=n)


CHANGES = [(d(60), 1500), (d(40), 3000), (d(30), 3000), (d(10), 4500), (d(-3), 6000)]


def test_the_dose_in_force_is_the_latest_change_on_or_before_the_day():
    assert doses.dose_in_force(CHANGES, d(61)) is None
    assert doses.dose_in_force(CHANGES, d(60)) == 0  # the day of a change counts
    assert doses.dose_in_force(CHANGES, d(31)) == 1
    assert doses.dose_in_force(CHANGES, T) == 3
    assert doses.dose_in_force(CHANGES, d(-3)) == 4
    assert doses.dose_in_force([], T) is None


def test_a_run_ignores_repeated_changes_to_the_same_dose():
    assert doses.run_start(CHANGES, T) == (d(10), 4500)
    assert doses.run_start(CHANGES, d(25)) == (d(40), 3000)  # 3 mg re-entered on d(30)
    assert doses.run_start(CHANGES, d(61)) is None


def test_therapy_start_is_the_first_non_zero_dose():
    assert doses.therapy_start([(d(70), 0), (d(60), 1500)]) == d(60)
    assert doses.therapy_start([(d(70), 0)]) is None
    assert doses.therapy_start([]) is None


def test_days_on_a_dose_count_the_first_day():
    assert doses.days_on(T, T) == 1
    assert doses.days_on(d(6), T) == 7


@given(
    st.lists(
        st.tuples(st.integers(0, 200), st.sampled_from([0, 1, 500, 1500, 4500])),
        min_size=1,
        max_size=12,
        unique_by=lambda c: c[0],
    ),
    st.integers(-5, 210),
)
def test_the_scalar_rules_agree_with_a_plain_reading_of_them(raw, query):
    changes = sorted((d(200) + dt.timedelta(days=n), ug) for n, ug in raw)
    day = d(200) + dt.timedelta(days=query)
    before = [i for i, (date, _) in enumerate(changes) if date <= day]
    assert doses.dose_in_force(changes, day) == (before[-1] if before else None)
    nonzero = [date for date, ug in changes if ug]
    assert doses.therapy_start(changes) == (nonzero[0] if nonzero else None)
    if before:
        i = before[-1]
        while i > 0 and changes[i - 1][1] == changes[i][1]:
            i -= 1
        assert doses.run_start(changes, day) == (changes[i][0], changes[before[-1]][1])


def test_the_cohort_functions_keep_patients_apart():
    patient = np.array([0, 0, 1, 1], dtype=np.int64)
    day = np.array([10, 20, 5, 30], dtype=np.int64)
    ug = np.array([0, 1500, 4500, 0], dtype=np.int64)
    assert doses.therapy_start_days(3, patient, day, ug).tolist() == [20, 5, -1]
    query_p = np.array([0, 0, 1, 1, 2], dtype=np.int64)
    query_d = np.array([9, 25, 4, 31, 50], dtype=np.int64)
    assert doses.dose_index_on(patient, day, query_p, query_d).tolist() == [-1, 1, -1, 3, -1]
