"""What each questionnaire asks, what an answer may be, and when it can be finished
(docs/clinical-rules.md §4). The scores themselves are the pure functions of
``ldn_diary.clinical.questionnaires``; this module only maps the stored answers onto them.

Answers are stored as one JSON object per questionnaire and week, saved a part at a time:

- FIQR: ``{"1": 0-10 or null, ..., "21": ...}``, keyed by item number (``FIQR_ITEMS``);
- ACR 2016: ``painful_areas`` (a list of ``BODY_AREAS`` names), ``symptoms_3_months``,
  ``headaches``, ``lower_abdominal``, ``depression`` (true/false) and ``fatigue``,
  ``waking_unrefreshed``, ``cognitive`` (severity 0-3);
- PGIC: ``{"answer": 1-7}``.

A key that is absent or null is unanswered. No database access here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from django.utils.translation import gettext_lazy as _

from ldn_diary.clinical import questionnaires as q

from .schedule import ACR2016, FIQR, PGIC

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Part:
    """One page of a questionnaire: saved on its own, so it can be answered in sittings."""

    key: str
    title: str
    intro: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str  # as clinicians know it
    title: StrOrPromise  # as the patient's card says it
    about: str
    minutes: int
    parts: tuple[Part, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for part in self.parts for f in part.fields)

    @property
    def questions(self) -> int:
        return len(self.fields)

    def part(self, number: int) -> Part:
        return self.parts[number - 1]


def _fiqr_part(key: str, title: str, intro: str, domain: str) -> Part:
    numbers = tuple(str(item.number) for item in q.FIQR_ITEMS if item.domain == domain)
    return Part(key, title, intro, numbers)


ACR_SEVERITY_FIELDS = ("fatigue", "waking_unrefreshed", "cognitive")
ACR_YES_NO_FIELDS = ("symptoms_3_months", "headaches", "lower_abdominal", "depression")
ACR_LABELS = {
    "painful_areas": "where you had pain",
    "symptoms_3_months": "whether your symptoms have lasted 3 months",
    "fatigue": "fatigue",
    "waking_unrefreshed": "waking unrefreshed",
    "cognitive": "trouble thinking or remembering",
    "headaches": "headaches",
    "lower_abdominal": "pain or cramps in the lower abdomen",
    "depression": "depression",
}
# The questions as the 2016 criteria's patient form words them.
ACR_QUESTIONS = {
    "symptoms_3_months": "Have these symptoms been present at a similar level for at least 3 months?",
    "fatigue": "Fatigue",
    "waking_unrefreshed": "Waking unrefreshed",
    "cognitive": "Trouble thinking or remembering",
    "headaches": "Headaches",
    "lower_abdominal": "Pain or cramps in the lower abdomen",
    "depression": "Depression",
}

# Headings the ACR form puts before a group of questions, keyed by the group's first question.
ACR_GROUP_INTROS = {
    "fatigue": "Over the past 7 days, how much of a problem was each of these?",
    "headaches": "During the past 6 months, have you had any of these?",
}

INSTRUMENTS: dict[str, Instrument] = {
    FIQR: Instrument(
        code=FIQR,
        name="FIQR",
        title=_("How fibromyalgia affected your week (FIQR)"),
        about="The Revised Fibromyalgia Impact Questionnaire: daily tasks, overall impact and "
        "symptoms over the past 7 days.",
        minutes=5,
        parts=(
            _fiqr_part(
                "function",
                "Daily tasks",
                "How much did fibromyalgia make each of these difficult over the past 7 days? "
                "If you did not do one, rate how difficult it would have been.",
                "function",
            ),
            _fiqr_part(
                "overall",
                "Overall impact",
                "Over the past 7 days, how true was each of these for you?",
                "overall",
            ),
            _fiqr_part(
                "symptoms",
                "Symptoms",
                "Rate each of these for the past 7 days.",
                "symptoms",
            ),
        ),
    ),
    ACR2016: Instrument(
        code=ACR2016,
        name="ACR 2016",
        title=_("Where you have pain, and other symptoms (ACR 2016)"),
        about="The 2016 fibromyalgia criteria's patient questions: painful areas over the past "
        "week, and symptoms.",
        minutes=3,
        parts=(
            Part(
                "areas",
                "Where you had pain",
                "Tick each area where you had pain or tenderness over the past 7 days.",
                ("painful_areas", "symptoms_3_months"),
            ),
            Part(
                "symptoms",
                "Other symptoms",
                "Two short groups of questions about other symptoms.",
                (*ACR_SEVERITY_FIELDS, "headaches", "lower_abdominal", "depression"),
            ),
        ),
    ),
    PGIC: Instrument(
        code=PGIC,
        name="PGIC",
        title=_("How you rate your change since starting LDN (PGIC)"),
        about="The Patient Global Impression of Change: one question.",
        minutes=1,
        parts=(
            Part(
                "change",
                "Your change overall",
                "Since you started LDN, how would you describe the change (if any) in your "
                "activity limitations, symptoms, emotions and overall quality of life related "
                "to fibromyalgia?",
                ("answer",),
            ),
        ),
    ),
}


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(instrument: str, key: str, value: object) -> str | None:
    """The problem with one answer, or None (None itself is always allowed: unanswered)."""
    if value is None:
        return None
    if instrument == FIQR:
        if not (_is_int(value) and q.FIQR_ITEM_MIN <= value <= q.FIQR_ITEM_MAX):
            return (
                f"Question {key}: choose a number from {q.FIQR_ITEM_MIN} to {q.FIQR_ITEM_MAX}; "
                f"got {value!r}."
            )
        return None
    if instrument == PGIC:
        low, high = q.PGIC_CHOICES[0][0], q.PGIC_CHOICES[-1][0]
        if not (_is_int(value) and low <= value <= high):
            return f"Choose one of the {high} answers; got {value!r}."
        return None
    label = ACR_LABELS[key].capitalize()
    if key == "painful_areas":
        if not isinstance(value, list | tuple) or not all(isinstance(a, str) for a in value):
            return "Tick the areas where you had pain."
        unknown = sorted(set(value) - set(q.BODY_AREAS))
        return f"Unknown body area {unknown[0]!r}." if unknown else None
    if key in ACR_SEVERITY_FIELDS:
        if not (_is_int(value) and 0 <= value <= 3):
            return f"{label}: choose from 0 (no problem) to 3 (severe); got {value!r}."
        return None
    if not isinstance(value, bool):
        return f"{label}: answer yes or no; got {value!r}."
    return None


def answer_problems(instrument: str, answers: Mapping[str, object]) -> dict[str, str]:
    """{field: problem} for answers that are not what the questionnaire allows."""
    known = set(INSTRUMENTS[instrument].fields)
    problems: dict[str, str] = {}
    for key, value in answers.items():
        if key not in known:
            problems[key] = f"{INSTRUMENTS[instrument].name} has no question {key!r}."
        elif problem := _check(instrument, key, value):
            problems[key] = problem
    return problems


def normalised(instrument: str, answers: Mapping[str, object]) -> dict[str, Any]:
    """Checked answers in a canonical form: painful areas once each, in the form's order."""
    out: dict[str, Any] = dict(answers)
    areas = out.get("painful_areas")
    if instrument == ACR2016 and isinstance(areas, list | tuple):
        out["painful_areas"] = [a for a in q.BODY_AREAS if a in set(areas)]
    return out


