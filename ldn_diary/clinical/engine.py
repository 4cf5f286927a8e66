"""The trend and response engine: one vectorised pass over a whole cohort.

The rules are docs/clinical-rules.md §2 (trends) and §3 (response classification).

Layout of the computation, and why:

* Every patient's diary is laid onto one flat calendar grid: a block per patient running from
  ROLLING_DAYS - 1 padding days before their first entry to their last entry, one row per calendar
  day, NaN where nothing was recorded.  Missing days stay missing (docs/clinical-rules.md §2:
  never fill gaps), and the all-NaN padding means a 7-day window can never reach into the
  previous patient's block, so rolling sums are plain shifted additions over the whole grid with
  no per-patient loop.
* Baselines, week windows and dose-phase windows are all at most 14 calendar days, so they are
  gathered by fancy indexing into fixed (rows, 4 symptoms, 14 days) arrays, days outside a
  patient's data pointing at one all-NaN sentinel row.  HAC and Tau-U then run on those arrays
  for every patient at once (see stats.py).
* Means and changes are computed from integer-valued sums (scores are integers 0-10), so that
  e.g. a baseline of 10 and a window mean of 7 give exactly 30.0 % and the >= boundaries of the
  IMMPACT classes hold without float luck.
* The summaries come out as columns too (summary.SummaryColumns); a patient's summary dict is
  built only when asked for (summary.summary_dict).

The trends app stores CohortResult rows and summaries; nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from . import doses, stats
from .arrays import BoolArray, FloatArray, IntArray
from .compare import compare_windows_batch
from .constants import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    CLASS_LABELS,
    COMPARE_EPS,
    COMPOSITE_PCT,
    DAYS_PER_WEEK,
    HIGHER_IS_WORSE,
    IMMPACT_MODERATE_PCT,
    LOW_ADHERENCE,
    NO_DOSE,
    PHASE_MIN_DAYS,
    PHASE_SETTLE_DAYS,
    PHASE_WINDOW_DAYS,
    ROLLING_DAYS,
    ROLLING_MIN_DAYS,
    SCORE_MAX,
    SYMPTOMS,
    TAKEN_NOT_ASKED,
    TAKEN_PARTLY,
    TAKEN_YES,
    TWO_POINT,
    WEEK_WINDOWS,
    WINDOW_DAYS,
    WINDOW_MIN_DAYS,
)
from .summary import NO_DAY, SummaryColumns, summary_dict

__all__ = (
    "CohortInput",
    "CohortResult",
    "SummaryColumns",
    "compute_cohort",
    "compute_patient",
    "trend_values",
)

_N_SYMPTOMS = len(SYMPTOMS)

# +1 where an increase is an improvement (sleep, mood), -1 where a decrease is (pain, fatigue).
# Multiplying by this orients every change so that positive means better.
_ORIENT = np.array([-1.0 if HIGHER_IS_WORSE[s] else 1.0 for s in SYMPTOMS])
# Symptoms measured upwards (sleep, mood): their problem scale is SCORE_MAX - score.
_BETTER_UP = np.array([not HIGHER_IS_WORSE[s] for s in SYMPTOMS])

_DAY_BITS = doses.DAY_BITS
_MAX_DAY = (1 << _DAY_BITS) - 1

# The composite needs pain and (fatigue or sleep) at COMPOSITE_PCT, which is also the moderate
# IMMPACT boundary; the composite is read off the class codes so the two can never disagree.
_MODERATE_CODE = 1 + CLASS_LABELS.index("moderate")
if COMPOSITE_PCT != IMMPACT_MODERATE_PCT:  # pragma: no cover - guards an edit to constants.py
    raise RuntimeError("the composite responder is read off the moderate IMMPACT class")

# Tri-state results are computed as codes 0 = None (not assessable), 1 = False, 2 = True (the
# summary columns shift them to -1 / 0 / 1).

_WINDOW_SPAN = max(WINDOW_DAYS, PHASE_WINDOW_DAYS, BASELINE_DAYS)


@dataclass(frozen=True)
class CohortInput:
    """P patients' diaries and dose histories in long format, each sorted by (patient, day).

    Days are `date.toordinal()` numbers.  At most one entry per patient per day (the database
    enforces it; the engine refuses duplicates).  Several dose changes on one day are allowed: the
    last one in input order is the one in effect.
    """

    n_patients: int
    entry_patient: IntArray  # (N,), patient index 0..P-1
    entry_day: IntArray  # (N,)
    entry_values: FloatArray  # (N, 4): pain, fatigue, sleep, mood; NaN = not recorded
    dose_patient: IntArray  # (M,)
    dose_day: IntArray  # (M,), effective date
    dose_ug: IntArray  # (M,), micrograms; 0 = stopped/paused
    # (N,) whether each entry's dose was taken: TAKEN_NOT_ASKED (no LDN that day, or not
    # answered), TAKEN_NO, TAKEN_PARTLY or TAKEN_YES. None: not known (nothing is answered).
    entry_taken: IntArray | None = None


@dataclass
class CohortResult:
    """Daily trend rows (one per patient per calendar day from first to last entry) and summaries.

    Daily arrays are in long format sorted by (patient, day); (K, 4) and (P, 4) arrays follow
    SYMPTOMS. The engine computes the 7-day totals and counts and each patient's baseline; the
    7-day means and changes follow from them by ``trend_values`` (``day_rolling`` and
    ``day_change_pct``, computed on first use), which is how stored trends are read back too.
    """

    day_patient: IntArray  # (K,)
    day_day: IntArray  # (K,) ordinal
    day_dose_ug: IntArray  # (K,), NO_DOSE (-1) before the first dose change
    day_logged: BoolArray  # (K,), an entry exists that day
    day_rolling_total: FloatArray  # (K, 4), sum of the values in the 7-day window (integers)
    day_rolling_n: IntArray  # (K, 4), values in the 7-day window
    # What each patient's changes are measured from: the baseline's totals and counts (P, 4);
    # the counts are 0 where the patient has no valid baseline, so there is no change.
    base_total: FloatArray
    base_n: IntArray
    summary: SummaryColumns  # every patient's response summary, as columns

    @cached_property
    def _trend_values(self) -> tuple[FloatArray, FloatArray]:
        return trend_values(
            self.day_rolling_total,
            self.day_rolling_n,
            self.base_total[self.day_patient],
            self.base_n[self.day_patient],
        )

    @property
    def day_rolling(self) -> FloatArray:
        """(K, 4) 7-day means, NaN with fewer than ROLLING_MIN_DAYS values."""
        return self._trend_values[0]

    @property
    def day_change_pct(self) -> FloatArray:
        """(K, 4) change of the 7-day mean from baseline, %, positive = better; NaN when
        undefined."""
        return self._trend_values[1]

    @cached_property
    def summaries(self) -> list[dict[str, Any]]:
        """One summary dict per patient (built on first use; see summary.summary_dict)."""
        return [summary_dict(self.summary, p) for p in range(self.summary.n_patients)]


# --------------------------------------------------------------------------------------------------
# Input


def _validated(
    inp: CohortInput,
) -> tuple[int, IntArray, IntArray, FloatArray, IntArray, IntArray, IntArray, IntArray]:
    n_patients = int(inp.n_patients)
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    ep = np.asarray(inp.entry_patient, dtype=np.int64).reshape(-1)
    ed = np.asarray(inp.entry_day, dtype=np.int64).reshape(-1)
    ev = np.asarray(inp.entry_values, dtype=np.float64)
    if ev.size == 0:
        ev = ev.reshape(0, _N_SYMPTOMS)
    dp = np.asarray(inp.dose_patient, dtype=np.int64).reshape(-1)
    dd = np.asarray(inp.dose_day, dtype=np.int64).reshape(-1)
    du = np.asarray(inp.dose_ug, dtype=np.int64).reshape(-1)
    if ev.ndim != 2 or ev.shape[1] != _N_SYMPTOMS or not (len(ep) == len(ed) == len(ev)):
        raise ValueError("entry arrays must be (N,), (N,) and (N, 4)")
    if not len(dp) == len(dd) == len(du):
        raise ValueError("dose arrays must all be (M,)")
    for name, patient, day in (("entry", ep, ed), ("dose", dp, dd)):
        if len(patient) and (patient.min() < 0 or patient.max() >= n_patients):
            raise ValueError(f"{name} patient index out of range 0..{n_patients - 1}")
        if len(day) and (day.min() < 1 or day.max() > _MAX_DAY):
            raise ValueError(f"{name} day is not a date ordinal")
    if len(du) and du.min() < 0:
        raise ValueError("dose_ug must be >= 0")
    entry_key = (ep << _DAY_BITS) | ed
    if np.any(np.diff(entry_key) <= 0):
        raise ValueError(
            "entries must be sorted by (patient, day) with at most one entry per patient per day"
        )
    if np.any(np.diff((dp << _DAY_BITS) | dd) < 0):
        raise ValueError("dose changes must be sorted by (patient, day)")
    if inp.entry_taken is None:
        et = np.zeros(len(ep), dtype=np.int64)
    else:
        et = np.asarray(inp.entry_taken, dtype=np.int64).reshape(-1)
        if len(et) != len(ep):
            raise ValueError("entry_taken must be (N,) like the entries")
        if len(et) and (et.min() < TAKEN_NOT_ASKED or et.max() > TAKEN_YES):
            raise ValueError("entry_taken codes must be TAKEN_NOT_ASKED..TAKEN_YES")
    return n_patients, ep, ed, ev, dp, dd, du, et


# --------------------------------------------------------------------------------------------------
# Calendar grid


@dataclass
class _Grid:
    values: FloatArray  # (G + 1, 4); the last row is the all-NaN sentinel
    has_value: BoolArray  # (G + 1,) any symptom recorded that day ("logged" for validity rules)
    taken: IntArray  # (G + 1,) the day's TAKEN_* code (TAKEN_NOT_ASKED without an entry)
    origin: IntArray  # (P,) grid row of patient p's day d is origin[p] + d
    first: IntArray  # (P,) first entry day (0 where no entries)
    last: IntArray  # (P,) last entry day (-1 where no entries, so no day is in range)
    pad: int

    @property
    def sentinel(self) -> int:
        return len(self.values) - 1

    def gather(
        self, patient: IntArray, days: IntArray, mask: BoolArray
    ) -> tuple[FloatArray, BoolArray, IntArray]:
        """Values (R, 4, T), has-value flags (R, T) and TAKEN_* codes (R, T) for days (R, T) of
        each row's patient."""
        first = self.first[patient][:, None]
        last = self.last[patient][:, None]
        ok = mask & (days >= first) & (days <= last)
        idx = np.where(ok, self.origin[patient][:, None] + days, self.sentinel)
        # Contiguous (R, 4, T) so every row's reductions run the same way whatever R is: a
        # patient's floats then come out bit-identical alone and inside any cohort.
        values = np.ascontiguousarray(self.values[idx].transpose(0, 2, 1))
        return values, self.has_value[idx], self.taken[idx]


