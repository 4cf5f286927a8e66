"""Scores of the periodic questionnaires: FIQR, PGIC and the 2016 ACR fibromyalgia criteria.

The rules, with their sources and the choices that are ours, are docs/clinical-rules.md §4.
Everything here is a pure function of the answers: whatever stores the answers calls these to
score them, and nothing here imports Django.

The constants live in this module rather than in constants.py because they belong to the
instruments (item texts, body areas, regions), not to the diary's trend and response rules.

Scores are kept exact: FIQR domain scores are worked out as fractions and rounded to float once,
so that, for example, nine answers of 5 give a function score of exactly 15.0 and a domain of
265/9 comes out as the same float as Python's own ``265 / 9``.  Nothing is rounded for display
here; the pages do that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from numbers import Integral, Real
from types import MappingProxyType
from typing import Final, TypeGuard

from .constants import COMPARE_EPS

__all__ = (
    "ACR_EXCLUDED_FROM_REGIONS",
    "ACR_MIN_MONTHS",
    "ACR_MIN_REGIONS",
    "ACR_REGIONS",
    "ACR_REGION_LABELS",
    "ACR_SEVERITY_CHOICES",
    "BODY_AREAS",
    "BODY_AREA_LABELS",
    "FIQR_DOMAINS",
    "FIQR_DOMAIN_DIVISORS",
    "FIQR_DOMAIN_SIZES",
    "FIQR_ITEMS",
    "FIQR_ITEM_MAX",
    "FIQR_ITEM_MIN",
    "FIQR_MAX_MISSING_PER_DOMAIN",
    "FIQR_MCID_PCT",
    "PGIC_CHOICES",
    "PGIC_RESPONDER_MAX",
    "Acr2016Result",
    "FiqrItem",
    "FiqrScore",
    "acr2016",
    "fiqr_mcid_met",
    "fiqr_score",
    "pgic_responder",
)


# --- FIQR (Bennett et al. 2009) ------------------------------------------------------------------

# The three domains in questionnaire order, their number of items and the divisor of each
# domain's sum: function 0-90 / 3, overall impact 0-20 / 1, symptoms 0-100 / 2, total 0-100.
FIQR_DOMAINS: Final = ("function", "overall", "symptoms")
FIQR_DOMAIN_SIZES: Final[Mapping[str, int]] = MappingProxyType(
    {"function": 9, "overall": 2, "symptoms": 10}
)
FIQR_DOMAIN_DIVISORS: Final[Mapping[str, int]] = MappingProxyType(
    {"function": 3, "overall": 1, "symptoms": 2}
)
FIQR_ITEM_MIN: Final = 0
FIQR_ITEM_MAX: Final = 10

# A domain with one unanswered item is scaled up from the others; with more it is not scored,
# and then neither is the total (design; the FIQR's developers accept fewer gaps, see
# docs/clinical-rules.md §4).
FIQR_MAX_MISSING_PER_DOMAIN: Final = 1

# A fall in the total of at least 14 % of the baseline total is a minimal clinically important
# difference (Bennett, Bushmakin, Cappelleri et al. 2009, derived for the FIQ against PGIC).
FIQR_MCID_PCT: Final = 14.0


@dataclass(frozen=True, slots=True)
class FiqrItem:
    """One FIQR question as the form shows it: 0 is `anchor_0`, 10 is `anchor_10`."""

    number: int
    domain: str
    text: str
    anchor_0: str
    anchor_10: str


def _fiqr_items() -> tuple[FiqrItem, ...]:
    function = (
        "Brush or comb your hair",
        "Walk continuously for 20 minutes",
        "Prepare a homemade meal",
        "Vacuum, scrub or sweep floors",
        "Lift and carry a bag full of groceries",
        "Climb one flight of stairs",
        "Change bed sheets",
        "Sit in a chair for 45 minutes",
        "Go shopping for groceries",
    )
    overall = (
        "Fibromyalgia prevented me from accomplishing goals for the week",
        "I was completely overwhelmed by my fibromyalgia symptoms",
    )
    # Every item is worded so that 10 is the worst: energy and sleep quality run from "lots of
    # energy" and "awoke well rested" at 0, so no item is reverse-scored.
    symptoms = (
        ("Please rate your level of pain", "No pain", "Unbearable pain"),
        ("Please rate your level of energy", "Lots of energy", "No energy"),
        ("Please rate your level of stiffness", "No stiffness", "Severe stiffness"),
        ("Please rate the quality of your sleep", "Awoke well rested", "Awoke very tired"),
        ("Please rate your level of depression", "No depression", "Very depressed"),
        ("Please rate your level of memory problems", "Good memory", "Very poor memory"),
        ("Please rate your level of anxiety", "Not anxious", "Very anxious"),
        ("Please rate your level of tenderness to touch", "No tenderness", "Very tender"),
        ("Please rate your level of balance problems", "No imbalance", "Severe imbalance"),
        (
            "Please rate your level of sensitivity to loud noises, bright lights, odors and cold",
            "No sensitivity",
            "Extreme sensitivity",
        ),
    )
    rows = (
        [("function", text, "No difficulty", "Very difficult") for text in function]
        + [("overall", text, "Never", "Always") for text in overall]
        + [("symptoms", text, low, high) for text, low, high in symptoms]
    )
    return tuple(
        FiqrItem(number=n, domain=domain, text=text, anchor_0=low, anchor_10=high)
        for n, (domain, text, low, high) in enumerate(rows, start=1)
    )


# The 21 items in questionnaire order; answers to fiqr_score come in this order.
FIQR_ITEMS: Final = _fiqr_items()


@dataclass(frozen=True, slots=True)
class FiqrScore:
    """FIQR domain scores and total; None where a domain has too many unanswered items.

    Each field is the exact score rounded to float once, so `total` can differ from the float
    sum of the three domains in the last binary digit; compare with a tolerance.
    """

    function: float | None
    overall: float | None
    symptoms: float | None
    total: float | None

    def __getitem__(self, key: str) -> float | None:
        if key not in _FIQR_SCORE_FIELDS:
            raise KeyError(key)
        value: float | None = getattr(self, key)
        return value

    def as_dict(self) -> dict[str, float | None]:
        return {name: self[name] for name in _FIQR_SCORE_FIELDS}


_FIQR_SCORE_FIELDS: Final = tuple(f.name for f in fields(FiqrScore))


def _is_int(value: object) -> TypeGuard[Integral]:
    """True for ints (numpy's too), False for bools, floats and everything else."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def _fiqr_answer(number: int, value: object) -> int | None:
    if value is None:
        return None
    if not _is_int(value):
        raise ValueError(
            f"FIQR item {number}: the answer must be a whole number from {FIQR_ITEM_MIN} to "
            f"{FIQR_ITEM_MAX} or None, not {value!r}"
        )
    answer = int(value)
    if not FIQR_ITEM_MIN <= answer <= FIQR_ITEM_MAX:
        raise ValueError(
            f"FIQR item {number}: the answer must be from {FIQR_ITEM_MIN} to {FIQR_ITEM_MAX}, "
            f"not {answer}"
        )
    return answer


def _fiqr_domain(domain: str, answers: Sequence[int | None]) -> Fraction | None:
    """The domain's score: its sum scaled by (items ÷ answered), divided by the domain divisor."""
    answered = [a for a in answers if a is not None]
    if len(answers) - len(answered) > FIQR_MAX_MISSING_PER_DOMAIN:
        return None
    return Fraction(sum(answered) * len(answers), len(answered) * FIQR_DOMAIN_DIVISORS[domain])


def fiqr_score(answers: Sequence[int | None]) -> FiqrScore:
    """Score the Revised Fibromyalgia Impact Questionnaire (docs/clinical-rules.md §4).

    `answers` holds the 21 items in FIQR_ITEMS order, each a whole number 0-10 or None when
    unanswered.  Raises ValueError, naming the item, for a wrong count or an invalid answer.
    """
    if isinstance(answers, str | bytes | Mapping):
        raise ValueError("FIQR answers must be a sequence of 21 answers")
    items = tuple(answers)
    if len(items) != len(FIQR_ITEMS):
        raise ValueError(f"FIQR needs {len(FIQR_ITEMS)} answers, got {len(items)}")
    checked = [_fiqr_answer(n, value) for n, value in enumerate(items, start=1)]

    scores: dict[str, Fraction | None] = {}
    start = 0
    for domain in FIQR_DOMAINS:
        end = start + FIQR_DOMAIN_SIZES[domain]
        scores[domain] = _fiqr_domain(domain, checked[start:end])
        start = end

    parts = [scores[d] for d in FIQR_DOMAINS]
    total = None if None in parts else sum(p for p in parts if p is not None)

    def out(value: Fraction | int | None) -> float | None:
        return None if value is None else float(value)

    return FiqrScore(
        function=out(scores["function"]),
        overall=out(scores["overall"]),
        symptoms=out(scores["symptoms"]),
        total=out(total),
    )


def _fiqr_total(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a FIQR total from 0 to 100 or None, not {value!r}")
    total = float(value)
    if not 0.0 <= total <= 100.0:  # also refuses NaN
        raise ValueError(f"{name} must be a FIQR total from 0 to 100, not {value!r}")
    return total


def fiqr_mcid_met(baseline_total: float | None, later_total: float | None) -> bool | None:
    """True when the FIQR total fell by at least FIQR_MCID_PCT % of the baseline total.

    None when either total is missing or the baseline is 0 (no fall is possible).  A rise is
    False.  Like the response classes (docs/clinical-rules.md §3) the boundary is inclusive and
    tolerates float rounding of the totals by COMPARE_EPS percentage points: distinct FIQR totals
    (multiples of 1/72) never come closer to the boundary than about 3e-4 points.
    """
    baseline = _fiqr_total("baseline_total", baseline_total)
    later = _fiqr_total("later_total", later_total)
    if baseline is None or later is None or baseline == 0.0:
        return None
    fall_pct = 100.0 * (baseline - later) / baseline
    return fall_pct >= FIQR_MCID_PCT - COMPARE_EPS


# --- PGIC ----------------------------------------------------------------------------------------

PGIC_CHOICES: Final = (
    (1, "Very much improved"),
    (2, "Much improved"),
    (3, "Minimally improved"),
    (4, "No change"),
    (5, "Minimally worse"),
    (6, "Much worse"),
    (7, "Very much worse"),
)

# "Much improved" or better is a responder (docs/clinical-rules.md §4, after Farrar et al. 2001).
PGIC_RESPONDER_MAX: Final = 2


def pgic_responder(answer: int) -> bool:
    """True when the Patient Global Impression of Change is "much improved" or better (1 or 2)."""
    if not _is_int(answer) or not PGIC_CHOICES[0][0] <= int(answer) <= PGIC_CHOICES[-1][0]:
        raise ValueError(f"PGIC answer must be a whole number from 1 to 7, not {answer!r}")
    return int(answer) <= PGIC_RESPONDER_MAX


# --- ACR 2016 fibromyalgia criteria (Wolfe et al. 2016) ------------------------------------------

# The 19 areas of the Widespread Pain Index, in the form's order.
BODY_AREAS: Final = (
    "left_jaw",
    "right_jaw",
    "left_shoulder_girdle",
    "right_shoulder_girdle",
    "left_upper_arm",
    "right_upper_arm",
    "left_lower_arm",
    "right_lower_arm",
    "left_hip",
    "right_hip",
    "left_upper_leg",
    "right_upper_leg",
    "left_lower_leg",
    "right_lower_leg",
    "neck",
    "upper_back",
    "lower_back",
    "chest",
    "abdomen",
)

BODY_AREA_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "left_jaw": "Left jaw",
        "right_jaw": "Right jaw",
        "left_shoulder_girdle": "Left shoulder girdle",
        "right_shoulder_girdle": "Right shoulder girdle",
        "left_upper_arm": "Left upper arm",
        "right_upper_arm": "Right upper arm",
        "left_lower_arm": "Left lower arm",
        "right_lower_arm": "Right lower arm",
        "left_hip": "Left hip (buttock, trochanter)",
        "right_hip": "Right hip (buttock, trochanter)",
        "left_upper_leg": "Left upper leg",
        "right_upper_leg": "Right upper leg",
        "left_lower_leg": "Left lower leg",
        "right_lower_leg": "Right lower leg",
        "neck": "Neck",
        "upper_back": "Upper back",
        "lower_back": "Lower back",
        "chest": "Chest",
        "abdomen": "Abdomen",
    }
)