def unanswered(instrument: str, answers: Mapping[str, object]) -> list[str]:
    """The questions not answered yet, in order."""
    return [f for f in INSTRUMENTS[instrument].fields if answers.get(f) is None]


def answered_count(instrument: str, answers: Mapping[str, object]) -> int:
    return INSTRUMENTS[instrument].questions - len(unanswered(instrument, answers))


def finish_problem(instrument: str, answers: Mapping[str, object]) -> str | None:
    """Why the questionnaire cannot be finished yet, or None.

    FIQR may be finished with gaps: its scoring weights a domain with one unanswered item and
    leaves out one with more (docs/clinical-rules.md §4), so only an empty one is refused. The
    ACR criteria and the PGIC need every answer.
    """
    missing = unanswered(instrument, answers)
    if instrument == FIQR:
        if len(missing) == INSTRUMENTS[FIQR].questions:
            return "Answer at least one question before finishing."
        return None
    if not missing:
        return None
    if instrument == PGIC:
        return "Choose the answer that fits best, then finish."
    names = ", ".join(ACR_LABELS[m] for m in missing)
    return f"To finish, answer: {names}. Your other answers are saved."


def fiqr_answers(answers: Mapping[str, object]) -> list[int | None]:
    return [cast(int | None, answers.get(str(item.number))) for item in q.FIQR_ITEMS]


def acr_result(answers: Mapping[str, Any]) -> q.Acr2016Result | None:
    """The ACR 2016 result, or None while any answer is missing.

    The 2016 patient form asks yes or no whether symptoms have been present at a similar level
    for at least 3 months, so the duration passed on is that minimum or 0.
    """
    if unanswered(ACR2016, answers):
        return None
    return q.acr2016(
        painful_areas=answers["painful_areas"],
        fatigue=answers["fatigue"],
        waking_unrefreshed=answers["waking_unrefreshed"],
        cognitive=answers["cognitive"],
        headaches=answers["headaches"],
        lower_abdominal=answers["lower_abdominal"],
        depression=answers["depression"],
        months=q.ACR_MIN_MONTHS if answers["symptoms_3_months"] else 0,
    )
