"""Is one patient's change between two windows beyond day-to-day variation? (docs/clinical-rules.md §3)

The model: within each window the daily scores are a window mean plus AR(1) noise, with one
lag-1 autocorrelation rho and one variance shared by both windows, and the two windows independent
of each other.  Missing days keep their calendar slot, so a value two days after the previous one
is correlated rho^2 with it, not rho: autocorrelation is a property of calendar lags.  The windows
the engine compares lie at least a week after the baseline (week windows start two weeks after
it, a dose-phase window skips its phase's first 7 days), so their correlation is small, and
positive: ignoring it can only widen the interval.

For each comparison:

1. rho is estimated by restricted maximum likelihood (REML: the likelihood of the within-window
   contrasts, which is not biased by the two estimated means the way plain ML is), searched on a
   grid over [0, AUTOCORR_MAX] and refined by two parabolic steps;
2. the estimate is bias-corrected, rho~ = rho_REML * N / (N - 4) (Cheang & Reinsel 2000: REML's
   bias is about -2 rho / m for a series of m values with its own mean; N values in two windows),
   and kept within [AUTOCORR_MIN, AUTOCORR_MAX] (constants.py says why);
3. the noise variance sigma^2 is the REML estimate at rho~: the residual sum of squares of the
   generalised least squares (GLS) fit, whitened by the AR(1) transform, over N - 2;
4. the change is the difference of the two plain window means (the same numbers the rest of the
   page shows), with variance sigma^2 (S_b / n_b^2 + S_w / n_w^2), where S = sum over all pairs of
   logged days i, j of the window of rho~^|t_i - t_j| (the variance of a mean of correlated
   values);
5. the 95 % interval is change +/- t(CI_QUANTILE, N - 2) x SE, and the change is beyond
   day-to-day variation when the interval excludes zero.

Why this and not the Newey-West interval: with 14 + 14 days a kernel estimate of the long-run
variance is badly biased low, and more so the more autocorrelated the diary.  The simulation in
bench/calibration.py, which bench/README.md reports, shows the error rates this method gets.

Everything is vectorised over comparisons (rows); `compare_windows` is `compare_windows_batch`
with one row.  A row's results are bit-identical whatever other rows share its batch, which the
engine's stored fingerprints rely on (see `_Segment.whitened_grid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from .arrays import BoolArray, FloatArray, IntArray
from .constants import (
    AUTOCORR_BIAS_FACTOR,
    AUTOCORR_BIAS_SEGMENTS,
    AUTOCORR_GRID_STEP,
    AUTOCORR_MAX,
    AUTOCORR_MIN,
    COMPARE_MIN_VALUES,
)
from .stats import t_quantile

__all__ = (
    "VERDICT_WORDS",
    "Comparison",
    "WindowComparisons",
    "compare_windows",
    "compare_windows_batch",
    "fit_autocorrelation",
)

# Tri-state codes of WindowComparisons.beyond, the same convention as the engine's stored codes.
NOT_ASSESSABLE, WITHIN, BEYOND = 0, 1, 2

# Rows per chunk of compare_windows_batch: every step is a handful of elementwise passes over
# (rows, grid) arrays, several times faster while a chunk's arrays stay in the CPU cache.
_CHUNK = 2048

# Grid of the REML search; AUTOCORR_MAX is a multiple of the step, so it is a grid point.
_GRID = np.linspace(0.0, AUTOCORR_MAX, round(AUTOCORR_MAX / AUTOCORR_GRID_STEP) + 1)


# How the product says the verdict, everywhere (docs/clinical-rules.md §3): never "reliable",
# "significant" or anything causal.
VERDICT_WORDS: dict[bool | None, str] = {
    True: "beyond day-to-day variation",
    False: "within day-to-day variation",
    None: "not assessable against day-to-day variation",
}


class WindowComparisons(NamedTuple):
    """R comparisons at once; every array is (R,)."""

    change: FloatArray  # change in points, positive = better; NaN if either window is empty
    ci_low: FloatArray  # 95 % interval of `change`; NaN where not assessable
    ci_high: FloatArray
    beyond: IntArray  # 0 = not assessable, 1 = within, 2 = beyond day-to-day variation


@dataclass(frozen=True)
class Comparison:
    """One comparison, for people and scripts; NaN never appears (None instead)."""

    change_points: float | None
    ci_low: float | None
    ci_high: float | None
    beyond_noise: bool | None
    n_baseline: int
    n_window: int

    def __getitem__(self, key: str) -> float | bool | int | None:
        if key not in _FIELD_NAMES:
            raise KeyError(key)
        value: float | bool | int | None = getattr(self, key)
        return value

    def as_dict(self) -> dict[str, float | bool | int | None]:
        return {name: self[name] for name in _FIELD_NAMES}


_FIELD_NAMES = tuple(f.name for f in fields(Comparison))


def compare_windows(
    baseline: Sequence[float] | FloatArray,
    window: Sequence[float] | FloatArray,
    *,
    higher_is_better: bool = False,
) -> Comparison:
    """Change from `baseline` to `window` and whether it is beyond day-to-day variation.

    Each input has one slot per calendar day in order, NaN (or None) for a day without a value;
    any length, 0 included.  The change
    is baseline mean - window mean (window - baseline with `higher_is_better`, e.g. sleep and
    mood), so positive is better.  `beyond_noise` and the interval are None when the change is
    not assessable: fewer than COMPARE_MIN_VALUES values in either window, or no day-to-day
    variation at all (every value of each window the same).
    """
    base = np.asarray(baseline, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    if base.ndim != 1 or win.ndim != 1:
        raise ValueError("baseline and window must be one-dimensional")
    out = compare_windows_batch(base[None, :], win[None, :], higher_is_better=higher_is_better)
    code = int(out.beyond[0])
    return Comparison(
        change_points=_optional(out.change[0]),
        ci_low=_optional(out.ci_low[0]),
        ci_high=_optional(out.ci_high[0]),
        beyond_noise=None if code == NOT_ASSESSABLE else code == BEYOND,
        n_baseline=int(np.count_nonzero(~np.isnan(base))),
        n_window=int(np.count_nonzero(~np.isnan(win))),
    )


def compare_windows_batch(
    baseline: FloatArray,
    window: FloatArray,
    *,
    higher_is_better: bool | BoolArray = False,
) -> WindowComparisons:
    """`compare_windows` for R comparisons: baseline (R, T1), window (R, T2), NaN = no value.

    `higher_is_better` is one bool for all rows or an (R,) bool array.  The engine's
    (R, 4, 14) symptom windows go in as (4R, 14) rows with `higher_is_better` tiled per symptom.
    """
    # Contiguous, so that every row's reductions run the same way whatever the batch (a strided
    # view, e.g. one symptom of the engine's (R, 4, 14) array, could sum in another order).
    base = np.ascontiguousarray(baseline, dtype=np.float64)
    win = np.ascontiguousarray(window, dtype=np.float64)
    if base.ndim != 2 or win.ndim != 2 or base.shape[0] != win.shape[0]:
        raise ValueError("baseline and window must be (R, T1) and (R, T2) arrays")
    if np.isinf(base).any() or np.isinf(win).any():
        raise ValueError("values must be finite or NaN")
    rows = base.shape[0]
    better_up = np.broadcast_to(np.asarray(higher_is_better, dtype=bool), (rows,))
    sign = np.where(better_up, -1.0, 1.0)

    b_present, n_b, mean_b = _counts_and_means(base)
    w_present, n_w, mean_w = _counts_and_means(win)
    change = np.where((n_b > 0) & (n_w > 0), sign * (mean_b - mean_w), np.nan)

    ci_low = np.full(rows, np.nan)
    ci_high = np.full(rows, np.nan)
    beyond = np.zeros(rows, dtype=np.int64)
    enough = (n_b >= COMPARE_MIN_VALUES) & (n_w >= COMPARE_MIN_VALUES)
    # No variation at all (each window constant) leaves a zero variance estimate: the interval
    # would have zero width, and nothing can be said about day-to-day variation.
    varies = _varies(base) | _varies(win)
    todo = np.flatnonzero(enough & varies)
    if len(todo):
        half = np.empty(len(todo))
        for lo in range(0, len(todo), _CHUNK):
            part = todo[lo : lo + _CHUNK]
            half[lo : lo + _CHUNK] = _half_width(
                base[part], b_present[part], mean_b[part], win[part], w_present[part], mean_w[part]
            )
        ok = np.isfinite(half) & (half > 0)
        done = todo[ok]
        ci_low[done] = change[done] - half[ok]
        ci_high[done] = change[done] + half[ok]
        beyond[done] = np.where((ci_low[done] > 0) | (ci_high[done] < 0), BEYOND, WITHIN)
    return WindowComparisons(change=change, ci_low=ci_low, ci_high=ci_high, beyond=beyond)


def fit_autocorrelation(baseline: FloatArray, window: FloatArray) -> FloatArray:
    """The bias-corrected autocorrelation rho~ the interval uses, per row (steps 1-2 above).

    Meaningful for the rows compare_windows_batch assesses (at least COMPARE_MIN_VALUES values in
    each window, not all constant).  For diagnostics and the tests, which check it against an
    independent dense-matrix REML.
    """
    base = np.asarray(baseline, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    b_present, n_b, mean_b = _counts_and_means(base)
    w_present, n_w, mean_w = _counts_and_means(win)
    seg_b = _Segment.of(base, b_present, mean_b)
    seg_w = _Segment.of(win, w_present, mean_w)
    return _corrected_rho(seg_b, seg_w)


# --------------------------------------------------------------------------------------------------
# Internals


def _optional(x: np.float64) -> float | None:
    return None if np.isnan(x) else float(x)


def _counts_and_means(y: FloatArray) -> tuple[BoolArray, IntArray, FloatArray]:
    present = ~np.isnan(y)
    n = present.sum(axis=1)
    total = np.where(present, y, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
    return present, n, mean


def _varies(y: FloatArray) -> BoolArray:
    """True where a row holds two different values (NaN ignored; exact, no tolerance)."""
    if y.shape[1] == 0:
        return np.zeros(y.shape[0], dtype=bool)
    # fmax/fmin skip NaN; an all-NaN row gives NaN and compares False.
    result: BoolArray = np.fmax.reduce(y, axis=1) > np.fmin.reduce(y, axis=1)
    return result


@dataclass
class _Segment:
    """One window of R rows, reduced to what the AR(1) likelihood and variance need.

    The whitening (Prais-Winsten) transform of AR(1) values observed on calendar days t_1 < t_2 <
    ...: the first value stays as it is, and each later one becomes (y_i - r y_{i-1}) /
    sqrt(1 - r^2) with r = rho^(t_i - t_{i-1}), which leaves independent terms of equal variance.
    Its sums depend on the data only through the first value and, for each gap g = t_i - t_{i-1},
    six sums over the consecutive pairs with that gap, so the likelihood at any rho costs O(G)
    per row instead of O(T).
    """

    present: BoolArray  # (R, T)
    n: IntArray  # (R,)
    first: FloatArray  # (R,) first value, centred on the window mean
    pairs: FloatArray  # (6, R, G): count, sum y_i, sum y_{i-1}, sum y_i^2, sum y_{i-1}^2,
    #                    sum y_i y_{i-1}, over consecutive values g = 1..G days apart

    @classmethod
    def of(cls, y: FloatArray, present: BoolArray, mean: FloatArray) -> _Segment:
        rows, days = y.shape
        # Centring on the window's own mean changes nothing in the likelihood (the mean is
        # estimated anyway) and keeps the sums of squares well conditioned.  Missing days are 0.
        centred = np.where(present, y - mean[:, None], 0.0)
        first = centred[np.arange(rows), np.argmax(present, axis=1)]
        # Gap 1, by far the most common: consecutive calendar days, summed over slices.
        both = (present[:, 1:] & present[:, :-1]).astype(np.float64)
        cur, prev = centred[:, 1:], centred[:, :-1]
        cur_b, prev_b = cur * both, prev * both
        adjacent = (both, cur_b, prev_b, cur * cur_b, prev * prev_b, cur * prev)
        # Longer gaps (a missing day between two values): few pairs, summed by bincount.
        slot = np.arange(days)
        last_seen = np.maximum.accumulate(np.where(present, slot, -1), axis=1)
        previous = np.full((rows, days), -1, dtype=np.int64)
        previous[:, 1:] = last_seen[:, :-1]
        row_of, day_of = np.nonzero(present & (previous >= 0) & (previous < slot - 1))
        before = previous[row_of, day_of]
        gap = day_of - before
        max_gap = int(gap.max()) if len(gap) else (1 if days > 1 else 0)
        pairs = np.zeros((6, rows, max_gap))
        if max_gap:
            for k, term in enumerate(adjacent):
                pairs[k, :, 0] = term.sum(axis=1)
        if len(gap):
            key = row_of * max_gap + gap - 1
            size = rows * max_gap
            y_i, y_prev = centred[row_of, day_of], centred[row_of, before]
            for k, weights in enumerate(
                (None, y_i, y_prev, y_i * y_i, y_prev * y_prev, y_i * y_prev)
            ):
                # Each row's bins are filled in day order whatever other rows there are.
                pairs[k] += np.bincount(key, weights=weights, minlength=size).reshape(rows, max_gap)
        return cls(present=present, n=present.sum(axis=1), first=first, pairs=pairs)

    def whitened_grid(
        self, rho: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """X'V^-1 X, X'V^-1 y, y'V^-1 y and log det V, each (R, K), for rho (K,) shared by all
        rows, or each (R, 1) for rho (R, 1), one per row.

        V is the AR(1) correlation matrix of the logged days and X the column of ones.
        """
        column = self.first[:, None]
        shape = np.broadcast_shapes(column.shape, rho.shape)
        xx = np.ones(shape)
        xy = np.broadcast_to(column, shape).copy()
        yy = np.broadcast_to(column * column, shape).copy()
        log_det = np.zeros(shape)
        cnt, s_y, s_prev, s_yy, s_pp, s_yp = (p[:, :, None] for p in self.pairs)
        # Gap by gap, in a fixed order and elementwise, never by a matrix product or a reduction
        # over the gap axis: a row's sums then come out bit-identical whatever other rows share
        # its batch (gaps another row has add exact zeros here), as the engine's fingerprints need.
        for g in range(self.pairs.shape[2]):
            r = rho ** (g + 1)
            one_plus = 1.0 + r
            one_minus_sq = 1.0 - r * r
            xx += cnt[:, g] * ((1.0 - r) / one_plus)
            xy += s_y[:, g] * (1.0 / one_plus)
            xy -= s_prev[:, g] * (r / one_plus)
            yy += s_yy[:, g] * (1.0 / one_minus_sq)
            yy -= s_yp[:, g] * (2.0 * r / one_minus_sq)
            yy += s_pp[:, g] * (r * r / one_minus_sq)
            log_det += cnt[:, g] * np.log(one_minus_sq)
        return xx, xy, yy, log_det

    def whitened_rows(
        self, rho: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The same four sums, each (R,), for one rho per row."""
        xx, xy, yy, log_det = self.whitened_grid(rho[:, None])
        return xx[:, 0], xy[:, 0], yy[:, 0], log_det[:, 0]

    def correlation_sum(self, rho: FloatArray) -> FloatArray:
        """S = sum over logged days i, j of rho^|t_i - t_j|, so that Var(mean) = sigma^2 S / n^2.

        Calendar recursion: h_t = sum over logged s < t of rho^(t-s) = rho (h_{t-1} + [t-1 logged]).
        """
        present = self.present.astype(np.float64)
        h = np.zeros(len(rho))
        cross = np.zeros(len(rho))
        for t in range(1, present.shape[1]):
            h = rho * (h + present[:, t - 1])
            cross += present[:, t] * h
        result: FloatArray = self.n + 2.0 * cross
        return result


