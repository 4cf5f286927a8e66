"""docs/clinical-rules.md §4 by hand: FIQR, PGIC and the 2016 ACR fibromyalgia criteria.

Every expected value is worked out in the comments from the published rules (Bennett et al.
2009 for the FIQR, Wolfe et al. 2016 for the ACR criteria), not from the code under test.  The
property tests check the same rules against an independent formula in this file.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldn_diary import clinical
from ldn_diary.clinical import (
    ACR_REGIONS,
    BODY_AREA_LABELS,
    BODY_AREAS,
    FIQR_ITEMS,
    FIQR_MCID_PCT,
    PGIC_CHOICES,
    Acr2016Result,
    FiqrScore,
    acr2016,
    fiqr_mcid_met,
    fiqr_score,
    pgic_responder,
)

FAST = settings(deadline=None, max_examples=150)


def fiqr(function, overall, symptoms):
    """Score answers given per domain (9, 2 and 10 items), checking the counts first."""
    assert (len(function), len(overall), len(symptoms)) == (9, 2, 10)
    return fiqr_score([*function, *overall, *symptoms])


# --- FIQR: worked examples -----------------------------------------------------------------------

# A typical patient, used in several tests below.
TYPICAL_FUNCTION = [3, 6, 4, 7, 6, 5, 6, 4, 5]  # sum 46
TYPICAL_OVERALL = [7, 6]  # sum 13
TYPICAL_SYMPTOMS = [7, 8, 6, 7, 4, 6, 5, 7, 3, 6]  # sum 59


def test_fiqr_all_zero_scores_zero():
    assert fiqr_score([0] * 21) == FiqrScore(function=0.0, overall=0.0, symptoms=0.0, total=0.0)


def test_fiqr_all_ten_scores_one_hundred():
    # 90 / 3 = 30, 20 / 1 = 20, 100 / 2 = 50, total 100.
    score = fiqr_score([10] * 21)
    assert score == FiqrScore(function=30.0, overall=20.0, symptoms=50.0, total=100.0)


def test_fiqr_all_five_is_exact():
    # 45 / 3 = 15 exactly, 10 / 1 = 10, 50 / 2 = 25, total 50.
    score = fiqr_score([5] * 21)
    assert (score.function, score.overall, score.symptoms, score.total) == (15.0, 10.0, 25.0, 50.0)


def test_fiqr_typical_patient():
    # function 46 / 3 = 15.333..., overall 13, symptoms 59 / 2 = 29.5;
    # total 46/3 + 13 + 59/2 = (92 + 78 + 177) / 6 = 347/6 = 57.833...
    score = fiqr(TYPICAL_FUNCTION, TYPICAL_OVERALL, TYPICAL_SYMPTOMS)
    assert score.function == 46 / 3
    assert score.overall == 13.0
    assert score.symptoms == 29.5
    assert score.total == 347 / 6
    assert score.total == pytest.approx(57.8333333333, abs=1e-9)


def test_fiqr_one_missing_item_per_domain_is_scaled_up():
    # function: item 5 (6) missing, sum 40 of 8 answered, scaled 40 * 9/8 = 45, / 3 = 15.
    # overall: item 11 (6) missing, 7 * 2/1 = 14, / 1 = 14.
    # symptoms: item 17 (6) missing, sum 53 of 9 answered, 53 * 10/9 = 530/9, / 2 = 265/9.
    # total 15 + 14 + 265/9 = (261 + 265) / 9 = 526/9 = 58.444...
    function = [3, 6, 4, 7, None, 5, 6, 4, 5]
    overall = [7, None]
    symptoms = [7, 8, 6, 7, 4, None, 5, 7, 3, 6]
    score = fiqr(function, overall, symptoms)
    assert score.function == 15.0
    assert score.overall == 14.0
    assert score.symptoms == 265 / 9
    assert score.total == 526 / 9


def test_fiqr_two_missing_in_one_domain_leaves_that_domain_and_the_total_unscored():
    # function has two gaps: not scored, and so no total; the other domains as in the typical
    # patient (13 and 59 / 2 = 29.5).
    function = [None, None, 4, 7, 6, 5, 6, 4, 5]
    score = fiqr(function, TYPICAL_OVERALL, TYPICAL_SYMPTOMS)
    assert score == FiqrScore(function=None, overall=13.0, symptoms=29.5, total=None)


def test_fiqr_two_missing_in_the_symptoms_domain():
    symptoms = [7, None, 6, 7, 4, 6, 5, None, 3, 6]
    score = fiqr(TYPICAL_FUNCTION, TYPICAL_OVERALL, symptoms)
    assert score == FiqrScore(function=46 / 3, overall=13.0, symptoms=None, total=None)


def test_fiqr_overall_domain_with_one_or_both_items_missing():
    # One of two missing: the other doubled, 4 * 2/1 = 8.  Total 46/3 + 8 + 29.5 = 317/6.
    score = fiqr(TYPICAL_FUNCTION, [None, 4], TYPICAL_SYMPTOMS)
    assert score.overall == 8.0
    assert score.total == 317 / 6
    # Both missing is two gaps: not scored.
    score = fiqr(TYPICAL_FUNCTION, [None, None], TYPICAL_SYMPTOMS)
    assert score == FiqrScore(function=46 / 3, overall=None, symptoms=29.5, total=None)


def test_fiqr_everything_missing_scores_nothing():
    assert fiqr_score([None] * 21) == FiqrScore(None, None, None, None)


def test_fiqr_scaling_keeps_exact_arithmetic():
    # function: eight answers of 1 and one gap: 8 * 9/8 / 3 = 3 exactly.
    # symptoms: nine answers of 1 and one gap: 9 * 10/9 / 2 = 5 exactly.
    score = fiqr([1] * 8 + [None], [1, 1], [None] + [1] * 9)
    assert (score.function, score.overall, score.symptoms, score.total) == (3.0, 2.0, 5.0, 10.0)


def test_fiqr_total_is_the_exact_sum_rounded_once():
    # function 1/3, overall 0, symptoms 1/2: the total is 5/6, as Python's 5 / 6 rounds it.
    # Adding the rounded domains instead gives 0.8333333333333333, one ulp below.
    score = fiqr([1] + [0] * 8, [0, 0], [1] + [0] * 9)
    assert score.total == 5 / 6 == 0.8333333333333334
    assert score.function + score.overall + score.symptoms == 0.8333333333333333


def test_fiqr_accepts_any_sequence_and_numpy_integers():
    answers = [*TYPICAL_FUNCTION, *TYPICAL_OVERALL, *TYPICAL_SYMPTOMS]
    expected = fiqr_score(answers)
    assert fiqr_score(tuple(answers)) == expected
    assert fiqr_score([np.int64(a) for a in answers]) == expected
    assert isinstance(fiqr_score([np.int64(5)] * 21).total, float)


@pytest.mark.parametrize("count", [0, 20, 22])
def test_fiqr_refuses_the_wrong_number_of_answers(count):
    with pytest.raises(ValueError, match=f"21 answers, got {count}"):
        fiqr_score([5] * count)


@pytest.mark.parametrize(
    ("item", "value"),
    [(1, -1), (5, 11), (12, 100), (21, 5.0), (10, 5.5), (3, True), (4, False), (7, "5")],
)
def test_fiqr_refuses_an_invalid_answer_and_names_the_item(item, value):
    answers: list[object] = [5] * 21
    answers[item - 1] = value
    with pytest.raises(ValueError, match=rf"FIQR item {item}\b"):
        fiqr_score(answers)


@pytest.mark.parametrize("answers", ["5" * 21, dict.fromkeys(range(21), 5)])
def test_fiqr_refuses_a_string_or_mapping(answers):
    with pytest.raises(ValueError, match="sequence of 21"):
        fiqr_score(answers)


# --- FIQR: properties ----------------------------------------------------------------------------

SIZES = {"function": 9, "overall": 2, "symptoms": 10}
DIVISORS = {"function": 3, "overall": 1, "symptoms": 2}
MAXIMA = {"function": 30, "overall": 20, "symptoms": 50}


def hand_domain(answers, domain):
    """Bennett's formula with the weighting for gaps: mean of the answered items times the
    number of items, divided by the domain's divisor; None with more than one gap."""
    answered = [a for a in answers if a is not None]
    if len(answers) - len(answered) > 1:
        return None
    return Fraction(sum(answered), len(answered)) * SIZES[domain] / DIVISORS[domain]


