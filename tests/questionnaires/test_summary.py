"""What the clinician sees from finished questionnaires, worked out by hand (docs/clinical-rules.md
§4): the FIQR's domains and total, its fall from week 0 and the 14 % MCID (Bennett 2009), the
PGIC responder, and whether the ACR 2016 criteria are met."""

from __future__ import annotations

import datetime as dt

import pytest

from ldn_diary.questionnaires.summary import Completed, fall_pct, summarise

ON = dt.date(2026, 11, 1)


def fiqr(function: list[int | None], overall: list[int | None], symptoms: list[int | None]):
    values = [*function, *overall, *symptoms]
    assert len(values) == 21
    return {str(n): v for n, v in enumerate(values, start=1)}


def done(instrument: str, week: int, answers: dict) -> Completed:
    return Completed(instrument, week, answers, ON + dt.timedelta(weeks=week))


# Baseline: all 6: function 54/3 = 18, overall 12/1 = 12, symptoms 60/2 = 30, total 60.
BASELINE = fiqr([6] * 9, [6] * 2, [6] * 10)


def test_fiqr_domains_total_fall_and_mcid_by_hand():
    # Week 4, all 5: total 50, a fall of 10/60 = 16.67 % >= 14 %: MCID met.
    # Week 8: function 45/3 = 15, overall 11, symptoms 57/2 = 28.5, total 54.5:
    #   a fall of 5.5/60 = 9.17 %: not met.
    week8 = fiqr([5] * 9, [5, 6], [6] * 7 + [5] * 3)
    s = summarise(
        [
            done("fiqr", 8, week8),
            done("fiqr", 0, BASELINE),
            done("fiqr", 4, fiqr([5] * 9, [5] * 2, [5] * 10)),
        ]
    )
    assert [r.week for r in s.fiqr] == [0, 4, 8]
    base, w4, w8 = s.fiqr
    assert (base.function, base.overall, base.symptoms, base.total) == (18.0, 12.0, 30.0, 60.0)
    assert base.fall_pct is None and base.mcid_met is None  # the baseline is not a change
    assert w4.total == 50.0 and w4.fall_pct == pytest.approx(100 / 6) and w4.mcid_met is True
    assert (w8.function, w8.overall, w8.symptoms, w8.total) == (15.0, 11.0, 28.5, 54.5)
    assert w8.fall_pct == pytest.approx(55 / 6) and w8.mcid_met is False
    assert s.latest_fiqr is w8


def test_a_fall_of_exactly_14_percent_is_the_mcid():
    # Baseline 50 (all 5); later: function 27/3 = 9, overall 10/1 = 10, symptoms 48/2 = 24,
    # total 43: (50 - 43) / 50 = 14 % exactly. One point more (total 44) is 12 %: not met.
    base = fiqr([5] * 9, [5] * 2, [5] * 10)
    exactly = fiqr([3] * 9, [5, 5], [5] * 8 + [4] * 2)
    short = fiqr([3] * 9, [5, 5], [5] * 10)
    s = summarise([done("fiqr", 0, base), done("fiqr", 4, exactly), done("fiqr", 8, short)])
    assert s.fiqr[1].total == 43.0 and s.fiqr[1].mcid_met is True
    assert s.fiqr[2].total == 44.0 and s.fiqr[2].mcid_met is False


def test_missing_items_follow_the_scoring_rules():
    # One function item missing: 8 answers of 6 = 48, scaled 48 x 9/8 = 54, / 3 = 18 (as if 6).
    # Two symptom items missing: the symptoms domain and the total are not scored.
    one_gap = fiqr([6] * 8 + [None], [6] * 2, [6] * 10)
    two_gaps = fiqr([6] * 9, [6] * 2, [6] * 8 + [None, None])
    s = summarise([done("fiqr", 0, BASELINE), done("fiqr", 4, one_gap), done("fiqr", 8, two_gaps)])
    assert s.fiqr[1].function == 18.0 and s.fiqr[1].total == 60.0 and s.fiqr[1].answered == 20
    assert s.fiqr[1].fall_pct == 0.0 and s.fiqr[1].mcid_met is False
    assert s.fiqr[2].symptoms is None and s.fiqr[2].total is None and s.fiqr[2].answered == 19
    assert s.fiqr[2].fall_pct is None and s.fiqr[2].mcid_met is None