# The five regions of the 2016 criteria, each with its areas.
ACR_REGIONS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "left_upper": ("left_jaw", "left_shoulder_girdle", "left_upper_arm", "left_lower_arm"),
        "right_upper": ("right_jaw", "right_shoulder_girdle", "right_upper_arm", "right_lower_arm"),
        "left_lower": ("left_hip", "left_upper_leg", "left_lower_leg"),
        "right_lower": ("right_hip", "right_upper_leg", "right_lower_leg"),
        "axial": ("neck", "upper_back", "lower_back", "chest", "abdomen"),
    }
)
ACR_REGION_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "left_upper": "Left upper region",
        "right_upper": "Right upper region",
        "left_lower": "Left lower region",
        "right_lower": "Right lower region",
        "axial": "Axial region",
    }
)

# Jaw, chest and abdominal pain count in the WPI but not toward a region being painful in the
# generalized pain rule.
ACR_EXCLUDED_FROM_REGIONS: Final = frozenset({"left_jaw", "right_jaw", "chest", "abdomen"})

# Generalized pain: pain in at least 4 of the 5 regions.  Symptoms for at least 3 months.
ACR_MIN_REGIONS: Final = 4
ACR_MIN_MONTHS: Final = 3

# (WPI >= 7 and SSS >= 5) or (WPI 4-6 and SSS >= 9).
_WPI_HIGH = 7
_SSS_WITH_HIGH_WPI = 5
_WPI_LOW = 4
_SSS_WITH_LOW_WPI = 9