@st.composite
def domain_answers(draw, size):
    """A domain's answers with at most one of them missing."""
    answers = draw(st.lists(st.integers(0, 10), min_size=size, max_size=size))
    gap = draw(st.one_of(st.none(), st.integers(0, size - 1)))
    if gap is not None:
        answers[gap] = None
    return answers


def split(answers):
    return {"function": answers[:9], "overall": answers[9:11], "symptoms": answers[11:]}


@FAST
@given(function=domain_answers(9), overall=domain_answers(2), symptoms=domain_answers(10))
def test_fiqr_scored_domains_match_the_hand_formula(function, overall, symptoms):
    score = fiqr(function, overall, symptoms)
    exact = {d: hand_domain(a, d) for d, a in split([*function, *overall, *symptoms]).items()}
    for domain, value in exact.items():
        assert score[domain] == float(value)
        assert 0.0 <= score[domain] <= MAXIMA[domain]
    # The total is the exact sum, rounded once; within an ulp or two of the float sum.
    assert score.total == float(sum(exact.values()))
    assert score.total == pytest.approx(score.function + score.overall + score.symptoms, abs=1e-12)
    assert 0.0 <= score.total <= 100.0


@FAST
@given(st.lists(st.one_of(st.integers(0, 10), st.none()), min_size=21, max_size=21))
def test_fiqr_any_answers_score_like_the_hand_formula(answers):
    score = fiqr_score(answers)
    exact = {d: hand_domain(a, d) for d, a in split(answers).items()}
    for domain, value in exact.items():
        assert score[domain] == (None if value is None else float(value))
    if None in exact.values():
        assert score.total is None
    else:
        assert score.total == float(sum(exact.values()))


