"""The patient's questionnaire pages: the cards due today (loaded into the entry page with htmx),
the schedule, one questionnaire a part at a time, and hiding a card for the week.

Every view gets the patient through ``accounts.decorators.patient_view`` (404 for anyone else);
the instrument and week in a URL name one of the scheduled questionnaires, looked up within that
patient's own responses. Each part's form posts to its own URL and redirects (POST/redirect/GET),
so the pages work without JavaScript; htmx only swaps the cards on the entry page.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ldn_diary.accounts.decorators import patient_view
from ldn_diary.accounts.http import AuthenticatedRequest
from ldn_diary.accounts.models import User
from ldn_diary.clinical import questionnaires as q

from . import rules, schedule, selectors, services
from .forms import PartForm

TEMPLATE = "questionnaires/index.html"
ACTIONS = ("next", "back", "later", "finish")


def _instrument(code: str, week: int) -> rules.Instrument:
    """A scheduled questionnaire named in the URL; anything else is a 404."""
    if code not in rules.INSTRUMENTS or not schedule.is_scheduled(code, week):
        raise Http404("No such questionnaire.")
    return rules.INSTRUMENTS[code]


def _slot(patient: User, code: str, week: int, today: dt.date) -> selectors.Slot:
    for slot in selectors.schedule_for(patient, today):
        if slot.instrument.code == code and slot.week == week:
            return slot
    raise Http404("No such questionnaire.")


def _day(date: dt.date | None) -> str:
    return date_format(date, "l j M") if date else ""


def _when(window: schedule.Window | None, today: dt.date) -> str:
    """When a week's questionnaires can be answered, in words."""
    if window is None:
        return "Opens once your first LDN dose is recorded."
    if window.opens is None or window.closes is None:
        return "Open now, until your first LDN dose."
    if today < window.opens:
        return f"Opens {_day(window.opens)}, until {_day(window.closes)}."
    if window.has_closed(today):
        return f"Closed {_day(window.closes)}."
    return f"Open until {_day(window.closes)}."