# Severity of fatigue, waking unrefreshed and cognitive symptoms over the past week.
ACR_SEVERITY_CHOICES: Final = (
    (0, "No problem"),
    (1, "Slight or mild problems, generally mild or intermittent"),
    (2, "Moderate, considerable problems, often present and/or at a moderate level"),
    (3, "Severe: pervasive, continuous, life-disturbing problems"),
)


@dataclass(frozen=True, slots=True)
class Acr2016Result:
    """WPI (0-19), SSS (0-12), FS = WPI + SSS (0-31), generalized pain, and criteria met."""

    wpi: int
    sss: int
    fs: int
    generalized: bool
    met: bool

    def __getitem__(self, key: str) -> int | bool:
        if key not in _ACR_RESULT_FIELDS:
            raise KeyError(key)
        value: int | bool = getattr(self, key)
        return value

    def as_dict(self) -> dict[str, int | bool]:
        return {name: self[name] for name in _ACR_RESULT_FIELDS}


_ACR_RESULT_FIELDS: Final = tuple(f.name for f in fields(Acr2016Result))


def _severity(name: str, value: object) -> int:
    if not _is_int(value) or not 0 <= int(value) <= 3:
        raise ValueError(f"{name} must be a severity from 0 to 3, not {value!r}")
    return int(value)


