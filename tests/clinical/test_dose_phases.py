"""Dose history rules by hand: therapy start, dose on a day, phases, week windows in the future."""

from __future__ import annotations

import numpy as np

from ldn_diary.clinical import constants as c

from ._helpers import DAY0, daily, merge, row_of, run


def iso(offset):
    from datetime import date

    return date.fromordinal(DAY0 + offset).isoformat()


def phase_table(summary):
    return [(p["dose_ug"], p["start"], p["end"], p["phase_days"]) for p in summary["phases"]]


def test_no_dose_at_all():
    result = run(daily(range(0, 40), pain=5), [])
    summary = result.summaries[0]
    assert summary["therapy_start"] is None
    assert summary["baseline"] == {
        "valid": False,
        "days_logged": 0,
        "start": None,
        "end": None,
        "pain": None,
        "fatigue": None,
        "sleep": None,
        "mood": None,
    }
    assert summary["windows"] == [] and summary["phases"] == []
    assert summary["assessed_window"] is None and summary["composite_responder"] is None
    assert (summary["data_start"], summary["data_end"]) == (iso(0), iso(39))
    # Trends still come out; there is just no dose and no change from a baseline.
    assert (result.day_dose_ug == c.NO_DOSE).all()
    assert result.day_rolling[row_of(result, 39), 0] == 5.0
    assert np.isnan(result.day_change_pct).all()


def test_dose_on_a_day_is_the_latest_change_and_zero_before_start_is_not_therapy():
    doses = [(DAY0 + 5, 0), (DAY0 + 14, 1500), (DAY0 + 20, 3000)]
    result = run(daily(range(0, 30), pain=5), doses)
    dose = result.day_dose_ug.tolist()
    assert dose[:5] == [-1] * 5 and dose[5:14] == [0] * 9
    assert dose[14:20] == [1500] * 6 and dose[20:] == [3000] * 10
    assert result.summaries[0]["therapy_start"] == iso(14)


def test_the_last_of_several_changes_on_one_day_wins():
    doses = [(DAY0 + 14, 1500), (DAY0 + 14, 3000)]
    result = run(daily(range(0, 30), pain=5), doses)
    assert result.day_dose_ug[row_of(result, 14)] == 3000
    assert phase_table(result.summaries[0]) == [(3000, iso(14), iso(29), 16)]


def test_a_change_to_the_same_dose_does_not_split_a_phase():
    doses = [(DAY0 + 14, 1500), (DAY0 + 30, 1500), (DAY0 + 50, 3000)]
    result = run(daily(range(0, 81), pain=5), doses)
    assert phase_table(result.summaries[0]) == [
        (1500, iso(14), iso(49), 36),
        (3000, iso(50), iso(80), 31),
    ]


def test_a_pause_is_a_phase_with_dose_zero():
    doses = [(DAY0 + 14, 1500), (DAY0 + 40, 0), (DAY0 + 60, 1500)]
    result = run(daily(range(0, 91), pain=5), doses)
    summary = result.summaries[0]
    assert phase_table(summary) == [
        (1500, iso(14), iso(39), 26),
        (0, iso(40), iso(59), 20),
        (1500, iso(60), iso(90), 31),
    ]
    assert summary["phases"][1]["dose_mg"] == 0.0
    assert summary["phases"][0]["dose_mg"] == 1.5
    assert summary["therapy_start"] == iso(14)  # a pause does not restart therapy
    assert result.day_dose_ug[row_of(result, 45)] == 0