def _build_grid(
    n_patients: int,
    ep: IntArray,
    ed: IntArray,
    ev: FloatArray,
    et: IntArray,
    entry_count: IntArray,
) -> tuple[_Grid, IntArray, BoolArray]:
    lo = np.searchsorted(ep, np.arange(n_patients), side="left")
    has = entry_count > 0
    first = np.zeros(n_patients, dtype=np.int64)
    last = np.full(n_patients, -1, dtype=np.int64)
    first[has] = ed[lo[has]]
    last[has] = ed[lo[has] + entry_count[has] - 1]
    span = np.where(has, last - first + 1, 0)
    pad = ROLLING_DAYS - 1
    block = np.where(has, span + pad, 0)
    block_start = np.cumsum(block) - block
    origin = block_start + pad - first
    size = int(block.sum())
    values = np.full((size + 1, _N_SYMPTOMS), np.nan)
    values[origin[ep] + ed] = ev
    has_value = ~np.isnan(values).all(axis=1)
    taken = np.full(size + 1, TAKEN_NOT_ASKED, dtype=np.int64)
    taken[origin[ep] + ed] = et
    return _Grid(values, has_value, taken, origin, first, last, pad), span, has


# --------------------------------------------------------------------------------------------------
# Daily trend rows


def _rolling(grid: _Grid) -> tuple[FloatArray, IntArray]:
    """Sum and count of values over the 7 calendar days ending at each grid row >= pad.

    Row i of the result is grid row i + pad.  Padding rows are NaN, so no sum crosses a patient.
    """
    size = grid.sentinel
    present = ~np.isnan(grid.values[:size])
    zeroed = np.where(present, grid.values[:size], 0.0)
    rows = max(size - grid.pad, 0)
    total = np.zeros((rows, _N_SYMPTOMS))
    count = np.zeros((rows, _N_SYMPTOMS), dtype=np.int64)
    for back in range(ROLLING_DAYS):
        total += zeroed[grid.pad - back : size - back]
        count += present[grid.pad - back : size - back]
    return total, count


