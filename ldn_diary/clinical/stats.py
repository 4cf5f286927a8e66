"""Vectorised statistics for one patient's change: Newey-West interval, Tau-U, IMMPACT classes.

Every function works on whole arrays (many patients and windows at once) so the engine never loops
over patients.  Time is always the LAST axis, one slot per calendar day, with NaN on days without a
value: keeping the missing days as slots is what makes HAC lags calendar lags
(docs/clinical-rules.md §3).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .arrays import FloatArray, IntArray
from .constants import (
    CI_QUANTILE,
    CLASS_LABELS,
    COMPARE_EPS,
    HAC_LAG_EXPONENT,
    HAC_LAG_FACTOR,
    HAC_LAG_SCALE,
    IMMPACT_MINIMAL_PCT,
    IMMPACT_MODERATE_PCT,
    IMMPACT_SUBSTANTIAL_PCT,
    PARTLY_TAKEN_WEIGHT,
)

__all__ = (
    "class_codes",
    "dose_adherence",
    "shown_percent",
    "classify_pct",
    "hac_lag",
    "hac_long_run_variance",
    "t_quantile",
    "tau_u",
    "tau_u_pair_sum",
    "tau_u_trend_sum",
)


def hac_lag(n: IntArray | int) -> IntArray:
    """Newey-West lag L = floor(4 (n/100)^(2/9)) for n values; 0 where n is 0."""
    n_arr = np.asarray(n, dtype=np.float64)
    lag = np.floor(HAC_LAG_FACTOR * (n_arr / HAC_LAG_SCALE) ** HAC_LAG_EXPONENT)
    return np.where(n_arr > 0, lag, 0).astype(np.int64)


def hac_long_run_variance(y: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """Long-run variance, count and mean of each series along the last axis (NaN = missing day).

    LRV = gamma_0 + 2 sum_{l=1..L} (1 - l/(L+1)) gamma_l with gamma_l = (1/n) sum_t e_t e_{t-l},
    e_t = y_t - mean on days with a value and 0 on missing days, and L from `hac_lag(n)` per series.
    This is exactly statsmodels' `cov_hac_simple` (without its small-sample correction) times n,
    which tests/clinical/test_hac.py checks.  Series with n == 0 get NaN for LRV and mean.
    """
    y = np.asarray(y, dtype=np.float64)
    present = ~np.isnan(y)
    n = present.sum(axis=-1)
    total = np.where(present, y, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    resid = np.where(present, y - mean[..., None], 0.0)
    lag = hac_lag(n)
    acc = (resid * resid).sum(axis=-1)
    max_lag = min(int(lag.max()) if lag.size else 0, y.shape[-1] - 1)
    for ell in range(1, max_lag + 1):
        gamma = (resid[..., ell:] * resid[..., :-ell]).sum(axis=-1)
        weight = np.where(ell <= lag, 1.0 - ell / (lag + 1.0), 0.0)
        acc = acc + 2.0 * weight * gamma
    with np.errstate(invalid="ignore", divide="ignore"):
        lrv = acc / n
    # The Bartlett-weighted sum is a sum of squares in exact arithmetic; clip rounding noise so a
    # constant series never yields sqrt of a tiny negative number.
    lrv = np.where(n > 0, np.maximum(lrv, 0.0), np.nan)
    return lrv, n, np.where(n > 0, mean, np.nan)


# Student t quantiles at CI_QUANTILE by degrees of freedom, filled as they are first needed.
_T_QUANTILES: dict[int, float] = {}


def t_quantile(df: IntArray) -> FloatArray:
    """Student t quantile at CI_QUANTILE for integer degrees of freedom (NaN where df < 1).

    Degrees of freedom take few distinct values (at most 26 for two 14-day windows), and
    scipy's ppf costs about 0.1 ms a call however few values it gets, so each value's quantile
    is computed once per process and kept (a recompute after every diary save would otherwise
    pay it each time).
    """
    df = np.asarray(df, dtype=np.int64)
    out = np.full(df.shape, np.nan)
    ok = df >= 1
    if ok.any():
        values, inverse = np.unique(df[ok], return_inverse=True)
        wanted = values.tolist()
        missing = [v for v in wanted if v not in _T_QUANTILES]
        if missing:
            # Imported here: scipy.stats takes about a second to import, which every process
            # that loads the app (manage.py, workers, the test suite's subprocesses) would pay
            # otherwise.
            from scipy import stats as _scipy_stats

            quantiles = np.asarray(_scipy_stats.t.ppf(CI_QUANTILE, missing), dtype=np.float64)
            _T_QUANTILES.update(zip(missing, quantiles.tolist(), strict=True))
        out[ok] = np.array([_T_QUANTILES[v] for v in wanted])[inverse]
    return out


def tau_u_pair_sum(a: FloatArray, b: FloatArray, chunk: int = 2048) -> IntArray:
    """S_AB = sum over (a, b) pairs of sign(b - a), along the last axes (NaN pairs count 0).

    Values must already be oriented so that an increase is an improvement.  The pairwise array is
    (rows, Ta, Tb), so rows are processed in chunks to bound memory for large cohorts.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    lead = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    a2 = np.broadcast_to(a, (*lead, a.shape[-1])).reshape(-1, a.shape[-1])
    b2 = np.broadcast_to(b, (*lead, b.shape[-1])).reshape(-1, b.shape[-1])
    out = np.zeros(a2.shape[0], dtype=np.int64)
    for lo in range(0, a2.shape[0], chunk):
        diff = b2[lo : lo + chunk, None, :] - a2[lo : lo + chunk, :, None]
        # Comparisons with NaN are False, so missing days drop out of both counts.
        out[lo : lo + chunk] = np.count_nonzero(diff > 0, axis=(1, 2)) - np.count_nonzero(
            diff < 0, axis=(1, 2)
        )
    return out.reshape(lead)