def test_phase_windows_skip_the_first_week_and_short_phases_get_no_class():
    doses = [(DAY0 + 14, 1500), (DAY0 + 21, 3000), (DAY0 + 29, 4500)]
    entries = merge(daily(range(0, 14), pain=8), daily(range(14, 61), pain=4))
    phases = run(entries, doses).summaries[0]["phases"]
    seven, eight, long = phases
    # 7 days: nothing left after the settling week.
    assert (seven["phase_days"], seven["window_start"], seven["window_end"]) == (7, None, None)
    assert (seven["days_logged"], seven["valid"], seven["composite_responder"]) == (0, False, None)
    assert seven["symptoms"]["pain"]["mean"] is None
    assert seven["symptoms"]["pain"]["class"] is None
    # 8 days: the window is the phase's last day only; a mean but no class.
    assert (eight["window_start"], eight["window_end"]) == (iso(28), iso(28))
    assert (eight["days_logged"], eight["valid"]) == (1, False)
    assert eight["symptoms"]["pain"]["mean"] == 4.0
    assert eight["symptoms"]["pain"]["change_pct"] == 50.0
    assert eight["symptoms"]["pain"]["class"] is None
    # 32 days (29..60): the last 14 days, valid, classified.
    assert (long["window_start"], long["window_end"]) == (iso(47), iso(60))
    assert (long["days_logged"], long["valid"]) == (14, True)
    assert long["symptoms"]["pain"]["class"] == "substantial"


def test_a_phase_window_is_its_last_phase_days_minus_seven_days_up_to_fourteen():
    doses = [(DAY0 + 14, 1500), (DAY0 + 29, 3000)]  # first phase 15 days: window 8 days
    phases = run(daily(range(0, 40), pain=5), doses).summaries[0]["phases"]
    assert (phases[0]["window_start"], phases[0]["window_end"]) == (iso(21), iso(28))
    assert phases[0]["days_logged"] == 8 and phases[0]["valid"] is False
    assert phases[1]["phase_days"] == 11  # the current phase ends at the last entry


def test_dose_changes_after_the_last_entry_are_not_phases_yet():
    doses = [(DAY0 + 14, 1500), (DAY0 + 100, 3000)]
    summary = run(daily(range(0, 61), pain=5), doses).summaries[0]
    assert phase_table(summary) == [(1500, iso(14), iso(60), 47)]


def test_week_windows_in_the_future_are_reported_empty():
    result = run(daily(range(0, 31), pain=5), [(DAY0 + 14, 1500)])
    summary = result.summaries[0]
    windows = [(w["label"], w["week"], w["start"], w["end"]) for w in summary["windows"]]
    assert windows == [
        ("week_4", 4, iso(28), iso(41)),
        ("week_8", 8, iso(56), iso(69)),
        ("week_12", 12, iso(84), iso(97)),
    ]
    assert [w["days_logged"] for w in summary["windows"]] == [3, 0, 0]
    assert [w["valid"] for w in summary["windows"]] == [False, False, False]
    assert summary["windows"][2]["symptoms"]["pain"]["mean"] is None
    assert summary["assessed_window"] is None and summary["composite_responder"] is None


def test_assessed_window_is_the_latest_valid_week_window():
    entries = merge(
        daily(range(0, 14), pain=10, fatigue=10),
        daily(range(28, 42), pain=8, fatigue=8),  # week 4: 20 %
        daily(range(56, 70), pain=6, fatigue=6),  # week 8: 40 %
        daily(range(84, 93), pain=6, fatigue=6),  # week 12: 9 days, not valid
    )
    summary = run(entries, [(DAY0 + 14, 1500)]).summaries[0]
    assert [w["valid"] for w in summary["windows"]] == [True, True, False]
    assert [w["composite_responder"] for w in summary["windows"]] == [False, True, None]
    assert summary["assessed_window"] == "week_8"
    assert summary["composite_responder"] is True


def test_data_ending_before_therapy_start_has_no_phases():
    summary = run(daily(range(0, 11), pain=5), [(DAY0 + 20, 1500)]).summaries[0]
    assert summary["therapy_start"] == iso(20)
    assert summary["phases"] == []
    assert summary["baseline"]["days_logged"] == 5  # offsets 6..10 of the baseline 6..19
    assert [w["days_logged"] for w in summary["windows"]] == [0, 0, 0]