def _change(
    total: FloatArray, n: IntArray, base_total: FloatArray, base_n: IntArray, ok: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Change (points, %) of the mean total/n from the baseline mean base_total/base_n.

    Oriented so positive = better (pain: baseline - value; sleep: value - baseline). The % is
    of the baseline on the *problem scale* (docs/clinical-rules.md §2): the score itself for
    pain and fatigue, SCORE_MAX - score for sleep and mood, so sleep 3 -> 6 counts like pain
    7 -> 4 (42.9 %) and a small rise from a low sleep baseline is not inflated. Written on
    sums: for pain points = (base_total * n - total * base_n) / (base_n * n) and pct = 100 *
    (same numerator) / (problem_total * n), where problem_total is base_total for pain and
    SCORE_MAX * base_n - base_total for sleep. Integer scores give an exact numerator and
    denominator and one rounding, so exactly 30 % comes out as 30.0 and the >= boundaries of
    the IMMPACT classes hold. The % is NaN for a baseline with no problem (pain 0, sleep 10):
    the change in points only.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        numer = _ORIENT * (total * base_n - base_total * n)
        points = np.where(ok, numer / (base_n * n), np.nan)
        problem_total = np.where(_BETTER_UP, SCORE_MAX * base_n - base_total, base_total)
        pct = np.where(ok & (problem_total != 0), 100.0 * numer / (problem_total * n), np.nan)
    return points, pct


def trend_values(
    total: npt.ArrayLike, n: npt.ArrayLike, base_total: npt.ArrayLike, base_n: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """7-day means and changes from baseline (%) of days, from their 7-day totals and counts
    (K, 4) and the baseline's totals and counts for each day (K, 4, or broadcastable; a count of
    0 means no valid baseline).

    The mean is NaN with fewer than ROLLING_MIN_DAYS values (docs/clinical-rules.md §2), the
    change NaN where there is no mean or no baseline, or the baseline has no problem (_change).
    The same integer sums always give the same floats, so trends stored as totals read back
    bit-identical to the engine's.
    """
    total = np.asarray(total, dtype=np.float64)
    n = np.asarray(n, dtype=np.int64)
    base_total = np.asarray(base_total, dtype=np.float64)
    base_n = np.asarray(base_n, dtype=np.int64)
    has_rolling = n >= ROLLING_MIN_DAYS
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has_rolling, total / n, np.nan)
    _, pct = _change(total, n, base_total, base_n, has_rolling & (base_n > 0))
    return mean, pct


# --------------------------------------------------------------------------------------------------
# Assessment of windows against the baseline


@dataclass
class _Assessment:
    mean: FloatArray  # (R, 4)
    n: IntArray  # (R, 4)
    points: FloatArray
    pct: FloatArray
    class_code: npt.NDArray[np.int8]  # 0 = None, 1..4 = CLASS_LABELS
    two_point: IntArray  # tri-state code
    ci_low: FloatArray
    ci_high: FloatArray
    beyond_noise: IntArray  # tri-state code: beyond day-to-day variation?
    tau_u: FloatArray
    composite: IntArray  # (R,) tri-state code


@dataclass
class _Baseline:
    values: FloatArray  # (P, 4, 14)
    days_logged: IntArray  # (P,)
    valid: BoolArray  # (P,)
    total: FloatArray  # (P, 4)
    n: IntArray  # (P, 4)
    trend: IntArray  # (P, 4) Tau-U S_A, only where valid


def _baseline(grid: _Grid, start: IntArray) -> _Baseline:
    n_patients = len(start)
    days = start[:, None] - BASELINE_DAYS + np.arange(BASELINE_DAYS)
    values, logged, _ = grid.gather(np.arange(n_patients), days, (start >= 0)[:, None])
    days_logged = logged.sum(axis=1)
    valid = (start >= 0) & (days_logged >= BASELINE_MIN_DAYS)
    present = ~np.isnan(values)
    total = np.where(present, values, 0.0).sum(axis=2)
    n = present.sum(axis=2)
    trend = np.zeros((n_patients, _N_SYMPTOMS), dtype=np.int64)
    if valid.any():
        trend[valid] = stats.tau_u_trend_sum(values[valid] * _ORIENT[:, None])
    return _Baseline(values, days_logged, valid, total, n, trend)


def _assess(
    base: _Baseline, row_patient: IntArray, values: FloatArray, window_valid: BoolArray
) -> _Assessment:
    """Everything in a window's "symptoms" dict, for R windows (values (R, 4, 14)) at once."""
    present = ~np.isnan(values)
    total = np.where(present, values, 0.0).sum(axis=2)
    n = present.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, np.nan)

    b_valid = base.valid[row_patient][:, None]
    b_total = base.total[row_patient]
    b_n = base.n[row_patient]
    has_change = b_valid & (b_n > 0) & (n > 0)
    points, pct = _change(total, n, b_total, b_n, has_change)

    # Classes, intervals and Tau-U need BOTH the baseline and the window to be valid.
    assessable = has_change & window_valid[:, None]
    class_code = stats.class_codes(np.where(assessable, pct, np.nan))
    two_point = np.where(assessable, 1 + (points >= TWO_POINT - COMPARE_EPS), 0)

    # Beyond day-to-day variation? The public compare_windows, on every (window, symptom) of
    # the rows that can be assessed at all (docs/clinical-rules.md §3).
    ci_low = np.full(points.shape, np.nan)
    ci_high = np.full(points.shape, np.nan)
    beyond = np.zeros(points.shape, dtype=np.int64)
    rows_ok = np.flatnonzero(assessable.any(axis=1))
    if len(rows_ok):
        n_rows = len(rows_ok)
        compared = compare_windows_batch(
            base.values[row_patient[rows_ok]].reshape(n_rows * _N_SYMPTOMS, -1),
            values[rows_ok].reshape(n_rows * _N_SYMPTOMS, -1),
            higher_is_better=np.tile(_BETTER_UP, n_rows),
        )
        ci_low[rows_ok] = compared.ci_low.reshape(n_rows, _N_SYMPTOMS)
        ci_high[rows_ok] = compared.ci_high.reshape(n_rows, _N_SYMPTOMS)
        beyond[rows_ok] = compared.beyond.reshape(n_rows, _N_SYMPTOMS)
    ci_low = np.where(assessable, ci_low, np.nan)
    ci_high = np.where(assessable, ci_high, np.nan)
    beyond = np.where(assessable, beyond, 0)

    tau = np.full(points.shape, np.nan)
    rows = np.flatnonzero(assessable.any(axis=1))
    if len(rows):
        oriented_base = base.values[row_patient[rows]] * _ORIENT[:, None]
        s_ab = stats.tau_u_pair_sum(oriented_base, values[rows] * _ORIENT[:, None])
        s_a = base.trend[row_patient[rows]]
        with np.errstate(invalid="ignore", divide="ignore"):
            tau[rows] = (s_ab - s_a) / (b_n[rows] * n[rows])
    tau = np.where(assessable, tau, np.nan)

    return _Assessment(
        mean=mean,
        n=n,
        points=points,
        pct=pct,
        class_code=class_code,
        two_point=two_point,
        ci_low=ci_low,
        ci_high=ci_high,
        beyond_noise=beyond,
        tau_u=tau,
        composite=_composite(class_code),
    )


