"""The brief's plain-words sentences and caveats, on hand-made summaries and on the real engine."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.utils import timezone

from ldn_diary.clinic import summary as words

from .conftest import days_ago, recompute, write_diary

PAIN = {
    "mean": 4.6,
    "change_points": 2.4,
    "change_pct": 34.2,
    "class": "moderate",
    "two_point": True,
    "ci_low": 1.1,
    "ci_high": 3.7,
    "beyond_noise": True,
    "tau_u": 0.6,
    "n": 13,
}


def window(label, start, end, valid=True, days=13, pain=None, composite=None):
    other = {**PAIN, "class": "minimal", "change_pct": 12.0}
    return {
        "label": label,
        "week": int(label[5:]),
        "start": start,
        "end": end,
        "days_logged": days,
        "valid": valid,
        "composite_responder": composite,
        "symptoms": {
            "pain": pain or PAIN,
            "fatigue": other,
            "sleep": other,
            "mood": other,
        },
    }


def phase(dose_ug, start, end, valid=True, days=None):
    d0, d1 = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return {
        "dose_ug": dose_ug,
        "dose_mg": dose_ug / 1000,
        "start": start,
        "end": end,
        "phase_days": days or (d1 - d0).days + 1,
        "window_start": None,
        "window_end": None,
        "days_logged": 10,
        "valid": valid,
        "composite_responder": None,
        "symptoms": {},
    }


# Therapy from 1 Feb 2026: week 4 = 15-28 Feb, week 8 = 15-28 Mar, week 12 = 12-25 Apr.
SUMMARY = {
    "therapy_start": "2026-02-01",
    "data_start": "2026-01-18",
    "data_end": "2026-04-02",
    "baseline": {
        "valid": True,
        "days_logged": 13,
        "start": "2026-01-18",
        "end": "2026-01-31",
        "pain": 7.0,
        "fatigue": 6.0,
        "sleep": 4.0,
        "mood": 4.0,
    },
    "windows": [
        window(
            "week_4",
            "2026-02-15",
            "2026-02-28",
            pain={**PAIN, "class": "minimal", "change_pct": 15.0},
        ),
        window("week_8", "2026-03-15", "2026-03-28", composite=False),
        window("week_12", "2026-04-12", "2026-04-25", valid=False, days=0),
    ],
    "phases": [
        phase(1500, "2026-02-01", "2026-02-14", valid=False),
        phase(3000, "2026-02-15", "2026-03-07", valid=True),
        phase(4500, "2026-03-08", "2026-04-02", valid=True),
    ],
    "assessed_window": "week_8",
    "composite_responder": False,
}


def with_pain(**changes):
    s = copy.deepcopy(SUMMARY)
    s["windows"][1]["symptoms"]["pain"].update(changes)
    return s


def test_the_headline_sentence():
    assert words.response_sentence(SUMMARY) == (
        "Pain down 34 % from baseline at week 8 on 4.5 mg — moderate responder; "
        "beyond day-to-day variation."
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"change_pct": 55.0, "class": "substantial"},
            "Pain down 55 % from baseline at week 8 on 4.5 mg — substantial responder; beyond day-to-day variation.",
        ),
        (
            {"change_pct": 18.4, "class": "minimal", "beyond_noise": False},
            "Pain down 18 % from baseline at week 8 on 4.5 mg — minimal improvement, below the 30 % responder threshold; within day-to-day variation.",
        ),
        (
            {"change_pct": 4.0, "class": "none", "beyond_noise": False},
            "Pain down 4 % from baseline at week 8 on 4.5 mg — no meaningful response (under 10 %); within day-to-day variation.",
        ),
        (
            {"change_pct": -21.0, "class": "none", "beyond_noise": True},
            "Pain up 21 % from baseline at week 8 on 4.5 mg — not a responder (pain worse); beyond day-to-day variation.",
        ),
        (
            {"change_pct": 0.3, "class": "none", "beyond_noise": None},
            "Pain unchanged (0 %) from baseline at week 8 on 4.5 mg — no meaningful response (under 10 %); not assessable against day-to-day variation.",
        ),
    ],
)
def test_sentences_for_each_class_and_interval(changes, expected):
    assert words.response_sentence(with_pain(**changes)) == expected


def test_a_window_across_a_dose_step_names_both_doses():
    s = copy.deepcopy(SUMMARY)
    s["phases"][2]["start"] = "2026-03-20"
    s["phases"][1]["end"] = "2026-03-19"
    assert "at week 8 on 3 to 4.5 mg —" in words.response_sentence(s)


def test_why_there_is_no_class():
    s = copy.deepcopy(SUMMARY)
    s["baseline"].update(valid=False, days_logged=8)
    assert words.response_sentence(s) == (
        "No valid baseline (8 of 14 days logged before the first dose; 11 needed), so the "
        "response is not classified."
    )
    s = copy.deepcopy(SUMMARY)
    s["assessed_window"] = None
    assert words.response_sentence(s).startswith("Too early to classify")
    s = copy.deepcopy(SUMMARY)
    s["therapy_start"] = None
    assert (
        words.response_sentence(s)
        == "No LDN dose is recorded yet, so there is no response to assess."
    )
    assert words.response_sentence(None) == "No results have been calculated yet."


def test_a_zero_baseline_gives_points_not_a_percentage():
    sentence = words.response_sentence(
        with_pain(change_pct=None, change_points=-1.5, **{"class": None})
    )
    assert "cannot be given as a percentage" in sentence and "-1.5 points" in sentence


def test_details_give_means_interval_and_composite():
    details = words.response_details(SUMMARY)
    assert details[0] == (
        "Mean pain 4.6 over 15 Mar–28 Mar (13 days logged) against 7.0 at baseline: 2.4 points "
        "better (95 % interval +1.1 to +3.7, positive = better)."
    )
    assert details[1] == "Neither fatigue nor sleep improved by 30 %: not a composite responder."


def test_caveats_name_each_data_quality_problem():
    s = copy.deepcopy(SUMMARY)
    s["baseline"].update(valid=False, days_logged=9)
    s["windows"][0].update(valid=False, days_logged=7)
    out = words.caveats(
        s,
        today=dt.date(2026, 4, 3),
        status_text="Results are from 2 hours ago; 3 new or changed entries since — recomputing.",
        entries=80,
        backfilled=12,
        last_entry=dt.date(2026, 3, 25),
    )
    assert out == [
        "Results are from 2 hours ago; 3 new or changed entries since — recomputing.",
        "15 % of entries (12 of 80) were filled in on a later day (backfilled), which recalls "
        "symptoms less reliably.",
        "No entries for 9 days: the latest trend is from 25 Mar.",
        "Baseline not valid: 9 of 14 days logged before the first dose (11 needed), so no "
        "response class can be given.",
        "Week 4 window (15 Feb–28 Feb): 7 of 14 days logged (10 needed), not classified.",
        "Dose phases not assessed (shorter than 17 days or under 10 logged days in their last "
        "14): 1.5 mg (14 days).",
    ]
    # The week-12 window has not ended yet: not a caveat, just the future.
    assert not any("Week 12" in c for c in out)


def test_status_label_says_how_old_and_what_changed():
    now = timezone.now()
    assert words.status_label("current", now, 0, now) is None
    assert words.status_label("computing", now - dt.timedelta(hours=2), 3, now) == (
        "Results are from 2 hours ago; 3 new or changed entries since — recomputing."
    )
    assert words.status_label("stale", now - dt.timedelta(minutes=5), 1, now) == (
        "Results are from 5 minutes ago; 1 new or changed entry since — an update will follow "
        "within minutes."
    )
    assert words.status_label("missing", None, 4, now).startswith("No results have been calculated")


def test_the_sentence_from_the_real_engine(alice, carol):
    """Baseline pain 4/6 alternating (mean 5); from day 14, ten 3s and four 4s per fortnight
    (mean 46/14 = 3.29): 34.3 % better, a moderate responder, clearly outside the noise."""
    today = carol.local_today()
    start = days_ago(today, 60)
    write_diary(
        alice,
        start=start,
        last=60,
        pain=lambda n: (4 if n % 2 else 6) if n < 14 else (4 if n % 14 in (0, 4, 8, 12) else 3),
        dose_ug=lambda n: 1500 if n < 14 else 3000 if n < 28 else 4500,
    )
    recompute(alice)
    from ldn_diary.trends.selectors import trend_summary_for

    data = trend_summary_for(alice).data
    assert data["assessed_window"] == "week_8"
    assert words.response_sentence(data) == (
        "Pain down 34 % from baseline at week 8 on 4.5 mg — moderate responder; "
        "beyond day-to-day variation."
    )


def test_the_headline_truncates_so_it_never_contradicts_the_class():
    """29.7 % is minimal: it reads "down 29 %", never "down 30 % … below the 30 % threshold"."""
    from ldn_diary.clinic.templatetags.clinic_tags import signed_pct

    assert words.pct_words(29.7) == "down 29 %"
    assert words.pct_words(30.0) == "down 30 %"
    assert words.pct_words(-0.4) == "unchanged (0 %)"
    assert signed_pct(29.7) == "+29 %" and signed_pct(-30.4) == "−30 %"