@FAST
@given(
    st.lists(st.integers(0, 10), min_size=21, max_size=21),
    st.integers(0, 20),
)
def test_fiqr_raising_one_answer_never_lowers_the_total(answers, index):
    if answers[index] == 10:
        return
    higher = [*answers]
    higher[index] += 1
    assert fiqr_score(higher).total > fiqr_score(answers).total


# --- FIQR: minimal clinically important difference -----------------------------------------------


def test_mcid_constant_is_fourteen_percent():
    assert FIQR_MCID_PCT == 14.0


@pytest.mark.parametrize(
    ("baseline", "later", "met"),
    [
        (50.0, 43.0, True),  # fall 7 of 50 = exactly 14 %
        (50.0, 43.5, False),  # 6.5 / 50 = 13 %
        (50.0, 43.0001, False),  # 13.9998 %: just below
        (100.0, 86.0, True),  # 14 / 100
        (100.0, 86.5, False),  # 13.5 %
        (100.0, 0.0, True),
        (60.0, 60.0, False),  # no change
        (40.0, 55.0, False),  # worse
        (None, 40.0, None),
        (40.0, None, None),
        (None, None, None),
        (0.0, 0.0, None),  # no fall is possible from 0
        (0, 10, None),
    ],
)
def test_mcid_is_a_fall_of_at_least_fourteen_percent(baseline, later, met):
    assert fiqr_mcid_met(baseline, later) is met