def _composite(class_code: npt.NDArray[np.int8]) -> IntArray:
    """Composite responder as a tri-state code, with three-valued (Kleene) logic.

    pain >= 30 % AND (fatigue >= 30 % OR sleep >= 30 %).  An unclassifiable symptom is unknown,
    and the answer is None only when the unknowns could change it: pain below 30 % is False
    whatever fatigue and sleep are.
    """
    known = class_code > 0
    hit = class_code >= _MODERATE_CODE
    pain, fatigue, sleep = (SYMPTOMS.index(s) for s in ("pain", "fatigue", "sleep"))
    either_hit = hit[:, fatigue] | hit[:, sleep]
    either_known = (known[:, fatigue] & known[:, sleep]) | either_hit
    is_true = hit[:, pain] & either_hit
    is_false = (known[:, pain] & ~hit[:, pain]) | (hit[:, pain] & either_known & ~either_hit)
    return np.where(is_true, 2, np.where(is_false, 1, 0))


# --------------------------------------------------------------------------------------------------
# The engine


def compute_cohort(inp: CohortInput) -> CohortResult:
    """Daily trends and per-patient response summaries for every patient in `inp`."""
    n_patients, ep, ed, ev, dp, dd, du, et = _validated(inp)
    entry_count = np.bincount(ep, minlength=n_patients)
    grid, span, has_entries = _build_grid(n_patients, ep, ed, ev, et, entry_count)

    # Daily rows: every calendar day from each patient's first to last entry.
    day_patient = np.repeat(np.arange(n_patients), span)
    day_day = grid.first[day_patient] + (
        np.arange(len(day_patient)) - np.repeat(np.cumsum(span) - span, span)
    )
    grid_row = grid.origin[day_patient] + day_day
    roll_total, roll_n = _rolling(grid)
    roll_total = roll_total[grid_row - grid.pad]
    roll_n = roll_n[grid_row - grid.pad]
    day_logged = np.zeros(len(day_patient), dtype=bool)
    day_logged[np.cumsum(np.concatenate(([0], span)))[ep] + (ed - grid.first[ep])] = True

    # The dose on a day is the latest change on or before it (the last one on a shared day).
    pos = doses.dose_index_on(dp, dd, day_patient, day_day)
    day_dose = np.where(pos >= 0, du[np.maximum(pos, 0)] if len(du) else NO_DOSE, NO_DOSE)

    start = doses.therapy_start_days(n_patients, dp, dd, du)
    base = _baseline(grid, start)

    # Windows: three week windows per treated patient, then every dose phase's settled tail.
    treated = np.flatnonzero(start >= 0)
    week_patient = np.repeat(treated, len(WEEK_WINDOWS))
    week_number = np.tile(np.array(WEEK_WINDOWS, dtype=np.int64), len(treated))
    week_start = start[week_patient] + DAYS_PER_WEEK * week_number - WINDOW_DAYS
    week_len = np.full(len(week_patient), WINDOW_DAYS, dtype=np.int64)

    ph_patient, ph_start, ph_end, ph_dose = doses.dose_phases(dp, dd, du, start, grid.last)
    ph_days = ph_end - ph_start + 1
    ph_len = np.clip(ph_days - PHASE_SETTLE_DAYS, 0, PHASE_WINDOW_DAYS)
    ph_win_start = ph_end - ph_len + 1

    row_patient = np.concatenate((week_patient, ph_patient))
    row_len = np.concatenate((week_len, ph_len))
    row_start = np.concatenate((week_start, ph_win_start))
    offsets = np.arange(_WINDOW_SPAN)
    values, logged, taken = grid.gather(
        row_patient, row_start[:, None] + offsets, offsets < row_len[:, None]
    )
    # Adherence in each window: its answered days (days without LDN are never answered).
    adherence = stats.dose_adherence(
        (taken == TAKEN_YES).sum(axis=1),
        (taken == TAKEN_PARTLY).sum(axis=1),
        (taken != TAKEN_NOT_ASKED).sum(axis=1),
    )
    low_adherence = np.where(
        np.isnan(adherence), 0, 1 + (adherence < LOW_ADHERENCE - COMPARE_EPS)
    ).astype(np.int64)
    days_logged = logged.sum(axis=1)
    n_weeks = len(week_patient)
    window_valid = np.concatenate(
        (days_logged[:n_weeks] >= WINDOW_MIN_DAYS, days_logged[n_weeks:] >= PHASE_MIN_DAYS)
    )
    assessment = _assess(base, row_patient, values, window_valid)

    summary = _summary_columns(
        has_entries=has_entries,
        grid=grid,
        start=start,
        base=base,
        treated=treated,
        week_patient=week_patient,
        week_number=week_number,
        week_start=week_start,
        ph_patient=ph_patient,
        ph_start=ph_start,
        ph_end=ph_end,
        ph_dose=ph_dose,
        ph_len=ph_len,
        ph_win_start=ph_win_start,
        days_logged=days_logged,
        window_valid=window_valid,
        assessment=assessment,
        adherence=adherence,
        low_adherence=low_adherence,
    )
    return CohortResult(
        day_patient=day_patient,
        day_day=day_day,
        day_dose_ug=day_dose.astype(np.int64),
        day_logged=day_logged,
        day_rolling_total=roll_total,
        day_rolling_n=roll_n,
        base_total=base.total,
        base_n=np.where(base.valid[:, None], base.n, 0),
        summary=summary,
    )