def _reml_grid(seg_b: _Segment, seg_w: _Segment, rho: FloatArray) -> FloatArray:
    """REML log-likelihood (up to a constant), (R, K), at K values of rho shared by all rows.

    loglik = -1/2 [(N - 2) log RSS + log det V + log det X'V^-1 X] with sigma^2 profiled out, X
    the two window indicators and RSS the whitened residual sum of squares of the GLS fit; the
    windows are independent, so each term is a sum over the two.
    """
    xx_b, xy_b, yy_b, ld_b = seg_b.whitened_grid(rho)
    xx_w, xy_w, yy_w, ld_w = seg_w.whitened_grid(rho)
    # RSS >= 0 in exact arithmetic; the clip only removes rounding noise.
    rss = np.maximum(yy_b - xy_b * xy_b / xx_b, 0.0) + np.maximum(yy_w - xy_w * xy_w / xx_w, 0.0)
    df = (seg_b.n + seg_w.n - 2).astype(np.float64)[:, None]
    with np.errstate(divide="ignore"):
        loglik: FloatArray = -0.5 * (df * np.log(rss) + ld_b + ld_w + np.log(xx_b * xx_w))
    return loglik


def _reml_rows(seg_b: _Segment, seg_w: _Segment, rho: FloatArray) -> tuple[FloatArray, FloatArray]:
    """REML log-likelihood and whitened RSS, each (R,), at one rho per row."""
    xx_b, xy_b, yy_b, ld_b = seg_b.whitened_rows(rho)
    xx_w, xy_w, yy_w, ld_w = seg_w.whitened_rows(rho)
    rss = np.maximum(yy_b - xy_b * xy_b / xx_b, 0.0) + np.maximum(yy_w - xy_w * xy_w / xx_w, 0.0)
    df = (seg_b.n + seg_w.n - 2).astype(np.float64)
    with np.errstate(divide="ignore"):
        loglik: FloatArray = -0.5 * (df * np.log(rss) + ld_b + ld_w + np.log(xx_b * xx_w))
    return loglik, rss


