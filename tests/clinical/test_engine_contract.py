"""What other apps code against: shapes, dtypes, JSON-ready summaries, refusals, no Django."""

from __future__ import annotations

import ast
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import ldn_diary.clinical as clinical
from ldn_diary.clinical import CohortInput, compute_cohort, compute_patient

from ._helpers import DAY0, cohort_input, daily, merge

PACKAGE = Path(clinical.__file__).parent


def full_diary():
    entries = merge(
        daily(range(0, 14), pain=7, fatigue=6, sleep=4, mood=5),
        daily(range(14, 100), pain=4, fatigue=4, sleep=6, mood=6),
    )
    return entries, [(DAY0 + 14, 1500), (DAY0 + 40, 3000), (DAY0 + 70, 4500)]


def test_no_django_imports_in_the_clinical_package():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "django" for n in names), path.name


def test_result_arrays_have_the_documented_shapes_and_dtypes():
    result = compute_cohort(cohort_input([full_diary(), ({}, []), full_diary()]))
    k = len(result.day_patient)
    assert k == 200  # 100 calendar days for each patient with entries, none for patient 1
    assert result.day_patient.dtype == np.int64 and result.day_day.dtype == np.int64
    assert result.day_dose_ug.dtype == np.int64 and result.day_logged.dtype == bool
    assert result.day_rolling.shape == (k, 4) and result.day_rolling.dtype == np.float64
    assert result.day_rolling_n.shape == (k, 4) and result.day_rolling_n.dtype == np.int64
    assert result.day_change_pct.shape == (k, 4)
    assert sorted(set(result.day_patient.tolist())) == [0, 2]
    assert len(result.summaries) == 3


def test_summaries_are_plain_json():
    result = compute_cohort(cohort_input([full_diary(), ({}, [(DAY0, 1500)])]))
    text = json.dumps(result.summaries, allow_nan=False)
    assert json.loads(text) == result.summaries
    summary = result.summaries[0]
    assert summary["assessed_window"] == "week_12" and summary["composite_responder"] is True
    assert [p["dose_mg"] for p in summary["phases"]] == [1.5, 3.0, 4.5]
    assert type(summary["phases"][0]["dose_ug"]) is int
    assert type(summary["windows"][0]["symptoms"]["pain"]["mean"]) is float


def test_a_treated_patient_without_entries():
    summary = compute_cohort(cohort_input([({}, [(DAY0, 1500)])])).summaries[0]
    assert summary["therapy_start"] == date.fromordinal(DAY0).isoformat()
    assert (summary["data_start"], summary["data_end"]) == (None, None)
    assert summary["baseline"]["valid"] is False and summary["baseline"]["days_logged"] == 0
    assert [w["days_logged"] for w in summary["windows"]] == [0, 0, 0]
    assert summary["phases"] == []


def test_an_empty_cohort():
    result = compute_cohort(cohort_input([]))
    assert len(result.day_day) == 0 and result.summaries == []


def test_compute_patient_takes_dates_in_any_order():
    entries, doses = full_diary()
    as_dates = [(date.fromordinal(d), *v) for d, v in entries.items()][::-1]
    dose_dates = [(date.fromordinal(d), ug) for d, ug in doses][::-1]
    single = compute_patient(as_dates, dose_dates)
    cohort = compute_cohort(cohort_input([(entries, doses)]))
    assert single.summaries == cohort.summaries
    np.testing.assert_array_equal(single.day_rolling, cohort.day_rolling)


def test_compute_patient_keeps_the_last_of_same_day_doses_given():
    start = date(2024, 1, 15)
    entries = [(start + timedelta(d), 5, 5, 5, 5) for d in range(-14, 30)]
    result = compute_patient(entries, [(start, 1500), (start, 3000)])
    assert result.summaries[0]["phases"][0]["dose_ug"] == 3000


def test_it_refuses_two_entries_on_one_day():
    day = date(2024, 1, 15)
    with pytest.raises(ValueError, match="at most one entry"):
        compute_patient([(day, 5, 5, 5, 5), (day, 6, 6, 6, 6)], [])


def test_it_refuses_unsorted_input():
    good = cohort_input([full_diary(), full_diary()])
    shuffled = CohortInput(
        good.n_patients,
        good.entry_patient[::-1].copy(),
        good.entry_day[::-1].copy(),
        good.entry_values[::-1].copy(),
        good.dose_patient,
        good.dose_day,
        good.dose_ug,
    )
    with pytest.raises(ValueError, match="sorted"):
        compute_cohort(shuffled)
    with pytest.raises(ValueError, match="sorted"):
        compute_cohort(
            CohortInput(
                good.n_patients,
                good.entry_patient,
                good.entry_day,
                good.entry_values,
                good.dose_patient[::-1].copy(),
                good.dose_day[::-1].copy(),
                good.dose_ug,
            )
        )


def test_it_refuses_patient_indexes_out_of_range():
    good = cohort_input([full_diary()])
    with pytest.raises(ValueError, match="out of range"):
        compute_cohort(
            CohortInput(
                1,
                good.entry_patient + 1,
                good.entry_day,
                good.entry_values,
                good.dose_patient,
                good.dose_day,
                good.dose_ug,
            )
        )
