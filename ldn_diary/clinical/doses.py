"""The dose-history rules (docs/clinical-rules.md §1), in one place for every caller.

- The dose on a day is the latest change on or before it (of several changes on one day, the
  last one given).
- Therapy start is the day of the first non-zero dose.
- A run at one dose starts at a change to a different dose: a change to the dose already in
  effect (a new formulation, a re-entered change) continues the run.

The engine applies them to whole cohorts (arrays sorted by patient, then day; days as date
ordinals); the pages apply them to one patient's changes through the scalar helpers at the end,
which call the same vectorised functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from .arrays import BoolArray, IntArray

__all__ = (
    "DAY_BITS",
    "days_at_dose",
    "days_on",
    "dose_in_force",
    "dose_index_on",
    "dose_phases",
    "run_opens",
    "run_start",
    "therapy_start",
    "therapy_start_days",
)

# (patient, day) pairs are packed into one sortable int64 key; date(9999, 12, 31).toordinal() is
# 3_652_059 < 2**22, so any date fits in the low bits.
DAY_BITS = 22


def therapy_start_days(
    n_patients: int, dose_patient: IntArray, dose_day: IntArray, dose_ug: IntArray
) -> IntArray:
    """Day of each patient's first non-zero dose change; -1 where there is none."""
    nonzero = dose_ug != 0
    patients = dose_patient[nonzero]
    days = dose_day[nonzero]
    pos = np.searchsorted(patients, np.arange(n_patients), side="left")
    found = pos < len(patients)
    found[found] = patients[pos[found]] == np.flatnonzero(found)
    start = np.full(n_patients, -1, dtype=np.int64)
    start[found] = days[pos[found]]
    return start


def dose_index_on(
    dose_patient: IntArray, dose_day: IntArray, query_patient: IntArray, query_day: IntArray
) -> IntArray:
    """Index of the change in force on each query (patient, day); -1 before the first change."""
    dose_key = (dose_patient << DAY_BITS) | dose_day
    pos = np.searchsorted(dose_key, (query_patient << DAY_BITS) | query_day, side="right") - 1
    ok = pos >= 0
    ok[ok] = dose_patient[pos[ok]] == query_patient[ok]
    return np.where(ok, pos, -1).astype(np.int64)


def run_opens(dose_patient: IntArray, dose_ug: IntArray) -> BoolArray:
    """Which changes open a new run: a patient's first, and any to a different dose."""
    opens = np.ones(len(dose_patient), dtype=bool)
    opens[1:] = (dose_patient[1:] != dose_patient[:-1]) | (dose_ug[1:] != dose_ug[:-1])
    return opens


def dose_phases(
    dose_patient: IntArray,
    dose_day: IntArray,
    dose_ug: IntArray,
    start: IntArray,
    last: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Maximal same-dose runs from therapy start to each patient's last entry day.

    Returns (patient, first day, last day, µg) per phase. ``start`` is each patient's therapy
    start (-1 for none) and ``last`` their last entry day (-1 for none); those patients have no
    phases, and changes after the last entry (a planned step) open none.
    """
    if len(dose_patient) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    dp, dd, du = dose_patient, dose_day, dose_ug
    # Of several changes on one day only the last is in effect.
    last_of_day = np.ones(len(dp), dtype=bool)
    last_of_day[:-1] = (dp[1:] != dp[:-1]) | (dd[1:] != dd[:-1])
    keep = last_of_day & (start[dp] >= 0) & (dd >= start[dp]) & (dd <= last[dp])
    kp, kd, ku = dp[keep], dd[keep], du[keep]
    opens = run_opens(kp, ku)
    pp, ps, pu = kp[opens], kd[opens], ku[opens]
    pe = last[pp].copy()
    same_patient_next = pp[1:] == pp[:-1]
    pe[:-1] = np.where(same_patient_next, ps[1:] - 1, pe[:-1])
    return pp, ps, pe, pu


# --- One patient ----------------------------------------------------------------------------------
# ``changes`` are (effective date, µg) pairs in date order, as the dose history stores them.


def _arrays(changes: Sequence[tuple[dt.date, int]]) -> tuple[IntArray, IntArray, IntArray]:
    patient = np.zeros(len(changes), dtype=np.int64)
    days = np.array([d.toordinal() for d, _ in changes], dtype=np.int64)
    doses = np.array([ug for _, ug in changes], dtype=np.int64)
    return patient, days, doses


def therapy_start(changes: Sequence[tuple[dt.date, int]]) -> dt.date | None:
    """The first non-zero dose's date, or None before any."""
    patient, days, doses = _arrays(changes)
    day = int(therapy_start_days(1, patient, days, doses)[0])
    return dt.date.fromordinal(day) if day >= 0 else None


def dose_in_force(changes: Sequence[tuple[dt.date, int]], day: dt.date) -> int | None:
    """Index into ``changes`` of the change in force on ``day``, or None before the first."""
    patient, days, _ = _arrays(changes)
    zero = np.zeros(1, dtype=np.int64)
    index = int(dose_index_on(patient, days, zero, np.array([day.toordinal()]))[0])
    return index if index >= 0 else None


def run_start(changes: Sequence[tuple[dt.date, int]], day: dt.date) -> tuple[dt.date, int] | None:
    """(first day, µg) of the run at the dose in force on ``day``, or None before any dose."""
    index = dose_in_force(changes, day)
    if index is None:
        return None
    patient, _, doses = _arrays(changes)
    opened = np.flatnonzero(run_opens(patient, doses)[: index + 1])[-1]
    return changes[int(opened)][0], changes[index][1]


def days_on(since: dt.date, today: dt.date) -> int:
    """Days at a dose counting both ends: the day a dose starts is its day 1."""
    return (today - since).days + 1


def days_at_dose(changes: Sequence[tuple[dt.date, int]], today: dt.date) -> int | None:
    """Days at the dose in force on ``today`` (the patient's today), or None before any dose.

    The one count of "N days at this dose" that the patient's Doses page and the clinician's
    dashboard both show, so they never disagree: from the run's start (``run_start``), its
    first day counting as day 1 (``days_on``).
    """
    current = run_start(changes, today)
    return None if current is None else days_on(current[0], today)