def test_without_a_baseline_there_is_no_change():
    s = summarise([done("fiqr", 4, BASELINE)])
    assert s.fiqr[0].total == 60.0 and s.fiqr[0].fall_pct is None and s.fiqr[0].mcid_met is None


@pytest.mark.parametrize(
    ("baseline", "later", "expected"),
    [(60, 45, 25.0), (40, 50, -25.0), (0, 5, None), (None, 5, None)],
)
def test_fall_pct(baseline, later, expected):
    assert fall_pct(baseline, later) == expected


def test_pgic_responder_is_much_improved_or_better():
    s = summarise([done("pgic", w, {"answer": a}) for w, a in ((4, 3), (8, 2), (12, 1))])
    assert [(r.week, r.label, r.responder) for r in s.pgic] == [
        (4, "Minimally improved", False),
        (8, "Much improved", True),
        (12, "Very much improved", True),
    ]


ACR_MET = {
    # WPI 8: both shoulders, both upper legs, both lower legs, neck, lower back: 4 limb regions
    # and axial = 5 regions. SSS: 2 + 2 + 1 + headaches 1 = 6. WPI >= 7 and SSS >= 5: met.
    "painful_areas": [
        "left_shoulder_girdle",
        "right_shoulder_girdle",
        "left_upper_leg",
        "right_upper_leg",
        "left_lower_leg",
        "right_lower_leg",
        "neck",
        "lower_back",
    ],
    "symptoms_3_months": True,
    "fatigue": 2,
    "waking_unrefreshed": 2,
    "cognitive": 1,
    "headaches": True,
    "lower_abdominal": False,
    "depression": False,
}


def test_acr_2016_met_then_not_met():
    # Week 12: the same, but symptoms under 3 months: not met whatever the scores.
    # Week 8: both jaws, both shoulders, neck, chest and abdomen: WPI 7. Jaw, chest and abdomen
    # count in the WPI but not toward a region: left upper (shoulder), right upper (shoulder)
    # and axial (neck) are 3 regions, under the 4 of generalised pain.
    w8 = {
        **ACR_MET,
        "painful_areas": [
            "left_jaw",
            "right_jaw",
            "left_shoulder_girdle",
            "right_shoulder_girdle",
            "neck",
            "chest",
            "abdomen",
        ],
        "fatigue": 3,
        "waking_unrefreshed": 3,
        "cognitive": 3,
        "depression": True,
    }
    s = summarise(
        [
            done("acr2016", 0, ACR_MET),
            done("acr2016", 8, w8),
            done("acr2016", 12, {**ACR_MET, "symptoms_3_months": False}),
        ]
    )
    base, w8_row, w12 = s.acr
    assert (base.wpi, base.sss, base.fs, base.generalized, base.met) == (8, 6, 14, True, True)
    # WPI 7 and SSS 3 + 3 + 3 + 1 + 1 = 11 would meet the thresholds, but pain is not generalised.
    assert (w8_row.wpi, w8_row.sss, w8_row.generalized, w8_row.met) == (7, 11, False, False)
    assert w12.met is False and w12.wpi == 8


def test_an_incomplete_acr_is_left_out_and_json_keeps_the_numbers():
    s = summarise(
        [
            done("acr2016", 0, {**ACR_MET, "fatigue": None}),
            done("fiqr", 0, BASELINE),
            done("pgic", 4, {"answer": 2}),
        ]
    )
    assert s.acr == []
    data = s.as_json()
    assert set(data) == {"fiqr_mcid_pct", "fiqr", "pgic", "acr2016"}
    assert data["fiqr_mcid_pct"] == 14.0
    assert data["fiqr"][0]["total"] == 60.0 and data["fiqr"][0]["completed_on"] == "2026-11-01"
    assert data["pgic"][0] == {
        "week": 4,
        "completed_on": "2026-11-29",
        "answer": 2,
        "label": "Much improved",
        "responder": True,
    }