def test_mcid_exactly_fourteen_percent_survives_float_totals():
    # Baseline: function sum 88 (88/3), overall 20, symptoms sum 68 (34): 88/3 + 54 = 250/3.
    # Later: function sum 80 (80/3), overall 17, symptoms sum 56 (28): 80/3 + 45 = 215/3.
    # Fall (250 - 215)/3 = 35/3, and 35/3 of 250/3 is 35/250 = exactly 14 %; the naive float
    # formula lands just below 14.
    baseline = fiqr([10] * 8 + [8], [10, 10], [7] * 8 + [6, 6]).total
    later = fiqr([9] * 8 + [8], [9, 8], [6] * 6 + [5] * 4).total
    assert (baseline, later) == (250 / 3, 215 / 3)
    assert 100 * (baseline - later) / baseline < 14
    assert fiqr_mcid_met(baseline, later) is True
    # One point worse on one function item: 81/3 + 45 = 216/3 = 72, a fall of 34/250 = 13.6 %.
    worse = fiqr([9] * 9, [9, 8], [6] * 6 + [5] * 4).total
    assert worse == 72.0
    assert fiqr_mcid_met(baseline, worse) is False


@pytest.mark.parametrize(
    ("baseline", "later", "name"),
    [
        (-1.0, 10.0, "baseline_total"),
        (101.0, 10.0, "baseline_total"),
        (math.nan, 10.0, "baseline_total"),
        (True, 10.0, "baseline_total"),
        ("50", 10.0, "baseline_total"),
        (50.0, -0.5, "later_total"),
        (50.0, math.inf, "later_total"),
    ],
)
def test_mcid_refuses_values_that_are_not_fiqr_totals(baseline, later, name):
    with pytest.raises(ValueError, match=name):
        fiqr_mcid_met(baseline, later)


# --- FIQR: items ---------------------------------------------------------------------------------


def test_fiqr_items_are_the_21_questions_in_order():
    assert [item.number for item in FIQR_ITEMS] == list(range(1, 22))
    assert [item.domain for item in FIQR_ITEMS] == ["function"] * 9 + ["overall"] * 2 + [
        "symptoms"
    ] * 10
    assert [item.text for item in FIQR_ITEMS[:9]] == [
        "Brush or comb your hair",
        "Walk continuously for 20 minutes",
        "Prepare a homemade meal",
        "Vacuum, scrub or sweep floors",
        "Lift and carry a bag full of groceries",
        "Climb one flight of stairs",
        "Change bed sheets",
        "Sit in a chair for 45 minutes",
        "Go shopping for groceries",
    ]
    assert [item.text for item in FIQR_ITEMS[9:11]] == [
        "Fibromyalgia prevented me from accomplishing goals for the week",
        "I was completely overwhelmed by my fibromyalgia symptoms",
    ]
    symptoms = " ".join(item.text for item in FIQR_ITEMS[11:]).lower()
    for word in ("pain", "energy", "stiffness", "sleep", "depression", "memory", "anxiety"):
        assert word in symptoms
    for word in ("tenderness", "balance", "loud noises", "bright lights", "odors", "cold"):
        assert word in symptoms
    assert all(item.anchor_0 and item.anchor_10 for item in FIQR_ITEMS)
    # Ten is always the bad end, so no item is reverse-scored.
    assert (FIQR_ITEMS[12].anchor_0, FIQR_ITEMS[12].anchor_10) == ("Lots of energy", "No energy")
    assert FIQR_ITEMS[14].anchor_0 == "Awoke well rested"


# --- PGIC ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "responder"),
    [(1, True), (2, True), (3, False), (4, False), (5, False), (6, False), (7, False)],
)
def test_pgic_much_improved_or_better_is_a_responder(answer, responder):
    assert pgic_responder(answer) is responder


def test_pgic_accepts_numpy_integers_and_returns_a_plain_bool():
    assert pgic_responder(np.int64(2)) is True


@pytest.mark.parametrize("answer", [0, 8, -1, 2.0, True, None, "1"])
def test_pgic_refuses_answers_outside_one_to_seven(answer):
    with pytest.raises(ValueError, match="PGIC"):
        pgic_responder(answer)


