"""The engine against independent oracles on random diaries.

* _reference.py: a plain day-by-day reading of docs/clinical-rules.md §2-3 in exact rational
  arithmetic.
* pandas: `rolling("7D", min_periods=4)` on the calendar-reindexed series.
* statsmodels: OLS on a constant with a HAC covariance.  statsmodels' cov_hac_simple is the
  sandwich (X'X)^-1 S (X'X)^-1 with S = sum_t x_t e_t (x_t e_t)' plus Bartlett-weighted lag terms;
  for X = ones that is S / n^2 with S = n * LRV, so its squared standard error is exactly our
  LRV / n when `use_correction=False` (with the correction it would be multiplied by n / (n - 1)).
* The cohort itself: every patient inside a cohort gives exactly what they give alone.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from ldn_diary.clinical import compare_windows, compute_cohort, stats

from ._helpers import DAY0, assert_matches, cohort_input, daily, diaries, merge, run
from ._reference import reference

FAST = settings(deadline=None, max_examples=120)


def as_list(x: np.ndarray) -> list:
    return [None if np.isnan(v) else float(v) for v in x]


@FAST
@given(diaries())
def test_engine_matches_the_reference_implementation(diary):
    entries, doses = diary
    result = run(entries, doses)
    expected_daily, expected_summary = reference(entries, doses)

    assert result.day_day.tolist() == [row["day"] for row in expected_daily]
    assert (result.day_patient == 0).all()
    assert result.day_dose_ug.tolist() == [row["dose"] for row in expected_daily]
    assert result.day_logged.tolist() == [row["logged"] for row in expected_daily]
    assert result.day_rolling_n.tolist() == [row["rolling_n"] for row in expected_daily]
    for k in range(4):
        assert_matches(as_list(result.day_rolling[:, k]), [r["rolling"][k] for r in expected_daily])
        assert_matches(
            as_list(result.day_change_pct[:, k]), [r["change_pct"][k] for r in expected_daily]
        )
    assert_matches(result.summaries[0], expected_summary)


@settings(deadline=None, max_examples=60)
@given(diaries())
def test_rolling_means_match_pandas(diary):
    entries, _ = diary
    result = run(entries, [])
    if not entries:
        assert len(result.day_day) == 0
        return
    days = sorted(entries)
    frame = pd.DataFrame(
        [[np.nan if v is None else v for v in entries[d]] for d in days],
        index=pd.DatetimeIndex([pd.Timestamp(date.fromordinal(d)) for d in days]),
    )
    calendar = frame.reindex(pd.date_range(frame.index[0], frame.index[-1], freq="D"))
    rolling = calendar.rolling("7D", min_periods=4)
    expected_mean = rolling.mean().to_numpy()
    expected_n = rolling.count().to_numpy()

    assert len(result.day_day) == len(calendar)
    np.testing.assert_allclose(result.day_rolling, expected_mean, rtol=1e-12, atol=1e-12)
    # pandas reports no count below min_periods; compare counts where it has them.
    has = ~np.isnan(expected_n)
    assert (result.day_rolling_n[has] == expected_n[has]).all()


@settings(deadline=None, max_examples=40)
@given(st.lists(diaries(), min_size=1, max_size=6))
def test_a_cohort_gives_each_patient_exactly_their_own_result(patients):
    cohort = compute_cohort(cohort_input(patients))
    for p, (entries, doses) in enumerate(patients):
        alone = run(entries, doses)
        rows = cohort.day_patient == p
        assert cohort.day_day[rows].tolist() == alone.day_day.tolist()
        for name in ("day_dose_ug", "day_logged", "day_rolling_n"):
            assert getattr(cohort, name)[rows].tolist() == getattr(alone, name).tolist()
        for name in ("day_rolling", "day_change_pct"):
            np.testing.assert_array_equal(getattr(cohort, name)[rows], getattr(alone, name))
        assert cohort.summaries[p] == alone.summaries[0]


@settings(deadline=None, max_examples=80)
@given(
    st.lists(st.integers(0, 10), min_size=2, max_size=150),
    st.floats(0, 1),
)
def test_long_run_variance_matches_statsmodels(values, jitter):
    y = np.array(values, dtype=float) + jitter * np.arange(len(values)) / len(values)
    lrv, n, mean = stats.hac_long_run_variance(y)
    lag = int(stats.hac_lag(n))
    fit = sm.OLS(y, np.ones(len(y))).fit(
        cov_type="HAC", cov_kwds={"maxlags": lag, "use_correction": False}
    )
    assert np.isclose(fit.params[0], mean, rtol=1e-12)
    assert np.isclose(fit.bse[0] ** 2, lrv / n, rtol=1e-9, atol=1e-12)


@settings(deadline=None, max_examples=40)
@given(
    st.lists(st.integers(0, 10), min_size=14, max_size=14),
    st.lists(st.one_of(st.integers(0, 10), st.none()), min_size=14, max_size=14),
)
def test_engine_interval_is_compare_windows_on_the_same_days(baseline, window):
    """Whatever the cohort around it, a window's interval and verdict are exactly
    compare_windows' (whose own oracle is statsmodels' GLS, in test_compare.py)."""
    entries = merge(
        {DAY0 + d: (float(v), None, None, None) for d, v in enumerate(baseline)},
        daily(range(14, 28), pain=5),
        {
            DAY0 + 28 + d: (float(v), None, None, None)
            for d, v in enumerate(window)
            if v is not None
        },
    )
    pain = run(entries, [(DAY0 + 14, 1500)]).summaries[0]["windows"][0]["symptoms"]["pain"]
    slots = [np.nan if v is None else float(v) for v in window]
    expected = compare_windows([float(v) for v in baseline], slots)
    if sum(v is not None for v in window) < 10:  # the window itself is not valid: no verdict
        assert pain["beyond_noise"] is None and pain["ci_low"] is None
        return
    assert np.isclose(pain["change_points"], expected.change_points, rtol=1e-12, atol=1e-12)
    assert (pain["ci_low"], pain["ci_high"]) == (expected.ci_low, expected.ci_high)
    assert pain["beyond_noise"] is expected.beyond_noise
