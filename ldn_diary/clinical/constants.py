"""Every number the clinical maths uses, in one place (docs/clinical-rules.md §1-3).

The engine, the tests and the UI text import these names rather than repeating the numbers, so a
change to a rule is a change to exactly one line here (plus the tests that pin it).
"""

from __future__ import annotations

# --- Trends (docs/clinical-rules.md §2) ----------------------------------------------------------

# 7-day rolling mean over calendar days [d-6, d], shown only with at least 4 values (design).
ROLLING_DAYS = 7
ROLLING_MIN_DAYS = 4

# Baseline: the 14 calendar days before therapy start, valid with >= 11 logged days (>= 80 %,
# NCT02107014).
BASELINE_DAYS = 14
BASELINE_MIN_DAYS = 11

# Week windows: the week-w window is days 7w-14 .. 7w-1 after therapy start (day 0), valid with
# >= 10 of its 14 days logged.
DAYS_PER_WEEK = 7
WINDOW_DAYS = 14
WINDOW_MIN_DAYS = 10
WEEK_WINDOWS = (4, 8, 12)

# Dose-phase windows: the last 14 days of a phase, never its first 7 (design: the body adjusts
# after a change), valid with >= 10 logged days.
PHASE_SETTLE_DAYS = 7
PHASE_WINDOW_DAYS = 14
PHASE_MIN_DAYS = 10

# --- Response classification (docs/clinical-rules.md §3) -----------------------------------------

# IMMPACT (Dworkin et al. 2008) thresholds on percent improvement; boundaries use >=.
IMMPACT_MINIMAL_PCT = 10.0
IMMPACT_MODERATE_PCT = 30.0
IMMPACT_SUBSTANTIAL_PCT = 50.0

# Farrar et al. 2001: an absolute improvement of >= 2 points on the 0-10 scale.
TWO_POINT = 2.0

# Composite responder (Younger 2013): pain >= 30 % and (fatigue or sleep) >= 30 %.
COMPOSITE_PCT = IMMPACT_MODERATE_PCT

# Class labels in increasing order; the engine stores classes as codes 1..4 into this tuple
# (0 = no class), and the summaries carry the labels.
CLASS_LABELS = ("none", "minimal", "moderate", "substantial")

# Threshold comparisons use `value >= threshold - COMPARE_EPS`.  For integer scores the engine's
# arithmetic is already exact (it works on integer sums), so this only guards float input; it is
# far below any difference real 0-10 diaries can produce (about 0.05 percentage points).
COMPARE_EPS = 1e-9

# Newey-West (HAC) interval: 95 % two-sided Student t, lag L = floor(4 (n/100)^(2/9)).
CI_QUANTILE = 0.975
HAC_LAG_FACTOR = 4.0
HAC_LAG_SCALE = 100.0
HAC_LAG_EXPONENT = 2.0 / 9.0

# "Beyond day-to-day variation?" (compare.compare_windows): the 95 % interval (CI_QUANTILE) of the
# change under AR(1) errors with a REML, bias-corrected lag-1 autocorrelation.
# Each window needs at least this many values; below it the change is "not assessable".
COMPARE_MIN_VALUES = 5
# The REML autocorrelation is searched on a grid of this step over [0, AUTOCORR_MAX] and refined
# by two parabolic steps.
AUTOCORR_GRID_STEP = 0.05
# The bias-corrected autocorrelation the interval uses is kept within [AUTOCORR_MIN, AUTOCORR_MAX].
# The floor: daily ratings are positively autocorrelated (lag-1 about 0.3-0.6 in diary studies),
# and an estimate near zero from a few weeks of data is mostly sampling noise; assuming at least
# 0.1 keeps such chance estimates from narrowing the interval (bench/README.md shows the effect).
# The ceiling: the AR(1) model degenerates at 1, and near it the interval is already very wide.
AUTOCORR_MIN = 0.1
AUTOCORR_MAX = 0.95
# Cheang & Reinsel (2000): REML's lag-1 estimate is low by about 2 rho / m for a series of m
# values with its own mean; with 2 windows and N values in all, rho = rho_REML * N / (N - 4).
AUTOCORR_BIAS_SEGMENTS = 2
AUTOCORR_BIAS_FACTOR = 2.0

# --- Adherence (docs/clinical-rules.md §3) --------------------------------------------------------

# Whether the day's dose was taken, as the engine receives it (CohortInput.entry_taken): asked only
# on days with LDN; "not asked" days (before the first dose, paused) are left out of adherence.
TAKEN_NOT_ASKED, TAKEN_NO, TAKEN_PARTLY, TAKEN_YES = 0, 1, 2, 3
# A window whose dose was taken on under 80 % of its answered days is marked "low adherence" beside
# its class (design); the class is still computed. A partly taken dose counts half.
LOW_ADHERENCE = 0.8
PARTLY_TAKEN_WEIGHT = 0.5

# --- Symptoms ------------------------------------------------------------------------------------

# Every symptom is rated on a 0-10 numeric rating scale.
SCORE_MAX = 10

# Column order of CohortInput.entry_values and of every (..., 4) array the engine returns.
SYMPTOMS = ("pain", "fatigue", "sleep", "mood")

# Pain and fatigue: higher is worse; sleep quality and mood: higher is better
# (docs/clinical-rules.md §1).
HIGHER_IS_WORSE = {"pain": True, "fatigue": True, "sleep": False, "mood": False}

# --- Encoding ------------------------------------------------------------------------------------

# CohortResult.day_dose_ug on days before the patient's first dose change.
NO_DOSE = -1

MICROGRAMS_PER_MG = 1000

# --- Version -------------------------------------------------------------------------------------

# Stored with every computed result by the trends app. Bump it whenever this package changes what
# it computes: stored results from an older version are then reported as stale and recomputed.
ENGINE_VERSION = "2026.3"