def test_pgic_choices_are_the_seven_labels_in_order():
    assert PGIC_CHOICES == (
        (1, "Very much improved"),
        (2, "Much improved"),
        (3, "Minimally improved"),
        (4, "No change"),
        (5, "Minimally worse"),
        (6, "Much worse"),
        (7, "Very much worse"),
    )


# --- ACR 2016 ------------------------------------------------------------------------------------

# One painful area in each of the five regions, none of them jaw, chest or abdomen.
ONE_PER_REGION = ["left_shoulder_girdle", "right_upper_arm", "left_hip", "right_upper_leg", "neck"]
SEVEN_GENERALIZED = [*ONE_PER_REGION, "upper_back", "lower_back"]  # WPI 7, 5 regions
SIX_GENERALIZED = [*ONE_PER_REGION, "upper_back"]  # WPI 6, 5 regions
FOUR_GENERALIZED = ["left_shoulder_girdle", "right_shoulder_girdle", "left_hip", "right_hip"]


def acr(areas, severities=(0, 0, 0), flags=(False, False, False), months=6):
    return acr2016(areas, *severities, *flags, months)


def test_acr_nothing_painful_scores_zero():
    result = acr([], months=0)
    assert result == Acr2016Result(wpi=0, sss=0, fs=0, generalized=False, met=False)


def test_acr_everything_at_maximum():
    # WPI 19 areas; SSS 3 + 3 + 3 + 1 + 1 + 1 = 12; FS 31; all 5 regions.
    result = acr(BODY_AREAS, (3, 3, 3), (True, True, True), months=24)
    assert result == Acr2016Result(wpi=19, sss=12, fs=31, generalized=True, met=True)


def test_acr_typical_patient():
    # WPI: 9 areas.  SSS: fatigue 2 + unrefreshed 3 + cognitive 1 + headaches 1 + lower
    # abdominal 0 + depression 1 = 8.  FS 17.  WPI >= 7 and SSS >= 5, all 5 regions, 14 months.
    areas = [
        "left_shoulder_girdle",
        "right_shoulder_girdle",
        "left_upper_arm",
        "left_hip",
        "right_hip",
        "right_lower_leg",
        "neck",
        "lower_back",
        "chest",
    ]
    result = acr(areas, (2, 3, 1), (True, 0, 1), months=14)
    assert result == Acr2016Result(wpi=9, sss=8, fs=17, generalized=True, met=True)


@pytest.mark.parametrize(
    ("areas", "severities", "flags", "wpi", "sss", "met"),
    [
        # WPI 7 and SSS 5 (2 + 2 + 1): met.
        (SEVEN_GENERALIZED, (2, 2, 1), (0, 0, 0), 7, 5, True),
        # WPI 7 and SSS 4: not met.
        (SEVEN_GENERALIZED, (2, 1, 1), (0, 0, 0), 7, 4, False),
        # WPI 6 and SSS 8 (3 + 3 + 2): not met (WPI 4-6 needs SSS 9).
        (SIX_GENERALIZED, (3, 3, 2), (0, 0, 0), 6, 8, False),
        # WPI 6 and SSS 9 (3 + 3 + 2 + headaches 1): met.
        (SIX_GENERALIZED, (3, 3, 2), (1, 0, 0), 6, 9, True),
        # WPI 4 and SSS 9 (3 + 3 + 3): met.
        (FOUR_GENERALIZED, (3, 3, 3), (0, 0, 0), 4, 9, True),
        # WPI 4 and SSS 8: not met.
        (FOUR_GENERALIZED, (3, 3, 2), (0, 0, 0), 4, 8, False),
        # WPI 3 and SSS 12: not met (WPI under 4; and only 3 regions).
        (FOUR_GENERALIZED[:3], (3, 3, 3), (1, 1, 1), 3, 12, False),
    ],
)
def test_acr_thresholds(areas, severities, flags, wpi, sss, met):
    result = acr(areas, severities, flags, months=12)
    assert (result.wpi, result.sss, result.fs) == (wpi, sss, wpi + sss)
    assert result.met is met


