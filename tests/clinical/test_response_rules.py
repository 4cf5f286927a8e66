"""docs/clinical-rules.md §3 by hand: IMMPACT classes, direction, composite, Newey-West, Tau-U."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldn_diary.clinical import compare_windows, stats

from ._helpers import DAY0, daily, merge, run

START = 14
DOSES = [(DAY0 + START, 1500)]
WEEK4 = range(28, 42)  # offsets of the week-4 window: days 14..27 after a start at offset 14


def week4(entries):
    return run(entries, DOSES).summaries[0]["windows"][0]


def pain_change(baseline_pain, window_pain_values):
    """Week-4 pain dict for a full baseline at one value and window values day by day."""
    window = {DAY0 + 28 + i: (v, None, None, None) for i, v in enumerate(window_pain_values)}
    return week4(merge(daily(range(0, 14), pain=baseline_pain), window))["symptoms"]["pain"]


@pytest.mark.parametrize(
    ("baseline", "window", "pct", "label"),
    [
        (10, 9, 10.0, "minimal"),
        (10, 9.01, 9.9, "none"),
        (10, 7, 30.0, "moderate"),
        (10, 7.001, 29.99, "minimal"),
        (10, 5, 50.0, "substantial"),
        (10, 5.001, 49.99, "moderate"),
        (6, 3, 50.0, "substantial"),
        (4, 5, -25.0, "none"),
    ],
)
def test_immpact_boundaries_use_greater_or_equal(baseline, window, pct, label):
    pain = pain_change(baseline, [window] * 14)
    assert pain["change_pct"] == pytest.approx(pct, abs=1e-12)
    assert pain["class"] == label


def test_exactly_thirty_percent_survives_float_arithmetic():
    # Baseline mean 33/11 = 3 and window mean 21/10 = 2.1: the naive float formula lands just
    # below 30 and would demote a responder; the engine must give exactly 30.0.
    assert 100 * (33 / 11 - 21 / 10) / (33 / 11) < 30
    window = {DAY0 + 28 + i: (v, None, None, None) for i, v in enumerate([2] * 9 + [3])}
    entries = merge(daily(range(3, 14), pain=3), window)
    pain = week4(entries)["symptoms"]["pain"]
    assert pain["change_pct"] == 30.0
    assert pain["class"] == "moderate"
    assert pain["change_points"] == pytest.approx(0.9)


def test_classify_pct_scalar():
    assert [stats.classify_pct(x) for x in (-5, 9.99, 10, 29.99, 30, 49.99, 50, 100)] == [
        "none", "none", "minimal", "minimal", "moderate", "moderate", "substantial", "substantial"
    ]  # fmt: skip
    assert stats.classify_pct(None) is None and stats.classify_pct(float("nan")) is None


def test_two_point_flag_at_exactly_two_points():
    assert pain_change(6, [4] * 14)["two_point"] is True
    assert pain_change(6, [4.01] * 14)["two_point"] is False


def test_zero_baseline_gives_absolute_change_only():
    entries = merge(
        daily(range(0, 14), pain=0, fatigue=5, sleep=5),
        daily(WEEK4, pain=2, fatigue=2, sleep=7),
    )
    window = week4(entries)
    pain = window["symptoms"]["pain"]
    assert pain["mean"] == 2.0 and pain["change_points"] == -2.0
    assert pain["change_pct"] is None and pain["class"] is None
    assert pain["two_point"] is False
    assert pain["tau_u"] == -1.0  # every window day is worse than every baseline day
    # Fatigue and sleep are responders, but pain (primary) cannot be classified.
    assert window["symptoms"]["fatigue"]["class"] == "substantial"
    assert window["composite_responder"] is None


def test_sleep_and_mood_improve_upwards():
    entries = merge(
        daily(range(0, 14), pain=6, fatigue=4, sleep=4, mood=6),
        daily(WEEK4, pain=3, fatigue=4, sleep=6, mood=3),
    )
    s = week4(entries)["symptoms"]
    got = {k: (v["change_points"], v["change_pct"], v["class"], v["tau_u"]) for k, v in s.items()}
    assert got == {
        "pain": (3.0, 50.0, "substantial", 1.0),
        "fatigue": (0.0, 0.0, "none", 0.0),
        # On the problem scale (10 - score): sleep 6 -> 4 is 2/6 better, mood 4 -> 7 is 3/4 worse.
        "sleep": (2.0, 100 * 2 / 6, "moderate", 1.0),
        "mood": (-3.0, -75.0, "none", -1.0),
    }
    assert s["sleep"]["two_point"] is True and s["mood"]["two_point"] is False


@pytest.mark.parametrize(
    ("fatigue", "sleep", "expected"),
    [
        ((10, 7), (5, 5), True),  # fatigue 30 %
        ((10, 8), (5, 7), True),  # sleep 40 %
        ((10, 8), (5, 6), False),  # 20 % and 20 %
        ((0, 2), (5, 6), None),  # fatigue unclassifiable, sleep 20 %: could go either way
        ((0, 2), (5, 7), True),  # fatigue unclassifiable, but sleep settles it
    ],
)
def test_composite_responder(fatigue, sleep, expected):
    entries = merge(
        daily(range(0, 14), pain=10, fatigue=fatigue[0], sleep=sleep[0]),
        daily(WEEK4, pain=7, fatigue=fatigue[1], sleep=sleep[1]),
    )
    assert week4(entries)["composite_responder"] is expected


def test_composite_is_false_when_pain_is_below_thirty_percent():
    entries = merge(
        daily(range(0, 14), pain=10, fatigue=10, sleep=2),
        daily(WEEK4, pain=8, fatigue=1, sleep=10),
    )
    assert week4(entries)["composite_responder"] is False


def test_hac_lag_rule():
    assert stats.hac_lag(np.array([0, 1, 4, 5, 10, 14, 28, 100])).tolist() == [
        0, 1, 1, 2, 2, 2, 3, 4
    ]  # fmt: skip


def test_hac_keeps_calendar_lags_across_missing_days():
    # n = 4, mean 5, residuals [-3, -1, 1, 0, 3] with the missing day as 0; L = 1.
    # gamma_0 = 20/4 = 5; gamma_1 = (3 - 1 + 0 + 0)/4 = 0.5; LRV = 5 + 2 * (1/2) * 0.5 = 5.5.
    # Closing the gap instead would give gamma_1 = (3 - 1 + 3)/4 and LRV 6.25.
    lrv, n, mean = stats.hac_long_run_variance(np.array([2, 4, 6, np.nan, 8.0]))
    assert (lrv, n, mean) == (5.5, 4, 5.0)


def test_the_interval_is_the_public_comparison_of_the_two_windows():
    """The engine's interval and verdict are compare_windows' on the baseline's and the
    window's calendar slots (docs/clinical-rules.md §3); alternating 6, 8 against 3, 5 is an
    obvious 3-point improvement, beyond day-to-day variation."""
    baseline = {DAY0 + d: (6 + 2 * (d % 2), None, None, None) for d in range(14)}
    window = {DAY0 + 28 + d: (3 + 2 * (d % 2), None, None, None) for d in range(14)}
    pain = week4(merge(baseline, window))["symptoms"]["pain"]
    expected = compare_windows([6.0, 8.0] * 7, [3.0, 5.0] * 7)
    assert pain["change_points"] == expected.change_points == 3.0
    assert (pain["ci_low"], pain["ci_high"]) == (expected.ci_low, expected.ci_high)
    assert pain["beyond_noise"] is expected.beyond_noise is True
    assert 0 < pain["ci_low"] < 3 < pain["ci_high"]


def test_an_interval_that_straddles_zero_is_within_day_to_day_variation():
    baseline = {DAY0 + d: (4 + 2 * (d % 3 == 0), None, None, None) for d in range(14)}
    window = {DAY0 + 28 + d: (4 + 2 * (d % 4 == 0), None, None, None) for d in range(14)}
    pain = week4(merge(baseline, window))["symptoms"]["pain"]
    assert pain["ci_low"] < 0 < pain["ci_high"]
    assert pain["beyond_noise"] is False


def test_constant_diaries_are_not_assessable():
    """No day-to-day variation at all gives no interval, never a "beyond" verdict."""
    baseline = {DAY0 + d: (6, None, None, None) for d in range(14)}
    window = {DAY0 + 28 + d: (3, None, None, None) for d in range(14)}
    pain = week4(merge(baseline, window))["symptoms"]["pain"]
    assert pain["change_points"] == 3.0 and pain["class"] == "substantial"
    assert (pain["beyond_noise"], pain["ci_low"], pain["ci_high"]) == (None, None, None)


def test_tau_u_by_hand():
    # Pain, so a decrease is an improvement; stats.tau_u wants "increase = better", so negate.
    # A = [5, 6], B = [4, 5]: S_AB = +1 (5->4) + 0 (5->5) + 1 (6->4) + 1 (6->5) = 3;
    # S_A = sign of the improvement 5 -> 6 = -1; Tau-U = (3 - (-1)) / 4 = 1.
    assert stats.tau_u(-np.array([5.0, 6.0]), -np.array([4.0, 5.0])) == 1.0
    # The same numbers for sleep (higher is better): S_AB = -3, S_A = +1, Tau-U = -1.
    assert stats.tau_u(np.array([5.0, 6.0]), np.array([4.0, 5.0])) == -1.0
    # Missing days drop out of both counts.
    assert stats.tau_u(np.array([5.0, np.nan, 6.0]), np.array([np.nan, 4.0, 5.0])) == -1.0


def test_tau_u_corrects_for_an_improving_baseline():
    # Baseline pain 6 for a week then 5 for a week: S_A = 7 * 7 = 49 improving pairs.
    # Window pain 5 throughout: S_AB = 7 * 14 = 98 (the 6s) + 0 (ties with the 5s).
    # Tau-U = (98 - 49) / (14 * 14) = 0.25, half of the uncorrected 0.5.
    entries = merge(daily(range(0, 7), pain=6), daily(range(7, 14), pain=5), daily(WEEK4, pain=5))
    assert week4(entries)["symptoms"]["pain"]["tau_u"] == 0.25


def test_sleep_3_to_6_counts_like_pain_7_to_4():
    """The problem scale: sleep 3 -> 6 is the problem 7 -> 4, the same 42.9 % as pain 7 -> 4,
    not the +100 % a percent of the raw sleep score would claim."""
    entries = merge(
        daily(range(0, 14), pain=7, fatigue=5, sleep=3, mood=5),
        daily(WEEK4, pain=4, fatigue=5, sleep=6, mood=5),
    )
    s = week4(entries)["symptoms"]
    assert s["pain"]["change_pct"] == pytest.approx(300 / 7)
    assert s["sleep"]["change_pct"] == s["pain"]["change_pct"]
    assert s["sleep"]["class"] == s["pain"]["class"] == "moderate"


def test_a_sleep_baseline_with_no_problem_gets_points_only():
    entries = merge(
        daily(range(0, 14), pain=6, fatigue=5, sleep=10, mood=5),
        daily(WEEK4, pain=6, fatigue=5, sleep=8, mood=5),
    )
    sleep = week4(entries)["symptoms"]["sleep"]
    assert sleep["change_points"] == -2.0
    assert sleep["change_pct"] is None and sleep["class"] is None


@pytest.mark.parametrize(
    ("pct", "shown"),
    [(29.7, 29), (30.0, 30), (29.999999999999996, 30), (50.4, 50), (9.99, 9), (-29.7, -29),
     (-30.0, -30), (-30.4, -30), (0.4, 0), (-0.4, 0)],
)  # fmt: skip
def test_a_shown_percent_is_truncated_toward_zero(pct, shown):
    assert stats.shown_percent(pct) == shown


@given(st.floats(min_value=-100, max_value=100, allow_nan=False))
def test_a_shown_percent_never_contradicts_its_class(pct):
    shown = stats.shown_percent(pct)
    cls = stats.classify_pct(pct)
    thresholds = {"none": (-1000, 10), "minimal": (10, 30), "moderate": (30, 50)}
    thresholds["substantial"] = (50, 1000)
    low, high = thresholds[cls]
    assert low <= shown < high or (cls == "none" and shown < 10), (pct, shown, cls)


def test_each_window_reports_its_adherence_and_marks_it_low_under_80_percent():
    """Week 4 is days 14-27. Answered days only: 10 yes, 2 partly, 2 no -> (10 + 1) / 14 =
    78.6 %, low. Days not asked (before the first dose) never count."""
    from ldn_diary.clinical import compute_patient
    from ldn_diary.clinical.constants import TAKEN_NO, TAKEN_NOT_ASKED, TAKEN_PARTLY, TAKEN_YES

    def taken(n: int) -> int:
        if n < 0:
            return TAKEN_NOT_ASKED
        if n in (15, 19):
            return TAKEN_PARTLY
        if n in (16, 20):
            return TAKEN_NO
        return TAKEN_YES

    import datetime as dt

    day0 = dt.date.fromordinal(DAY0)
    start = day0 + dt.timedelta(days=14)

    def day(n: int) -> dt.date:
        return day0 + dt.timedelta(days=n)

    entries = [(day(n), 6.0, 5.0, 5.0, 5.0, taken(n - 14)) for n in range(0, 14 + 28)]
    summary = compute_patient(entries, [(start, 1500)]).summaries[0]
    week4 = summary["windows"][0]
    assert week4["adherence"] == pytest.approx(11 / 14)
    assert week4["low_adherence"] is True
    assert week4["symptoms"]["pain"]["class"] == "none"  # the class is still given
    # The one dose phase (days 0-27) is assessed on its last 14 days: the same days.
    phase = summary["phases"][0]
    assert (phase["window_start"], phase["window_end"]) == (week4["start"], week4["end"])
    assert (phase["adherence"], phase["low_adherence"]) == (week4["adherence"], True)

    never_asked = [(d, p, f, s, m, TAKEN_NOT_ASKED) for d, p, f, s, m, _ in entries]
    week4 = compute_patient(never_asked, [(start, 1500)]).summaries[0]["windows"][0]
    assert (week4["adherence"], week4["low_adherence"]) == (None, None)
