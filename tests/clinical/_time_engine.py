"""Timing of the clinical engine (not collected by pytest: the name does not start with test_).

Run: .venv/bin/python tests/clinical/_time_engine.py [patients] [days]
Builds synthetic cohorts (every day logged, and about 85 % of days logged; daily noise SD 1.6 as
in docs/clinical-rules.md §3; four dose steps each) and reports the best of a few runs for the
cohort and for one patient.
"""

from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np

from ldn_diary.clinical import CohortInput, compute_cohort, compute_patient


def synthetic_cohort(
    n_patients: int, n_days: int, seed: int = 0, completeness: float = 0.85
) -> CohortInput:
    rng = np.random.default_rng(seed)
    day0 = date(2024, 1, 1).toordinal()
    patient = np.repeat(np.arange(n_patients), n_days)
    day = day0 + np.tile(np.arange(n_days), n_patients) + rng.integers(0, 60, n_patients)[patient]
    keep = rng.random(len(patient)) < completeness
    level = rng.uniform(3, 8, (n_patients, 4))[patient]
    values = np.clip(np.rint(level + rng.normal(0, 1.6, (len(patient), 4))), 0, 10)
    values[rng.random(values.shape) < 0.05] = np.nan
    patient, day, values = patient[keep], day[keep], values[keep]

    steps = 4
    dose_patient = np.repeat(np.arange(n_patients), steps)
    first_day = day0 + 14 + rng.integers(0, 30, n_patients)
    gaps = rng.integers(7, 28, (n_patients, steps))
    gaps[:, 0] = 0
    dose_day = (first_day[:, None] + np.cumsum(gaps, axis=1)).reshape(-1)
    dose_ug = np.tile(np.array([1500, 3000, 4500, 4500]), n_patients)
    return CohortInput(n_patients, patient, day, values, dose_patient, dose_day, dose_ug)


def best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    n_patients = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_days = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    for completeness in (1.0, 0.85):
        cohort = synthetic_cohort(n_patients, n_days, completeness=completeness)
        seconds = best_of(3, lambda cohort=cohort: compute_cohort(cohort))
        print(
            f"compute_cohort, {n_patients} patients x {n_days} days, "
            f"{len(cohort.entry_day)} entries: {seconds:.3f} s (best of 3)"
        )

    one = synthetic_cohort(1, n_days, seed=1)
    entries = [
        (date.fromordinal(int(d)), *(None if np.isnan(v) else float(v) for v in row))
        for d, row in zip(one.entry_day, one.entry_values, strict=True)
    ]
    doses = [
        (date.fromordinal(int(d)), int(u)) for d, u in zip(one.dose_day, one.dose_ug, strict=True)
    ]
    seconds = best_of(20, lambda: compute_patient(entries, doses))
    print(f"compute_patient: {seconds * 1000:.2f} ms (best of 20)")
    seconds = best_of(20, lambda: compute_cohort(one))
    print(f"compute_cohort, P=1: {seconds * 1000:.2f} ms (best of 20)")


if __name__ == "__main__":
    main()
