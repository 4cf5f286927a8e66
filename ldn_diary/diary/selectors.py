"""Reads of one patient's diary and doses.

Every function takes the patient user object that the view got through an access-checking door
(``accounts.selectors.get_own_patient``, or a clinician's); nothing here checks access again,
and nothing here takes an id from a request except through ``get_dose_change``, which scopes
the lookup to that patient.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from ldn_diary.accounts.models import User
from ldn_diary.clinical import doses

from . import rules
from .models import (
    BACKFILL_DAYS,
    IMPORT_STASH_TTL,
    DiaryEntry,
    DoseChange,
    ImportStash,
    LifeEvent,
    TitrationPlan,
    Treatment,
    TreatmentCategory,
)
from .rules import backfill_window


def entry_for_day(patient: User, date: dt.date) -> DiaryEntry | None:
    return DiaryEntry.objects.filter(patient=patient, date=date).first()


def entries_between(patient: User, start: dt.date, end: dt.date) -> QuerySet[DiaryEntry]:
    """Entries with start <= date <= end, oldest first."""
    return DiaryEntry.objects.filter(patient=patient, date__gte=start, date__lte=end).order_by(
        "date"
    )


def logged_days(patient: User, start: dt.date | None = None) -> dict[dt.date, bool]:
    """{date: backfilled} for every logged day on or after ``start`` (all days if None).

    One small row per day, so the calendar and the streak need one query however long the diary.
    """
    qs = DiaryEntry.objects.filter(patient=patient)
    if start is not None:
        qs = qs.filter(date__gte=start)
    return dict(qs.order_by("date").values_list("date", "backfilled"))


def days_to_fill_in(patient: User, today: dt.date) -> list[dt.date]:
    """Days in the backfill window without an entry, most recent first (today excluded)."""
    start, _end = backfill_window(today)
    logged = set(logged_days(patient, start))
    days = (today - dt.timedelta(days=n) for n in range(1, BACKFILL_DAYS + 1))
    return [d for d in days if d not in logged]


def dose_timeline(patient: User) -> list[DoseChange]:
    """All dose changes, oldest first (the order ``dose_at`` needs)."""
    return list(DoseChange.objects.filter(patient=patient).order_by("effective_date"))


def dose_on(patient: User, date: dt.date) -> DoseChange | None:
    """The change in force on ``date``: the latest on or before it (docs/clinical-rules.md §1)."""
    return (
        DoseChange.objects.filter(patient=patient, effective_date__lte=date)
        .order_by("-effective_date")
        .first()
    )


def dose_at(timeline: Sequence[DoseChange], date: dt.date) -> DoseChange | None:
    """``dose_on`` over an already-fetched, oldest-first timeline (clinical.doses' rule)."""
    index = doses.dose_in_force(steps(timeline), date)
    return None if index is None else timeline[index]


def on_ldn(timeline: Sequence[DoseChange], date: dt.date) -> bool:
    """A non-zero dose is in force that day: the days "did you take your dose?" is asked."""
    change = dose_at(timeline, date)
    return change is not None and change.dose_ug > 0


def steps(timeline: Sequence[DoseChange]) -> list[tuple[dt.date, int]]:
    """The (date, µg) pairs the dose rules in ``ldn_diary.clinical.doses`` take."""
    return [(c.effective_date, c.dose_ug) for c in timeline]


def get_dose_change(patient: User, code: uuid_mod.UUID | str) -> DoseChange:
    """A dose change named in a URL. Missing and another patient's give the same 404."""
    try:
        key = uuid_mod.UUID(str(code))
    except ValueError as exc:
        raise Http404("No such dose change.") from exc
    change = DoseChange.objects.filter(patient=patient, uuid=key).first()
    if change is None:
        raise Http404("No such dose change.")
    return change


def therapy_start_of(patient: User) -> dt.date | None:
    """The first day with a dose above 0 (docs/clinical-rules.md §1), or None: one query."""
    return (
        DoseChange.objects.filter(patient=patient, dose_ug__gt=0)
        .order_by("effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )


# --- Other treatments and life events -----------------------------------------------------------


def treatments_for(patient: User) -> list[Treatment]:
    """Every other treatment, the latest started first."""
    return list(Treatment.objects.filter(patient=patient).order_by("-start_date", "name"))


def life_events_for(patient: User) -> list[LifeEvent]:
    """Every flare and life event, the latest first."""
    return list(LifeEvent.objects.filter(patient=patient).order_by("-date", "-created_at"))


def _by_code(model: type[Treatment] | type[LifeEvent], patient: User, code: object, what: str):
    try:
        key = uuid_mod.UUID(str(code))
    except ValueError as exc:
        raise Http404(f"No such {what}.") from exc
    found = model.objects.filter(patient=patient, uuid=key).first()
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def get_treatment(patient: User, code: uuid_mod.UUID | str) -> Treatment:
    """A treatment named in a URL. Missing and another patient's give the same 404."""
    treatment: Treatment = _by_code(Treatment, patient, code, "treatment")
    return treatment


def get_life_event(patient: User, code: uuid_mod.UUID | str) -> LifeEvent:
    """A flare or life event named in a URL. Missing and another patient's: the same 404."""
    event: LifeEvent = _by_code(LifeEvent, patient, code, "event")
    return event


def opioids_with_ldn_on(
    patient: User, day: dt.date, timeline: Sequence[DoseChange] | None = None
) -> list[str]:
    """Names of opioids taken on ``day`` while LDN is (``rules.opioids_with_ldn``), or [].

    One query for the patient's opioids, plus the dose history unless ``timeline`` is given.
    """
    opioids = list(
        Treatment.objects.filter(
            patient=patient, category=TreatmentCategory.OPIOID, start_date__lte=day
        ).values_list("name", "start_date", "stop_date")
    )
    if not opioids:
        return []
    if timeline is None:
        timeline = dose_timeline(patient)
    return rules.opioids_with_ldn(opioids, steps(timeline), day)


def plan_for(patient: User) -> TitrationPlan | None:
    return TitrationPlan.objects.filter(patient=patient).first()


@dataclass(frozen=True)
class TitrationStatus:
    """Where the patient is on their plan, as shown on the entry and dose pages."""

    plan: TitrationPlan
    current: DoseChange | None
    next_ug: int | None  # None: target reached, or paused
    due: dt.date | None
    today: dt.date

    @property
    def is_due(self) -> bool:
        return self.due is not None and self.due <= self.today

    @property
    def reached_target(self) -> bool:
        return self.current is not None and self.current.dose_ug >= self.plan.target_ug

    @property
    def paused(self) -> bool:
        return self.current is not None and self.current.dose_ug == 0


def titration_status(
    plan: TitrationPlan | None, current: DoseChange | None, today: dt.date
) -> TitrationStatus | None:
    """The planned next step and its due date.

    With no dose yet, the first step is the plan's start dose, due now. Otherwise the next step is
    the current dose plus one step (capped at the target), due ``interval_days`` after the current
    dose took effect. Stepping from the current dose rather than from a fixed grid means a
    hand-made change (say, a slower step after side effects) moves the plan along with it.
    While paused (0 mg) nothing is due: restarting is a decision for the patient and clinician.
    """
    if plan is None:
        return None
    if current is None:
        return TitrationStatus(plan, None, plan.start_ug, today, today)
    if current.dose_ug == 0 or current.dose_ug >= plan.target_ug:
        return TitrationStatus(plan, current, None, None, today)
    next_ug = min(current.dose_ug + plan.step_ug, plan.target_ug)
    due = current.effective_date + dt.timedelta(days=plan.interval_days)
    return TitrationStatus(plan, current, next_ug, due, today)


def current_streak(logged: Iterable[dt.date], today: dt.date) -> int:
    """Days in a row logged, ending today, or yesterday while today is not logged yet.

    An unlogged today does not break the run: the day is not over, and a streak that resets at
    breakfast would read as a reproach.
    """
    days = set(logged)
    day = today if today in days else today - dt.timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= dt.timedelta(days=1)
    return streak


def pending_import(patient: User, now: dt.datetime) -> ImportStash | None:
    """The patient's uploaded file awaiting confirmation, unless it has expired."""
    return ImportStash.objects.filter(
        patient=patient, created_at__gt=now - IMPORT_STASH_TTL
    ).first()