def _peak(
    x0: FloatArray, x1: FloatArray, x2: FloatArray, f0: FloatArray, f1: FloatArray, f2: FloatArray
) -> FloatArray:
    """Abscissa of the maximum of the parabola through three points; NaN if it has none."""
    d0, d2 = x1 - x0, x1 - x2
    num = d0 * d0 * (f1 - f2) - d2 * d2 * (f1 - f0)
    den = d0 * (f1 - f2) - d2 * (f1 - f0)
    # For x0 < x1 < x2 the parabola opens downward exactly when den > 0.
    with np.errstate(invalid="ignore", divide="ignore"):
        peak: FloatArray = np.where((den > 0) & (x0 < x1) & (x1 < x2), x1 - 0.5 * num / den, np.nan)
    return peak


def _refine(points: FloatArray, values: FloatArray) -> FloatArray:
    """One parabolic step from P points per row (R, P): the best point and its two neighbours.

    The result stays between the neighbours of the best point (on [best, neighbour] when the best
    is the first or last point), and is the best point itself where no parabola fits.
    """
    order = np.argsort(points, axis=1)
    xs = np.take_along_axis(points, order, axis=1)
    fs = np.take_along_axis(values, order, axis=1)
    rows = np.arange(len(xs))
    last = xs.shape[1] - 1
    best = np.argmax(fs, axis=1)
    mid = np.clip(best, 1, last - 1)
    peak = _peak(
        xs[rows, mid - 1],
        xs[rows, mid],
        xs[rows, mid + 1],
        fs[rows, mid - 1],
        fs[rows, mid],
        fs[rows, mid + 1],
    )
    low = xs[rows, np.maximum(best - 1, 0)]
    high = xs[rows, np.minimum(best + 1, last)]
    result: FloatArray = np.where(np.isnan(peak), xs[rows, best], np.clip(peak, low, high))
    return result


