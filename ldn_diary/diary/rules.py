"""What a diary may hold, in one place (docs/clinical-rules.md §1).

The entry form, the services and the CSV import all check values against these functions, so a
limit and the words that explain it are written once. Each check takes typed values (the form
and the CSV parser turn text into them first) and returns problems as {field: message}; the
caller decides how to show them (a form error, a ``ValidationError``, "line 7: ...").
No database access here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.utils.dateformat import format as date_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from ldn_diary.clinical import doses

from .choices import (
    DOSE_ANSWERS,
    DoseTaken,
    Dreams,
    Formulation,
    LifeEventKind,
    SideEffect,
    TimeOfDay,
    TreatmentCategory,
)
from .dosing import DOSE_HELP, display_mg, is_dose_ug

SCORE_FIELDS = ("pain", "fatigue", "sleep", "mood")
SCORE_LABELS = {
    "pain": _("Pain"),
    "fatigue": _("Fatigue"),
    "sleep": _("Sleep quality"),
    "mood": _("Mood"),
}
# How each checked field is named in messages about it (the CSV import uses its column names).
FIELD_LABELS = {**SCORE_LABELS, "dreams": _("Dreams"), "dose_taken": _("Dose taken")}
SCORE_MIN, SCORE_MAX = 0, 10
SCORE_VALUES = range(SCORE_MIN, SCORE_MAX + 1)
# A patient may fill in or change the last 14 days by hand *(design)*; older days are imported.
BACKFILL_DAYS = 14
NOTE_MAX = 2000
OTHER_TEXT_MAX = 200
DOSE_NOTE_MAX = 500
PLAN_INTERVAL_DAYS = range(1, 91)
# No day in a diary, a dose history or a file may be earlier than this or later than the
# patient's today *(design)*. Without a lower bound a mistyped year (0001-01-01) was saved and
# then broke every computation that counts days back from it (docs/clinical-rules.md §1);
# ldn_diary.trends.services refuses such days per patient too, for data saved before this rule.
EARLIEST_DATE = dt.date(1900, 1, 1)
# PostgreSQL cannot store a NUL character in text, and no person types one: refused everywhere
# text is saved, with this message, before anything is written.
NUL = "\x00"

DREAMS_HELP = _("Choose how you dreamt: none, normal, vivid or nightmares.")
DOSE_TAKEN_HELP = _("Choose whether you took your dose: yes, partly or no.")
INTERVAL_HELP = format_lazy(
    _("Enter the days between steps as a whole number from {start} to {stop}."),
    start=PLAN_INTERVAL_DAYS.start,
    stop=PLAN_INTERVAL_DAYS.stop - 1,
)


def _score_prompt(label: StrOrPromise) -> str:
    return gettext("Choose a number from %(min)s to %(max)s for %(what)s.") % {
        "min": SCORE_MIN,
        "max": SCORE_MAX,
        "what": str(label).lower(),
    }


# What the entry form says when a score is missing: the patient taps, not types. Lazy, because
# the form fields are built at import, before any language is active.
score_prompt = lazy(_score_prompt, str)


def day_label(date: dt.date) -> str:
    """ "Tuesday 24 Nov": the form patients see in every message about a day."""
    return date_format(date, "l j M")


def is_score(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in SCORE_VALUES


# The messages below are in the active language (the patient's, per request), built with named
# placeholders; ``what`` is already translated by the caller ("the note", "la nota"). Messages
# without a full stop are parts that callers end or extend.


def too_long(what: str, limit: int, text: str) -> str:
    return gettext("Keep %(what)s to %(limit)s characters (it has %(n)s)") % {
        "what": what,
        "limit": limit,
        "n": len(text),
    }


def nul_problem(what: str, text: str) -> str | None:
    """A NUL character (\\x00) in saved text: invisible to the writer, and unstorable."""
    if NUL in (text or ""):
        return gettext(
            "%(what)s contains a NUL character (\\x00), which cannot be saved; remove it "
            "(it often comes from copying out of another program)"
        ) % {"what": what}
    return None


def too_early_problem(date: dt.date) -> str | None:
    """A day before EARLIEST_DATE: almost certainly a mistyped year."""
    if date < EARLIEST_DATE:
        return gettext(
            "%(date)s is before %(earliest)s, the earliest day the diary accepts; check the year"
        ) % {"date": date.isoformat(), "earliest": EARLIEST_DATE.isoformat()}
    return None


def in_date_bounds(date: dt.date, today: dt.date) -> bool:
    """The one date rule every stored day obeys: from EARLIEST_DATE to the patient's today."""
    return EARLIEST_DATE <= date <= today


