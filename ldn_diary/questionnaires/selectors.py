"""Reads of one patient's questionnaires: the cards due today, the schedule page, one response,
and the finished ones the clinician sees.

Every function takes the patient the view got through an access-checking door
(``accounts.decorators.patient_view``, or ``clinic.selectors.get_patient_for_clinician``);
instruments and weeks come from the URL but every lookup is scoped to that patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from ldn_diary.accounts.models import User
from ldn_diary.diary.selectors import therapy_start_of

from . import rules, schedule
from .models import QuestionnaireResponse
from .summary import Completed


def responses_for(patient: User) -> dict[tuple[str, int], QuestionnaireResponse]:
    """Every response of the patient, by (instrument, week): one query."""
    return {
        (r.instrument, r.week): r for r in QuestionnaireResponse.objects.filter(patient=patient)
    }


def get_response(patient: User, instrument: str, week: int) -> QuestionnaireResponse | None:
    return QuestionnaireResponse.objects.filter(
        patient=patient, instrument=instrument, week=week
    ).first()


@dataclass(frozen=True)
class Slot:
    """One scheduled questionnaire of one week, and where the patient is with it."""

    instrument: rules.Instrument
    week: int
    window: schedule.Window | None
    response: QuestionnaireResponse | None
    today: dt.date

    @property
    def answered(self) -> int:
        answers = self.response.answers if self.response else {}
        return rules.answered_count(self.instrument.code, answers)

    @property
    def complete(self) -> bool:
        return self.response is not None and self.response.is_complete

    @property
    def dismissed(self) -> bool:
        return self.response is not None and self.response.dismissed_at is not None

    @property
    def is_open(self) -> bool:
        return self.window is not None and self.window.contains(self.today)

    @property
    def status(self) -> str:
        """done, draft, open, missed (closed unfinished), upcoming, or waiting (no dose yet)."""
        if self.complete:
            return "done"
        if self.window is None:
            return "waiting"
        if self.window.has_closed(self.today):
            return "missed"
        if not self.window.contains(self.today):
            return "upcoming"
        return "draft" if self.answered else "open"

    @property
    def due(self) -> bool:
        """Shown as a card on the entry page: open, not finished, not hidden for this week."""
        return self.is_open and not self.complete and not self.dismissed


def schedule_for(patient: User, today: dt.date) -> list[Slot]:
    """Every scheduled questionnaire, by week then in card order: two queries."""
    start = therapy_start_of(patient)
    responses = responses_for(patient)
    slots = []
    for week in schedule.WEEKS:
        window = schedule.window(week, start)
        for code, weeks in schedule.SCHEDULE.items():
            if week in weeks:
                slots.append(
                    Slot(
                        instrument=rules.INSTRUMENTS[code],
                        week=week,
                        window=window,
                        response=responses.get((code, week)),
                        today=today,
                    )
                )
    return slots


def due_cards(patient: User, today: dt.date) -> list[Slot]:
    """The questionnaires to offer on today's entry page."""
    return [slot for slot in schedule_for(patient, today) if slot.due]


def completed_for(patient: User) -> list[Completed]:
    """The finished responses, oldest week first, with the patient's local date of finishing:
    what the clinician's dashboard, brief and ``response_report`` score (one query)."""
    rows = QuestionnaireResponse.objects.filter(
        patient=patient, completed_at__isnull=False
    ).order_by("week", "instrument")
    tz = patient.tzinfo
    return [
        Completed(
            instrument=r.instrument,
            week=r.week,
            answers=r.answers,
            completed_on=timezone.localtime(r.completed_at, tz).date(),
        )
        for r in rows.only("instrument", "week", "answers", "completed_at")
        if r.completed_at is not None
    ]