def _reml_rho(seg_b: _Segment, seg_w: _Segment) -> FloatArray:
    """REML estimate of rho on [0, AUTOCORR_MAX]: a grid, then two parabolic steps.

    The second step is successive parabolic interpolation: the first step's point is evaluated
    and the parabola refitted around the best of the four points.  On diaries the result agrees
    with a dense-matrix REML maximised by scipy to about 1e-3 (tests/clinical/test_compare.py).
    """
    loglik = _reml_grid(seg_b, seg_w, _GRID)
    rows = np.arange(loglik.shape[0])
    mid = np.clip(np.argmax(loglik, axis=1), 1, len(_GRID) - 2)
    around = mid[:, None] + np.arange(-1, 2)[None, :]
    points = _GRID[around]
    values = loglik[rows[:, None], around]
    first = _refine(points, values)
    f_first, _ = _reml_rows(seg_b, seg_w, first)
    second = _refine(np.hstack([points, first[:, None]]), np.hstack([values, f_first[:, None]]))
    result: FloatArray = np.clip(second, 0.0, AUTOCORR_MAX)
    return result


def _corrected_rho(seg_b: _Segment, seg_w: _Segment) -> FloatArray:
    """rho~ = REML rho x N / (N - 4) (Cheang & Reinsel 2000), kept in [AUTOCORR_MIN, AUTOCORR_MAX]."""
    n_total = seg_b.n + seg_w.n
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = n_total / (n_total - AUTOCORR_BIAS_FACTOR * AUTOCORR_BIAS_SEGMENTS)
    corrected: FloatArray = np.clip(_reml_rho(seg_b, seg_w) * factor, AUTOCORR_MIN, AUTOCORR_MAX)
    return corrected


def _half_width(
    base: FloatArray,
    b_present: BoolArray,
    mean_b: FloatArray,
    win: FloatArray,
    w_present: BoolArray,
    mean_w: FloatArray,
) -> FloatArray:
    """t(CI_QUANTILE, N - 2) x SE of the change, for rows with enough values (steps 1-5)."""
    seg_b = _Segment.of(base, b_present, mean_b)
    seg_w = _Segment.of(win, w_present, mean_w)
    rho = _corrected_rho(seg_b, seg_w)
    _, rss = _reml_rows(seg_b, seg_w, rho)
    df = seg_b.n + seg_w.n - 2
    sigma2 = rss / df
    var_change = sigma2 * (
        seg_b.correlation_sum(rho) / seg_b.n**2 + seg_w.correlation_sum(rho) / seg_w.n**2
    )
    half: FloatArray = t_quantile(df) * np.sqrt(var_change)
    return half