def backfill_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The days a patient may still fill in or change by hand: today and BACKFILL_DAYS back."""
    return today - dt.timedelta(days=BACKFILL_DAYS), today


# --- One day's entry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryValues:
    """An entry's values once checked: side effects in canonical order, text stripped."""

    pain: int
    fatigue: int
    sleep: int
    mood: int
    dreams: str
    side_effects: list[str]
    side_effect_other: str
    dose_taken: str
    note: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def normalise_side_effects(codes: Iterable[str], other: str) -> tuple[list[str], str, str | None]:
    """Known codes in a fixed order, "other" ticked when its text is given; and a problem.

    The problem names the first unknown code, or None.
    """
    chosen = set(codes)
    unknown = sorted(chosen - set(SideEffect.values))
    other = (other or "").strip()
    if other:
        chosen.add(SideEffect.OTHER)
    problem = None
    if unknown:
        problem = gettext("Unknown side effect %(code)s. Choose from: %(labels)s.") % {
            "code": repr(unknown[0]),
            "labels": ", ".join(str(label) for label in SideEffect.labels),
        }
    return [c.value for c in SideEffect if c in chosen], other, problem


def check_entry(
    *,
    pain: object,
    fatigue: object,
    sleep: object,
    mood: object,
    dreams: str,
    side_effects: Iterable[str],
    side_effect_other: str,
    dose_taken: str,
    note: str,
    on_therapy: bool = True,
    answer_required: bool = True,
    name: Callable[[str], str] = lambda field: str(FIELD_LABELS[field]),
) -> tuple[EntryValues | None, dict[str, str]]:
    """The entry's values, checked, or None and every problem as {field: message}.

    ``on_therapy``: the day has a non-zero LDN dose in force. Only then is "did you take your
    dose?" asked (yes, partly or no); on any other day the answer is stored as "not applicable"
    whatever was sent, so a day without LDN never counts as a missed dose. With
    ``answer_required`` False (a file), an empty answer on a day with LDN is stored as not
    answered ("not applicable") rather than refused.
    ``name`` gives a field's name in messages: its label ("Pain") by default; the CSV import
    passes its column names ("pain").
    """
    problems: dict[str, str] = {}
    scores = {"pain": pain, "fatigue": fatigue, "sleep": sleep, "mood": mood}
    for field, value in scores.items():
        if not is_score(value):
            problems[field] = gettext(
                "%(what)s must be a whole number from %(min)s to %(max)s; got %(value)s."
            ) % {"what": name(field), "min": SCORE_MIN, "max": SCORE_MAX, "value": repr(value)}
    if dreams not in Dreams.values:
        problems["dreams"] = _one_of(name("dreams"), Dreams.values, dreams)
    unanswered = dose_taken in ("", DoseTaken.NOT_APPLICABLE)
    if not on_therapy or (unanswered and not answer_required):
        dose_taken = DoseTaken.NOT_APPLICABLE
    elif unanswered:
        problems["dose_taken"] = str(DOSE_TAKEN_HELP)
    elif dose_taken not in DOSE_ANSWERS:
        problems["dose_taken"] = _one_of(name("dose_taken"), DOSE_ANSWERS, dose_taken)
    codes, other, unknown = normalise_side_effects(side_effects, side_effect_other)
    if unknown:
        problems["side_effects"] = unknown
    if len(other) > OTHER_TEXT_MAX:
        problems["side_effect_other"] = gettext("%(problem)s; put the rest in the note.") % {
            "problem": too_long(gettext("“other”"), OTHER_TEXT_MAX, other)
        }
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        problems["note"] = f"{too_long(gettext('the note'), NOTE_MAX, note)}."
    for field, label, text in (
        ("side_effect_other", gettext("“Other”"), other),
        ("note", gettext("The note"), note),
    ):
        nul = nul_problem(label, text)
        if nul:
            problems[field] = f"{nul}."
    if problems:
        return None, problems
    values = EntryValues(
        pain=cast(int, pain),  # each checked by is_score above
        fatigue=cast(int, fatigue),
        sleep=cast(int, sleep),
        mood=cast(int, mood),
        dreams=dreams,
        side_effects=codes,
        side_effect_other=other,
        dose_taken=dose_taken,
        note=note,
    )
    return values, {}


def _one_of(what: str, values: Iterable[str], value: str) -> str:
    return gettext("%(what)s must be one of %(values)s; got %(value)s.") % {
        "what": what,
        "values": ", ".join(values),
        "value": repr(value),
    }