@pytest.mark.parametrize(("months", "met"), [(0, False), (2, False), (2.99, False), (3, True)])
def test_acr_needs_symptoms_for_at_least_three_months(months, met):
    assert acr(SEVEN_GENERALIZED, (2, 2, 1), months=months).met is met


def test_acr_upper_body_pain_with_jaw_chest_and_abdomen_is_not_generalized():
    # Seven areas, WPI 7: left upper and right upper regions, plus the jaw (already in those
    # regions), chest and abdomen, which do not make the axial region painful.  Two regions of
    # five, so not generalized, and the criteria are not met even with SSS 12.
    areas = [
        "left_jaw",
        "left_shoulder_girdle",
        "left_upper_arm",
        "right_jaw",
        "right_lower_arm",
        "chest",
        "abdomen",
    ]
    result = acr(areas, (3, 3, 3), (1, 1, 1), months=12)
    assert (result.wpi, result.sss, result.generalized, result.met) == (7, 12, False, False)


def test_acr_a_region_painful_only_at_the_jaw_does_not_count():
    # Left upper region: only the left jaw, which does not count.  Right upper: right upper arm
    # (the right jaw does not count either).  Left lower: left hip.  Right lower: right hip.
    # Axial: only chest and abdomen, which do not count.  Three regions: not generalized.
    areas = [
        "left_jaw",
        "right_jaw",
        "right_upper_arm",
        "left_hip",
        "right_hip",
        "chest",
        "abdomen",
    ]
    result = acr(areas, (3, 3, 3), (1, 1, 1), months=12)
    assert (result.wpi, result.generalized, result.met) == (7, False, False)
    # The same with the left lower arm instead of the left jaw: four regions, generalized.
    areas[0] = "left_lower_arm"
    result = acr(areas, (3, 3, 3), (1, 1, 1), months=12)
    assert (result.wpi, result.generalized, result.met) == (7, True, True)


def test_acr_generalized_needs_four_of_five_regions():
    # Four regions (no axial area): generalized.  Three: not.
    assert acr(FOUR_GENERALIZED).generalized is True
    assert acr(FOUR_GENERALIZED[:3] + ["left_upper_leg"]).generalized is False


def test_acr_duplicate_areas_count_once():
    result = acr(["neck", "neck", "left_hip", "left_hip"])
    assert result.wpi == 2


def test_acr_accepts_any_iterable_of_areas():
    assert acr(iter(SEVEN_GENERALIZED)).wpi == 7
    assert acr(frozenset(SEVEN_GENERALIZED)).wpi == 7


def test_acr_flags_accept_bools_and_zero_or_one():
    # headaches True + lower abdominal 1 + depression False = 2.
    assert acr([], flags=(True, 1, False)).sss == 2
    assert acr([], flags=(np.int64(1), 0, 0)).sss == 1


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        (["neck", "knee"], "'knee'"),
        (["Neck"], "'Neck'"),
        ("neck", "not one string"),
    ],
)
def test_acr_refuses_unknown_areas(areas, message):
    with pytest.raises(ValueError, match=message):
        acr(areas)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fatigue", 4),
        ("fatigue", -1),
        ("waking_unrefreshed", 1.5),
        ("cognitive", True),
        ("cognitive", None),
        ("headaches", 2),
        ("lower_abdominal", -1),
        ("depression", "yes"),
        ("depression", None),
        ("months", -1),
        ("months", math.nan),
        ("months", True),
        ("months", "6"),
    ],
)
def test_acr_refuses_out_of_range_answers_and_names_the_field(field, value):
    answers = {
        "painful_areas": SEVEN_GENERALIZED,
        "fatigue": 2,
        "waking_unrefreshed": 2,
        "cognitive": 1,
        "headaches": False,
        "lower_abdominal": False,
        "depression": False,
        "months": 6,
    }
    answers[field] = value
    with pytest.raises(ValueError, match=f"^{field} "):
        acr2016(**answers)


