"""docs/clinical-rules.md §2 by hand: 7-day rolling means, gaps, the baseline, daily change."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ldn_diary.clinical import constants as c

from ._helpers import DAY0, daily, merge, row_of, run

START = 14  # therapy start as an offset from DAY0, so the baseline is offsets 0..13
DOSES = [(DAY0 + START, 1500)]


def test_constants_are_the_spec_numbers():
    assert (c.ROLLING_DAYS, c.ROLLING_MIN_DAYS) == (7, 4)
    assert (c.BASELINE_DAYS, c.BASELINE_MIN_DAYS) == (14, 11)
    assert (c.WINDOW_DAYS, c.WINDOW_MIN_DAYS, c.WEEK_WINDOWS) == (14, 10, (4, 8, 12))
    assert (c.PHASE_SETTLE_DAYS, c.PHASE_WINDOW_DAYS, c.PHASE_MIN_DAYS) == (7, 14, 10)
    assert (c.IMMPACT_MINIMAL_PCT, c.IMMPACT_MODERATE_PCT, c.IMMPACT_SUBSTANTIAL_PCT) == (
        10,
        30,
        50,
    )
    assert c.TWO_POINT == 2.0
    assert c.SYMPTOMS == ("pain", "fatigue", "sleep", "mood")
    assert c.HIGHER_IS_WORSE == {"pain": True, "fatigue": True, "sleep": False, "mood": False}


def test_rolling_mean_needs_four_of_seven_days():
    three = {DAY0: (3, None, None, None), DAY0 + 2: (6, None, None, None)}
    three[DAY0 + 4] = (9, None, None, None)
    result = run(three, [])
    i = row_of(result, 4)
    assert result.day_rolling_n[i, 0] == 3
    assert math.isnan(result.day_rolling[i, 0])

    four = {**three, DAY0 + 6: (2, None, None, None)}
    result = run(four, [])
    i = row_of(result, 6)
    assert result.day_rolling_n[i, 0] == 4
    assert result.day_rolling[i, 0] == (3 + 6 + 9 + 2) / 4
    # Day 7's window is days 1..7, which holds only three of the four values again.
    # (No row exists past the last entry, so check day 6's neighbour by adding a later entry.)
    result = run({**four, DAY0 + 8: (None, None, None, None)}, [])
    i = row_of(result, 7)
    assert result.day_rolling_n[i, 0] == 3
    assert math.isnan(result.day_rolling[i, 0])


def test_missed_days_are_never_filled_in():
    entries = merge(
        {DAY0 + d: (v, None, None, None) for d, v in zip(range(4), (2, 4, 6, 8), strict=True)},
        daily([10], pain=1),
    )
    result = run(entries, [])
    # One row per calendar day from the first to the last entry, gaps included.
    assert result.day_day.tolist() == [DAY0 + d for d in range(11)]
    assert result.day_logged.tolist() == [True] * 4 + [False] * 6 + [True]
    assert result.day_dose_ug.tolist() == [c.NO_DOSE] * 11
    pain = result.day_rolling[:, 0]
    assert pain[3] == pain[4] == pain[6] == 5.0  # days 0..3 only; days 4..6 add nothing
    # Day 7's window (days 1..7) has 3 values; carrying day 3's 8 forward would have made it 4.
    assert result.day_rolling_n[7, 0] == 3 and math.isnan(pain[7])
    assert result.day_rolling_n[10, 0] == 1 and math.isnan(pain[10])
    assert np.isnan(result.day_rolling[:, 1:]).all()
    assert (result.day_rolling_n[:, 1:] == 0).all()


def test_symptoms_roll_independently():
    entries = merge(daily(range(0, 5), pain=4, sleep=7), daily(range(5, 7), pain=6))
    result = run(entries, [])
    i = row_of(result, 6)
    assert result.day_rolling_n[i].tolist() == [7, 0, 5, 0]
    assert result.day_rolling[i, 0] == (4 * 5 + 6 * 2) / 7
    assert result.day_rolling[i, 2] == 7.0


def test_baseline_valid_with_eleven_of_fourteen_days():
    window = daily(range(28, 42), pain=3)
    result = run(merge(daily(range(3, 14), pain=6), window), DOSES)
    baseline = result.summaries[0]["baseline"]
    assert baseline["valid"] is True and baseline["days_logged"] == 11
    assert baseline["pain"] == 6.0 and baseline["fatigue"] is None
    assert (baseline["start"], baseline["end"]) == ("2024-03-04", "2024-03-17")
    pain = result.summaries[0]["windows"][0]["symptoms"]["pain"]
    assert pain["change_pct"] == 50.0 and pain["class"] == "substantial"


def test_baseline_invalid_with_ten_days_but_means_still_reported():
    window = daily(range(28, 42), pain=3)
    result = run(merge(daily(range(4, 14), pain=6), window), DOSES)
    summary = result.summaries[0]
    assert summary["baseline"]["valid"] is False
    assert summary["baseline"]["days_logged"] == 10
    assert summary["baseline"]["pain"] == 6.0
    week4 = summary["windows"][0]
    assert week4["valid"] is True  # the window itself is fine ...
    pain = week4["symptoms"]["pain"]
    assert pain["mean"] == 3.0  # ... and its mean is shown,
    assert pain["change_points"] is None and pain["change_pct"] is None  # but no change
    assert pain["class"] is None and pain["beyond_noise"] is None and pain["tau_u"] is None
    assert week4["composite_responder"] is None and summary["composite_responder"] is None
    assert np.isnan(result.day_change_pct).all()


def test_an_entry_without_any_symptom_is_not_a_logged_baseline_day():
    # Ten scored days plus one entry with no scores (e.g. only side effects): 10 of 14, invalid.
    entries = merge(daily(range(4, 14), pain=6), daily([2]), daily(range(28, 42), pain=3))
    result = run(entries, DOSES)
    assert result.summaries[0]["baseline"]["days_logged"] == 10
    assert result.summaries[0]["baseline"]["valid"] is False
    assert result.day_logged[row_of(result, 2)]  # the entry itself still exists that day


def test_therapy_start_day_is_not_in_the_baseline():
    entries = merge(daily(range(4, 15), pain=6), daily(range(28, 42), pain=3))
    result = run(entries, DOSES)
    assert result.summaries[0]["baseline"]["days_logged"] == 10


def test_daily_change_from_baseline_is_oriented_positive_is_better():
    entries = merge(
        daily(range(0, 14), pain=6, fatigue=4, sleep=4, mood=6),
        daily(range(14, 30), pain=3, fatigue=4, sleep=6, mood=3),
    )
    result = run(entries, DOSES)
    i = row_of(result, 29)
    # Sleep 4 -> 6 is the problem 6 -> 4 (33.3 % better); mood 6 -> 3 the problem 4 -> 7 (75 %
    # worse): percentages of the problem scale, 10 - score, for symptoms measured upwards.
    assert result.day_change_pct[i].tolist() == pytest.approx([50.0, 0.0, 100 * 2 / 6, -75.0])
    # Before therapy the rolling mean equals the baseline: no change.
    assert result.day_change_pct[row_of(result, 10)].tolist() == [0.0, 0.0, 0.0, 0.0]
    # The first three days have no rolling mean, hence no change either.
    assert np.isnan(result.day_change_pct[:3]).all()


def test_daily_change_is_empty_for_a_zero_baseline():
    entries = merge(daily(range(0, 14), pain=0, fatigue=5), daily(range(14, 30), pain=2, fatigue=4))
    result = run(entries, DOSES)
    i = row_of(result, 29)
    assert math.isnan(result.day_change_pct[i, 0])
    assert result.day_change_pct[i, 1] == 20.0