def tau_u_trend_sum(a: FloatArray) -> IntArray:
    """S_A = sum over i < j (time order) of sign(a_j - a_i): the baseline's own improving trend."""
    a = np.asarray(a, dtype=np.float64)
    t = a.shape[-1]
    later = np.triu(np.ones((t, t), dtype=bool), k=1)  # [i, j] is True where j comes after i
    diff = a[..., None, :] - a[..., :, None]  # [..., i, j] = a_j - a_i
    up = np.count_nonzero((diff > 0) & later, axis=(-2, -1))
    down = np.count_nonzero((diff < 0) & later, axis=(-2, -1))
    # count_nonzero is typed as returning Any; the difference is an int64 array for any input
    # with a leading axis, which is how the engine calls this.
    trend: IntArray = (up - down).astype(np.int64)
    return trend


def tau_u(a: FloatArray, b: FloatArray) -> FloatArray:
    """Tau-U (Parker et al. 2011) = (S_AB - S_A) / (n_A n_B); NaN where either phase is empty.

    `a` is the baseline and `b` the treatment window, time on the last axis, oriented so that an
    increase is an improvement (the engine negates pain and fatigue before calling this).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n_a = (~np.isnan(a)).sum(axis=-1)
    n_b = (~np.isnan(b)).sum(axis=-1)
    s_ab = tau_u_pair_sum(a, b)
    s_a = tau_u_trend_sum(a)
    denom = n_a * n_b
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (s_ab - s_a) / denom, np.nan)


def class_codes(pct: FloatArray) -> npt.NDArray[np.int8]:
    """IMMPACT class of each percent improvement as a code: 0 = no class (NaN), 1..4 = CLASS_LABELS.

    The engine computes percentages from integer sums so that e.g. 100 * (10 - 7) / 10 is exactly
    30.0; COMPARE_EPS only protects callers that pass float-derived percentages.
    """
    pct = np.asarray(pct, dtype=np.float64)
    code = (
        1
        + (pct >= IMMPACT_MINIMAL_PCT - COMPARE_EPS).astype(np.int8)
        + (pct >= IMMPACT_MODERATE_PCT - COMPARE_EPS).astype(np.int8)
        + (pct >= IMMPACT_SUBSTANTIAL_PCT - COMPARE_EPS).astype(np.int8)
    )
    return np.where(np.isnan(pct), 0, code).astype(np.int8)


def dose_adherence(yes: FloatArray, partly: FloatArray, answered: FloatArray) -> FloatArray:
    """Share of answered days with the dose taken, a partly taken dose counting half (0-1);
    NaN where no day was answered. Days without LDN are never answered (docs/clinical-rules.md
    §3), so they are not missed doses. Works on arrays (the engine) and on numbers (the roster).
    """
    answered_f = np.asarray(answered, dtype=np.float64)
    taken = np.asarray(yes, dtype=np.float64) + PARTLY_TAKEN_WEIGHT * np.asarray(
        partly, dtype=np.float64
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(answered_f > 0, taken / answered_f, np.nan)
    return result


def shown_percent(pct: float) -> int:
    """A percent change as a page shows it: a whole number truncated toward zero, so it never
    contradicts its class (29.7 % shows as 29 %, minimal, never as 30 %). The same COMPARE_EPS
    as the classes keeps a float that is 30 in exact arithmetic at 30 (docs/clinical-rules.md §2).
    """
    nudged = pct + COMPARE_EPS if pct >= 0 else pct - COMPARE_EPS
    return int(np.trunc(nudged))


def classify_pct(pct: float | None) -> str | None:
    """IMMPACT label ("none", "minimal", "moderate", "substantial") of one percent improvement."""
    if pct is None or np.isnan(pct):
        return None
    return CLASS_LABELS[int(class_codes(np.array(pct))) - 1]
