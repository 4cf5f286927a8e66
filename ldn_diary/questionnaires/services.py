"""Writes of questionnaire answers: save a part, finish, hide the card (docs/clinical-rules.md §4).

Each is one transaction with the response row locked, so two tabs saving different parts of
the same questionnaire both keep their answers. Whether a week is open is decided here from the
dose history (``schedule``); what an answer may be, by ``rules``. Errors are
``ValidationError``s whose words the pages show as they are; nothing here speaks HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, User
from ldn_diary.diary.selectors import therapy_start_of

from . import rules, schedule
from .models import QuestionnaireResponse


def _day(date: dt.date) -> str:
    return date_format(date, "l j M")


def _check_open(patient: User, instrument: str, week: int, today: dt.date) -> schedule.Window:
    """The week's window, if ``today`` is in it; otherwise a ValidationError saying when it is."""
    if instrument not in rules.INSTRUMENTS or not schedule.is_scheduled(instrument, week):
        raise ValidationError(_("There is no such questionnaire."))
    name = rules.INSTRUMENTS[instrument].name
    window = schedule.window(week, therapy_start_of(patient))
    if window is None:
        raise ValidationError(
            f"The week {week} {name} opens once your first LDN dose is recorded on the Doses page."
        )
    if window.contains(today):
        return window
    label = "baseline" if week == 0 else f"week {week}"
    if window.has_closed(today) and window.closes is not None:
        raise ValidationError(
            f"The {label} {name} closed on {_day(window.closes)}; answers can no longer be "
            "changed. Nothing new was saved."
        )
    opens = window.opens or today
    raise ValidationError(f"The {label} {name} opens on {_day(opens)}. Nothing was saved yet.")


def _locked(patient: User, instrument: str, week: int) -> QuestionnaireResponse:
    row = (
        QuestionnaireResponse.objects.select_for_update()
        .filter(patient=patient, instrument=instrument, week=week)
        .first()
    )
    return row or QuestionnaireResponse(patient=patient, instrument=instrument, week=week)


def _write(patient: User, row: QuestionnaireResponse, action: AuditAction) -> QuestionnaireResponse:
    """Save the row and its audit row, in the caller's transaction."""
    row.full_clean(exclude=["patient"], validate_unique=False)
    row.save()
    audit.record(actor=patient, patient=patient, action=action, obj=row)
    return row


def _with_retry(write: Callable[[], QuestionnaireResponse]) -> QuestionnaireResponse:
    """Run ``write`` in a transaction; once more if a first save of the row raced another.

    Both found no row and the database let one insert win (one_response_per_week); going round
    again finds that row and applies this write on top of it.
    """
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        with transaction.atomic():
            return write()


def questionnaire_save(
    *,
    patient: User,
    instrument: str,
    week: int,
    answers: Mapping[str, object],
    today: dt.date | None = None,
) -> QuestionnaireResponse:
    """Save some answers (one part of the questionnaire) into the week's response.

    Answers given replace those saved under the same keys; other keys are kept, so parts may be
    saved in any order and over several sittings. A finished ACR or PGIC whose answers are no
    longer complete goes back to being a draft (its card shows again).
    """
    today = today or patient.local_today()
    problems = rules.answer_problems(instrument, answers) if instrument in rules.INSTRUMENTS else {}
    if problems:
        raise ValidationError(list(problems.values()))
    _check_open(patient, instrument, week, today)
    given = rules.normalised(instrument, answers)

    def write() -> QuestionnaireResponse:
        row = _locked(patient, instrument, week)
        row.answers = {**row.answers, **given}
        if row.completed_at is not None and rules.finish_problem(instrument, row.answers):
            row.completed_at = None
        return _write(patient, row, AuditAction.QUESTIONNAIRE_SAVE)

    return _with_retry(write)


def questionnaire_finish(
    *, patient: User, instrument: str, week: int, today: dt.date | None = None
) -> QuestionnaireResponse:
    """Mark the week's response finished (the clinician then sees its scores).

    Finishing again changes nothing: the first finishing time is kept.
    """
    today = today or patient.local_today()
    _check_open(patient, instrument, week, today)
    with transaction.atomic():
        row = _locked(patient, instrument, week)
        problem = rules.finish_problem(instrument, row.answers)
        if problem:
            raise ValidationError(problem)
        if row.completed_at is None:
            row.completed_at = timezone.now()
            _write(patient, row, AuditAction.QUESTIONNAIRE_FINISH)
        return row


def questionnaire_dismiss(
    *, patient: User, instrument: str, week: int, today: dt.date | None = None
) -> QuestionnaireResponse:
    """Hide the week's card on the entry page. The questionnaire stays open on its own page
    until its window closes, and the next scheduled week's card shows as usual."""
    today = today or patient.local_today()
    _check_open(patient, instrument, week, today)

    def write() -> QuestionnaireResponse:
        row = _locked(patient, instrument, week)
        if row.dismissed_at is None:
            row.dismissed_at = timezone.now()
            _write(patient, row, AuditAction.QUESTIONNAIRE_DISMISS)
        return row

    return _with_retry(write)