# The regions written out again from Wolfe et al. 2016 (not imported from the code), with the
# areas that do not count toward generalized pain.
PAPER_REGIONS = [
    {"left_jaw", "left_shoulder_girdle", "left_upper_arm", "left_lower_arm"},
    {"right_jaw", "right_shoulder_girdle", "right_upper_arm", "right_lower_arm"},
    {"left_hip", "left_upper_leg", "left_lower_leg"},
    {"right_hip", "right_upper_leg", "right_lower_leg"},
    {"neck", "upper_back", "lower_back", "chest", "abdomen"},
]
NOT_COUNTED = {"left_jaw", "right_jaw", "chest", "abdomen"}


@FAST
@given(
    areas=st.lists(st.sampled_from(BODY_AREAS), max_size=25),
    severities=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    months=st.one_of(st.integers(0, 120), st.floats(0, 120)),
)
def test_acr_matches_the_criteria_written_out(areas, severities, flags, months):
    result = acr(areas, severities, flags, months)
    wpi = len(set(areas))
    sss = sum(severities) + sum(flags)
    regions = sum(1 for region in PAPER_REGIONS if (region - NOT_COUNTED) & set(areas))
    generalized = regions >= 4
    met = ((wpi >= 7 and sss >= 5) or (4 <= wpi <= 6 and sss >= 9)) and generalized and months >= 3
    assert result == Acr2016Result(wpi=wpi, sss=sss, fs=wpi + sss, generalized=generalized, met=met)
    assert 0 <= result.wpi <= 19 and 0 <= result.sss <= 12 and 0 <= result.fs <= 31
    assert type(result.met) is bool and type(result.generalized) is bool


def test_body_areas_and_regions_follow_the_paper():
    assert len(BODY_AREAS) == 19 == len(set(BODY_AREAS))
    assert list(BODY_AREA_LABELS) == list(BODY_AREAS)
    assert [set(members) for members in ACR_REGIONS.values()] == PAPER_REGIONS
    assert set(ACR_REGIONS) == {"left_upper", "right_upper", "left_lower", "right_lower", "axial"}
    assert clinical.ACR_EXCLUDED_FROM_REGIONS == NOT_COUNTED
    assert BODY_AREA_LABELS["left_hip"] == "Left hip (buttock, trochanter)"


# --- Result objects ------------------------------------------------------------------------------


def test_results_read_as_attributes_keys_or_a_dict():
    score = fiqr(TYPICAL_FUNCTION, TYPICAL_OVERALL, TYPICAL_SYMPTOMS)
    assert score["total"] == score.total == 347 / 6
    assert score.as_dict() == {
        "function": 46 / 3,
        "overall": 13.0,
        "symptoms": 29.5,
        "total": 347 / 6,
    }
    result = acr(SEVEN_GENERALIZED, (2, 2, 1))
    assert result["met"] is True
    assert result.as_dict() == {"wpi": 7, "sss": 5, "fs": 12, "generalized": True, "met": True}


def test_results_are_frozen_and_refuse_unknown_keys():
    score = fiqr_score([5] * 21)
    result = acr([])
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.total = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.met = True
    with pytest.raises(KeyError):
        score["as_dict"]
    with pytest.raises(KeyError):
        result["regions"]


def test_the_public_names_are_exported_from_the_package():
    for name in (
        "fiqr_score",
        "fiqr_mcid_met",
        "FIQR_MCID_PCT",
        "FIQR_ITEMS",
        "FiqrScore",
        "pgic_responder",
        "PGIC_CHOICES",
        "acr2016",
        "Acr2016Result",
        "BODY_AREAS",
        "BODY_AREA_LABELS",
        "ACR_REGIONS",
    ):
        assert name in clinical.__all__
        assert getattr(clinical, name) is getattr(clinical.questionnaires, name)