def _summary_columns(
    *,
    has_entries: BoolArray,
    grid: _Grid,
    start: IntArray,
    base: _Baseline,
    treated: IntArray,
    week_patient: IntArray,
    week_number: IntArray,
    week_start: IntArray,
    ph_patient: IntArray,
    ph_start: IntArray,
    ph_end: IntArray,
    ph_dose: IntArray,
    ph_len: IntArray,
    ph_win_start: IntArray,
    days_logged: IntArray,
    window_valid: BoolArray,
    assessment: _Assessment,
    adherence: FloatArray,
    low_adherence: IntArray,
) -> SummaryColumns:
    """The summaries as columns: the engine's rows (every week window, then every phase)
    reordered into patient order, each patient's week windows before their phases."""
    n_patients = len(start)
    n_weeks = len(week_number)
    row_patient = np.concatenate((week_patient, ph_patient))
    order = np.argsort(row_patient, kind="stable")
    window_bounds = np.searchsorted(row_patient[order], np.arange(n_patients + 1))

    def rows(weeks: npt.ArrayLike, phases: npt.ArrayLike) -> Any:
        return np.concatenate((np.asarray(weeks), np.asarray(phases)))[order]

    n_week_kinds = len(WEEK_WINDOWS)
    week_valid = window_valid[:n_weeks].reshape(-1, n_week_kinds)
    latest = n_week_kinds - 1 - np.argmax(week_valid[:, ::-1], axis=1)
    assessed = np.full(n_patients, -1, dtype=np.int64)
    assessed[treated] = np.where(week_valid.any(axis=1), latest, -1)

    therapy = start >= 0
    a = assessment
    return SummaryColumns(
        therapy_start=np.where(therapy, start, NO_DAY),
        data_start=np.where(has_entries, grid.first, NO_DAY),
        data_end=np.where(has_entries, grid.last, NO_DAY),
        baseline_valid=base.valid,
        baseline_days=np.where(therapy, base.days_logged, 0),
        baseline_mean=np.where(
            therapy[:, None] & (base.n > 0), base.total / np.maximum(base.n, 1), np.nan
        ),
        assessed=assessed,
        window_bounds=window_bounds.astype(np.int64),
        window_week=rows(week_number, np.zeros(len(ph_patient), dtype=np.int64)),
        window_start=rows(week_start, ph_start),
        window_end=rows(week_start + WINDOW_DAYS - 1, ph_end),
        window_assessed_start=rows(
            np.full(n_weeks, NO_DAY, dtype=np.int64), np.where(ph_len > 0, ph_win_start, NO_DAY)
        ),
        window_dose_ug=rows(np.full(n_weeks, NO_DOSE, dtype=np.int64), ph_dose),
        window_days_logged=days_logged[order],
        window_valid=window_valid[order],
        window_adherence=adherence[order],
        window_low_adherence=low_adherence[order] - 1,
        window_composite=a.composite[order] - 1,
        symptom_mean=a.mean[order],
        symptom_change_points=a.points[order],
        symptom_change_pct=a.pct[order],
        symptom_class=a.class_code[order].astype(np.int64),
        symptom_two_point=a.two_point[order] - 1,
        symptom_ci_low=a.ci_low[order],
        symptom_ci_high=a.ci_high[order],
        symptom_beyond_noise=a.beyond_noise[order] - 1,
        symptom_tau_u=a.tau_u[order],
        symptom_n=a.n[order].astype(np.int64),
    )