def entry_date_problem(date: dt.date, today: dt.date) -> str | None:
    """An entry written by hand: today or up to BACKFILL_DAYS back."""
    if date > today:
        return gettext(
            "%(day)s is in the future. You can log today (%(today)s) and up to %(days)s days back."
        ) % {"day": day_label(date), "today": day_label(today), "days": BACKFILL_DAYS}
    earliest, _latest = backfill_window(today)
    if date < earliest:
        return gettext(
            "%(day)s is more than %(days)s days ago. You can fill in days back to %(earliest)s; "
            "to add older days, import a CSV file from the History page."
        ) % {"day": day_label(date), "days": BACKFILL_DAYS, "earliest": day_label(earliest)}
    return None


def import_date_problem(date: dt.date, today: dt.date) -> str | None:
    """A day from a file: any past day back to EARLIEST_DATE (importing an old diary is the
    point), never the future."""
    if date > today:
        return gettext("%(date)s is in the future (today is %(today)s)") % {
            "date": date.isoformat(),
            "today": today.isoformat(),
        }
    return too_early_problem(date)


# --- Doses and the titration plan -----------------------------------------------------------------


def dose_problem(dose_ug: object, *, allow_zero: bool = True) -> str | None:
    return None if is_dose_ug(dose_ug, allow_zero=allow_zero) else str(DOSE_HELP)


def dose_date_problem(date: dt.date, today: dt.date) -> str | None:
    if date > today:
        return gettext(
            "%(day)s is in the future. Record a change on or after the day you start it; a "
            "titration plan shows when a step is due."
        ) % {"day": day_label(date)}
    early = too_early_problem(date)
    return f"{early[0].upper()}{early[1:]}." if early else None


def dose_choice_problems(*, time_of_day: str, formulation: str, note: str = "") -> dict[str, str]:
    """A dose change's other fields: when it is taken, its form and its note."""
    problems = {}
    if time_of_day not in TimeOfDay.values:
        problems["time_of_day"] = gettext("Choose when you take it: bedtime or morning.")
    if formulation not in Formulation.values:
        problems["formulation"] = gettext(
            "Choose the form: capsule, liquid, sublingual, cream or other (say which in the note)."
        )
    note = (note or "").strip()
    if len(note) > DOSE_NOTE_MAX:
        problems["note"] = f"{too_long(gettext('the note'), DOSE_NOTE_MAX, note)}."
    nul = nul_problem(gettext("The note"), note)
    if nul:
        problems["note"] = f"{nul}."
    return problems


def plan_problems(
    *, start_ug: object, step_ug: object, interval_days: object, target_ug: object
) -> dict[str, str]:
    """A titration plan's problems, by form field."""
    problems: dict[str, str] = {}
    for field, value in (("start_mg", start_ug), ("step_mg", step_ug), ("target_mg", target_ug)):
        if not is_dose_ug(value, allow_zero=False):
            problems[field] = str(DOSE_HELP)
    if not (
        isinstance(interval_days, int)
        and not isinstance(interval_days, bool)
        and interval_days in PLAN_INTERVAL_DAYS
    ):
        problems["interval_days"] = str(INTERVAL_HELP)
    start, target = cast(int, start_ug), cast(int, target_ug)  # checked above when no problems
    if not problems and target < start:
        problems["target_mg"] = gettext(
            "The target (%(target)s mg) is below the start dose (%(start)s mg). "
            "Enter a target at or above the start."
        ) % {"target": display_mg(target), "start": display_mg(start)}
    return problems


# --- Other treatments and life events -------------------------------------------------------------

TREATMENT_NAME_MAX = 100
TREATMENT_NOTE_MAX = 500
EVENT_TEXT_MAX = 200
CATEGORY_HELP = _("Choose the kind of treatment from the list (if unsure, choose “Other”).")
KIND_HELP = _("Choose whether this was a flare or another life event.")


def text_problem(what: str, text: str, limit: int, *, required: bool = False) -> str | None:
    """A free-text field: present when required, within its limit, and storable.

    PostgreSQL cannot store the NUL character in text at all, so it is refused with words
    rather than left to fail as a database error.
    """
    if required and not text:
        return gettext("Enter %(what)s.") % {"what": what}
    if problem := nul_problem(what[:1].upper() + what[1:], text):
        return f"{problem}."
    if len(text) > limit:
        return f"{too_long(what, limit, text)}."
    return None