def _cards_response(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    today = request.user.local_today()
    return render(
        request,
        f"{TEMPLATE}#due-cards",
        {"cards": selectors.due_cards(patient, today), "today": today},
    )


@require_GET
@patient_view
def due(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """The entry page's cards (htmx); without htmx, the schedule page has the same links."""
    if not request.htmx:
        return redirect("questionnaires:index")
    return _cards_response(request, patient)


@require_GET
@patient_view
def index(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    today = request.user.local_today()
    slots = selectors.schedule_for(patient, today)
    weeks = []
    for week in schedule.WEEKS:
        in_week = [s for s in slots if s.week == week]
        weeks.append({"week": week, "when": _when(in_week[0].window, today), "slots": in_week})
    context = {
        "weeks": weeks,
        "cards": [s for s in slots if s.due],
        "today": today,
        "page": True,
    }
    return render(request, TEMPLATE, context)


def _first_part_to_answer(instrument: rules.Instrument, answers: dict) -> int:
    for number, part in enumerate(instrument.parts, start=1):
        if any(answers.get(key) is None for key in part.fields):
            return number
    return 1


def _part_number(raw: str | None, instrument: rules.Instrument, answers: dict) -> int:
    try:
        number = int(raw or "")
    except ValueError:
        return _first_part_to_answer(instrument, answers)
    return min(max(number, 1), len(instrument.parts))


def _fill_url(code: str, week: int, part: int) -> str:
    return f"{reverse('questionnaires:fill', args=[code, week])}?part={part}"


def _finished_message(instrument: rules.Instrument, week: int, answers: dict) -> str:
    if week == 0:
        text = gettext(
            "Thank you: your baseline %(name)s is finished. Your clinician will see it."
        ) % {"name": instrument.name}
    else:
        text = gettext(
            "Thank you: your week %(week)s %(name)s is finished. Your clinician will see it."
        ) % {"week": week, "name": instrument.name}
    missing = rules.unanswered(instrument.code, answers)
    if instrument.code == schedule.FIQR and missing:
        score = q.fiqr_score(rules.fiqr_answers(answers))
        which = f" ({', '.join(missing)})" if len(missing) <= 5 else ""
        text += " " + ngettext(
            "You left %(count)s question unanswered%(which)s; you can still answer it while "
            "it is open.",
            "You left %(count)s questions unanswered%(which)s; you can still answer them while "
            "it is open.",
            len(missing),
        ) % {"count": len(missing), "which": which}
        if score.total is None:
            text += " " + gettext(
                "With more than one unanswered in a part, that part and the total cannot be scored."
            )
    return text


@require_http_methods(["GET", "POST"])
@patient_view
def fill(request: AuthenticatedRequest, patient: User, instrument: str, week: int) -> HttpResponse:
    """One part of a questionnaire (?part=N). Each part saves on its own: "Save and continue",
    "Save and finish later", and on the last part "Finish"."""
    today = request.user.local_today()
    definition = _instrument(instrument, week)
    slot = _slot(patient, instrument, week, today)
    saved: dict = dict(slot.response.answers) if slot.response else {}
    number = _part_number(request.GET.get("part"), definition, saved)
    part = definition.part(number)
    if request.method == "POST":
        form = PartForm(instrument, part, request.POST, saved=saved)
        action = request.POST.get("action", "next")
        action = action if action in ACTIONS else "next"
        if form.is_valid():
            try:
                response = services.questionnaire_save(
                    patient=patient,
                    instrument=instrument,
                    week=week,
                    answers=form.answers(),
                    today=today,
                )
                if action == "finish":
                    response = services.questionnaire_finish(
                        patient=patient, instrument=instrument, week=week, today=today
                    )
            except ValidationError as exc:
                # The part's answers were saved unless the save itself was refused; either way
                # the page says so and shows what was typed.
                form.add_error(None, exc)
            else:
                if action == "finish":
                    messages.success(request, _finished_message(definition, week, response.answers))
                    return redirect("diary:today")
                if action == "later":
                    answered = rules.answered_count(instrument, response.answers)
                    closes = slot.window.closes if slot.window else None
                    values = {"answered": answered, "questions": definition.questions}
                    messages.success(
                        request,
                        gettext(
                            "Saved: %(answered)s of %(questions)s answered. Carry on any time "
                            "until %(until)s, from Today or Questionnaires."
                        )
                        % {**values, "until": _day(closes)}
                        if closes
                        else gettext(
                            "Saved: %(answered)s of %(questions)s answered. Carry on any time, "
                            "from Today or Questionnaires."
                        )
                        % values,
                    )
                    return redirect("diary:today")
                step = -1 if action == "back" else 1
                target = min(max(number + step, 1), len(definition.parts))
                return redirect(_fill_url(instrument, week, target))
        # Not redirected: the part's answers may have been saved before a refusal to finish.
        slot = _slot(patient, instrument, week, today)
        saved = dict(slot.response.answers) if slot.response else {}
    else:
        form = PartForm(instrument, part, saved=saved)
    context = {
        "definition": definition,
        "slot": slot,
        "part": part,
        "number": number,
        "parts": [(n, p) for n, p in enumerate(definition.parts, start=1)],
        "last": number == len(definition.parts),
        "form": form,
        "answered": rules.answered_count(instrument, saved),
        "today": today,
    }
    return render(request, "questionnaires/fill.html", context)


@require_POST
@patient_view
def dismiss(
    request: AuthenticatedRequest, patient: User, instrument: str, week: int
) -> HttpResponse:
    """Hide the card for this week. htmx gets the cards back; otherwise back to Today."""
    definition = _instrument(instrument, week)
    try:
        services.questionnaire_dismiss(
            patient=patient, instrument=instrument, week=week, today=request.user.local_today()
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        if not request.htmx:
            messages.info(
                request,
                gettext(
                    "Hidden for now. The %(name)s stays open under Questionnaires until it closes."
                )
                % {"name": definition.name},
            )
    if request.htmx:
        return _cards_response(request, patient)
    return redirect("diary:today")