def compute_patient(
    entries: Iterable[tuple[Any, ...]],
    doses: Iterable[tuple[date, int]],
) -> CohortResult:
    """One patient's trends and summary: the cohort engine with P = 1.

    ``entries`` are (date, pain, fatigue, sleep, mood) with None for a score not recorded,
    optionally followed by a TAKEN_* code. Inputs may come in any order; they are sorted by
    date (stably, so among dose changes on one date the last given is the one in effect). Two
    entries on one date raise ValueError.
    """
    entry_rows = sorted(entries, key=lambda row: row[0])
    dose_rows = sorted(doses, key=lambda row: row[0])
    values = np.array(
        [[np.nan if v is None else float(v) for v in row[1:5]] for row in entry_rows],
        dtype=np.float64,
    ).reshape(-1, _N_SYMPTOMS)
    taken = np.array(
        [int(row[5]) if len(row) > 5 else TAKEN_NOT_ASKED for row in entry_rows], dtype=np.int64
    )
    return compute_cohort(
        CohortInput(
            n_patients=1,
            entry_patient=np.zeros(len(entry_rows), dtype=np.int64),
            entry_day=np.array([row[0].toordinal() for row in entry_rows], dtype=np.int64),
            entry_values=values,
            dose_patient=np.zeros(len(dose_rows), dtype=np.int64),
            dose_day=np.array([row[0].toordinal() for row in dose_rows], dtype=np.int64),
            dose_ug=np.array([int(row[1]) for row in dose_rows], dtype=np.int64),
            entry_taken=taken,
        )
    )