def record_date_problem(what: str, date: dt.date, today: dt.date) -> str | None:
    """A date of something that happened: not in the future, not before EARLIEST_DATE."""
    if date > today:
        return gettext(
            "%(what)s (%(day)s %(year)s) is in the future; record it once it has happened."
        ) % {"what": what, "day": day_label(date), "year": date.year}
    if problem := too_early_problem(date):
        return gettext("%(what)s: %(problem)s.") % {"what": what, "problem": problem}
    return None


def treatment_problems(
    *,
    name: str,
    category: str,
    start_date: dt.date,
    stop_date: dt.date | None,
    note: str,
    today: dt.date,
) -> dict[str, str]:
    """Problems of another medicine or therapy, by form field. Text is checked as given
    (the service strips it first)."""
    problems: dict[str, str] = {}
    if problem := text_problem(gettext("the name"), name, TREATMENT_NAME_MAX, required=True):
        problems["name"] = problem
    if category not in TreatmentCategory.values:
        problems["category"] = str(CATEGORY_HELP)
    if problem := record_date_problem(gettext("The start date"), start_date, today):
        problems["start_date"] = problem
    if stop_date is not None:
        if problem := record_date_problem(gettext("The stop date"), stop_date, today):
            problems["stop_date"] = problem
        elif stop_date < start_date:
            problems["stop_date"] = gettext(
                "The stop date (%(stop)s %(stop_year)s) is before the start (%(start)s "
                "%(start_year)s). Enter a stop on or after the start."
            ) % {
                "stop": day_label(stop_date),
                "stop_year": stop_date.year,
                "start": day_label(start_date),
                "start_year": start_date.year,
            }
    if problem := text_problem(gettext("the note"), note, TREATMENT_NOTE_MAX):
        problems["note"] = problem
    return problems


def life_event_problems(*, date: dt.date, kind: str, text: str, today: dt.date) -> dict[str, str]:
    """Problems of a flare or life event, by form field."""
    problems: dict[str, str] = {}
    if problem := record_date_problem(gettext("The date"), date, today):
        problems["date"] = problem
    if kind not in LifeEventKind.values:
        problems["kind"] = str(KIND_HELP)
    if problem := text_problem(gettext("the description"), text, EVENT_TEXT_MAX):
        problems["text"] = problem
    return problems


# --- Opioids with LDN (docs/clinical-rules.md §1) -------------------------------------------------

# Naltrexone blocks opioid receptors: with an opioid on board it can bring on withdrawal, and it
# blocks the opioid's pain relief. The words are the seed article's, kept plain; translated
# where the warning is made (``opioid_warning``), per request.
OPIOID_WARNING = gettext_noop(
    "LDN can trigger withdrawal with opioids, and you have recorded an opioid (%(names)s) while "
    "taking LDN. Speak to the prescriber before the next dose."
)


def treatment_active(start: dt.date, stop: dt.date | None, day: dt.date) -> bool:
    """A treatment is taken from its start date to its stop date, both included."""
    return start <= day and (stop is None or day <= stop)


def ldn_active(steps: Sequence[tuple[dt.date, int]], day: dt.date) -> bool:
    """A dose above 0 is in force on ``day`` (``steps``: (date, µg), oldest first)."""
    index = doses.dose_in_force(steps, day)
    return index is not None and steps[index][1] > 0


def opioids_with_ldn(
    opioids: Iterable[tuple[str, dt.date, dt.date | None]],
    steps: Sequence[tuple[dt.date, int]],
    day: dt.date,
) -> list[str]:
    """The names of opioids (name, start, stop) taken on ``day`` while LDN is, else [].

    The one rule behind the patient's warning (entry, doses and treatments pages) and the
    clinician's "opioid + LDN" flag: both active on the same day, that day being today.
    """
    if not ldn_active(steps, day):
        return []
    return sorted({name for name, start, stop in opioids if treatment_active(start, stop, day)})


def ldn_overlaps(
    steps: Sequence[tuple[dt.date, int]], start: dt.date, stop: dt.date | None, today: dt.date
) -> bool:
    """Whether LDN above 0 was in force on any day from ``start`` to ``stop`` (or ``today``)."""
    end = min(stop, today) if stop is not None else today
    if end < start:
        return False
    if ldn_active(steps, start):
        return True
    return any(start < date <= end and dose_ug > 0 for date, dose_ug in steps)


def opioid_warning(names: Sequence[str]) -> str:
    return gettext(OPIOID_WARNING) % {"names": ", ".join(names)}