def _flag(name: str, value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if not _is_int(value) or value not in (0, 1):
        raise ValueError(f"{name} must be True/False or 0/1, not {value!r}")
    return int(value)


def _painful_areas(painful_areas: Iterable[str]) -> frozenset[str]:
    if isinstance(painful_areas, str | bytes):
        raise ValueError("painful_areas must be a collection of area names, not one string")
    areas = frozenset(painful_areas)
    unknown = sorted(repr(a) for a in areas if a not in BODY_AREA_LABELS)
    if unknown:
        raise ValueError(f"painful_areas: unknown body area(s) {', '.join(unknown)}")
    return areas


def acr2016(
    painful_areas: Iterable[str],
    fatigue: int,
    waking_unrefreshed: int,
    cognitive: int,
    headaches: bool | int,
    lower_abdominal: bool | int,
    depression: bool | int,
    months: float,
) -> Acr2016Result:
    """The 2016 revised ACR fibromyalgia criteria (docs/clinical-rules.md §4).

    `painful_areas`: names from BODY_AREAS (duplicates count once).  `fatigue`,
    `waking_unrefreshed`, `cognitive`: severity 0-3 over the past week.  `headaches`,
    `lower_abdominal` (pain or cramps), `depression`: present in the past 6 months, a bool or
    0/1.  `months`: how long symptoms have been generally present.  Raises ValueError,
    naming the field, for anything out of range.
    """
    areas = _painful_areas(painful_areas)
    severity = sum(
        _severity(name, value)
        for name, value in (
            ("fatigue", fatigue),
            ("waking_unrefreshed", waking_unrefreshed),
            ("cognitive", cognitive),
        )
    )
    somatic = sum(
        _flag(name, value)
        for name, value in (
            ("headaches", headaches),
            ("lower_abdominal", lower_abdominal),
            ("depression", depression),
        )
    )
    if isinstance(months, bool) or not isinstance(months, Real) or not 0 <= months < math.inf:
        raise ValueError(f"months must be a number of months, 0 or more, not {months!r}")

    wpi = len(areas)
    sss = severity + somatic
    counted = areas - ACR_EXCLUDED_FROM_REGIONS
    regions = sum(1 for members in ACR_REGIONS.values() if counted.intersection(members))
    generalized = regions >= ACR_MIN_REGIONS
    thresholds = (wpi >= _WPI_HIGH and sss >= _SSS_WITH_HIGH_WPI) or (
        _WPI_LOW <= wpi < _WPI_HIGH and sss >= _SSS_WITH_LOW_WPI
    )
    met = thresholds and generalized and float(months) >= ACR_MIN_MONTHS
    return Acr2016Result(wpi=wpi, sss=sss, fs=wpi + sss, generalized=generalized, met=met)
