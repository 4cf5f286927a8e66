"""Diary builders, a hypothesis strategy for random diaries, and a tolerant dict comparison."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ldn_diary.clinical import CohortInput, CohortResult, compute_cohort

from ._reference import Doses, Entries

DAY0 = date(2024, 3, 4).toordinal()


def cohort_input(patients: list[tuple[Entries, Doses]]) -> CohortInput:
    """CohortInput for several (entries, doses) patients, days as ordinals."""
    ep, ed, ev, dp, dd, du = [], [], [], [], [], []
    for p, (entries, doses) in enumerate(patients):
        for day in sorted(entries):
            ep.append(p)
            ed.append(day)
            ev.append([np.nan if v is None else v for v in entries[day]])
        for day, ug in sorted(doses, key=lambda d: d[0]):
            dp.append(p)
            dd.append(day)
            du.append(ug)
    return CohortInput(
        n_patients=len(patients),
        entry_patient=np.array(ep, dtype=np.int64),
        entry_day=np.array(ed, dtype=np.int64),
        entry_values=np.array(ev, dtype=np.float64).reshape(-1, 4),
        dose_patient=np.array(dp, dtype=np.int64),
        dose_day=np.array(dd, dtype=np.int64),
        dose_ug=np.array(du, dtype=np.int64),
    )


def run(entries: Entries, doses: Doses) -> CohortResult:
    return compute_cohort(cohort_input([(entries, doses)]))


def daily(
    days: range | list[int], pain=None, fatigue=None, sleep=None, mood=None, *, base: int = DAY0
) -> Entries:
    """Entries on DAY0 + each offset, the same values every day (None = not recorded)."""
    return {base + d: (pain, fatigue, sleep, mood) for d in days}


def merge(*parts: Entries) -> Entries:
    out: Entries = {}
    for part in parts:
        out.update(part)
    return out


def row_of(result: CohortResult, day_offset: int, patient: int = 0) -> int:
    hits = np.flatnonzero((result.day_patient == patient) & (result.day_day == DAY0 + day_offset))
    assert len(hits) == 1
    return int(hits[0])


@st.composite
def diaries(draw: st.DrawFn) -> tuple[Entries, Doses]:
    """A random diary with gaps, partly missing symptoms and a random dose history.

    Hypothesis draws the shape (length, completeness, noise, dose steps) and a seed; numpy fills in
    the days, which keeps examples fast while still covering valid and invalid baselines, zero
    baselines (level 0 without noise), steps before and after the data, pauses and repeats.
    """
    n_days = draw(st.integers(0, 110))
    completeness = draw(st.sampled_from([0.45, 0.75, 0.85, 0.95, 1.0]))
    missing_symptom = draw(st.sampled_from([0.0, 0.0, 0.1, 0.4]))
    noise = draw(st.sampled_from([0.0, 1.6, 1.6]))
    seed = draw(st.integers(0, 2**32 - 1))
    offset = draw(st.integers(0, 30))
    # Mostly a titration that starts a couple of weeks into the diary (so baselines are often
    # valid), sometimes arbitrary changes anywhere, including before and after the data.
    if draw(st.booleans()) or draw(st.booleans()):
        day = offset + draw(st.integers(8, 24))
        doses = [(day, draw(st.sampled_from([100, 1500, 3000])))]
        for _ in range(draw(st.integers(0, 4))):
            day += draw(st.integers(1, 35))
            doses.append((day, draw(st.sampled_from([0, 1500, 3000, 4500, 4500]))))
    else:
        doses = draw(
            st.lists(
                st.tuples(
                    st.integers(-20, 120), st.sampled_from([0, 0, 100, 1500, 1500, 3000, 4500])
                ),
                max_size=6,
            )
        )
    rng = np.random.default_rng(seed)
    level = rng.integers(0, 11, 4).astype(float)
    drop = rng.integers(0, 6, 4)
    entries: Entries = {}
    first_dose = min((d for d, ug in doses if ug), default=10**6)
    for i in range(n_days):
        if rng.random() >= completeness:
            continue
        centre = level - (drop if offset + i >= first_dose else 0)
        values = np.clip(np.rint(centre + rng.normal(0, 1, 4) * noise), 0, 10)
        entries[DAY0 + offset + i] = tuple(
            None if rng.random() < missing_symptom else float(v) for v in values
        )
    return entries, [(DAY0 + d, ug) for d, ug in doses]


def assert_matches(actual: Any, expected: Any, path: str = "$") -> None:
    """Equal structure and values; floats to 1e-9 relative (or absolute near 0)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert set(actual) >= set(expected), f"{path}: missing {set(expected) - set(actual)}"
        for key, value in expected.items():
            assert_matches(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, f"{path}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, float), f"{path}: {actual!r} is not a float"
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9), (
            f"{path}: {actual!r} != {expected!r}"
        )
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} vs {expected!r}"
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
