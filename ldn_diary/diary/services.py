"""Writes to the diary: entries, dose changes, the titration plan, other treatments and life
events, and CSV imports.

Each function is atomic and sends ``signals.diary_changed`` inside its own transaction, so
whatever listens (the trends app marks the patient's trends stale) commits with the change;
its audit row (``accounts.audit.record``, actor: the patient) commits with it too.
What may be saved is decided by ``rules`` and ``dosing``; errors are ``ValidationError``s whose
messages say what is wrong and how to fix it, and the views show them as they are.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid as uuid_mod
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, User
from ldn_diary.clinical import doses

from . import rules
from .csvio import DiaryRow, at_line, parse_diary_csv
from .dosing import DOSE_HELP, display_mg
from .models import (
    IMPORT_STASH_TTL,
    SCORE_FIELDS,
    DiaryEntry,
    DoseChange,
    DoseTaken,
    Formulation,
    ImportStash,
    LifeEvent,
    TimeOfDay,
    TitrationPlan,
    Treatment,
)
from .rules import day_label
from .selectors import dose_at, dose_on, dose_timeline, on_ldn, titration_status
from .signals import send_diary_changed

ENTRY_FIELDS = (
    *SCORE_FIELDS,
    "dreams",
    "side_effects",
    "side_effect_other",
    "dose_taken",
    "note",
)


class StaleEntryError(Exception):
    """The day was saved elsewhere (another tab or phone) since this form was opened.

    Carries the entry as it is saved now, so the view can show it and the patient can re-apply
    their change on top of it rather than silently overwriting the other save.
    """

    def __init__(self, entry: DiaryEntry, tz: dt.tzinfo) -> None:
        self.entry = entry
        at = timezone.localtime(entry.updated_at, tz).strftime("%H:%M")
        self.message = gettext(
            "This day was changed in another tab or device at %(at)s; here is what is saved now "
            "— re-apply your change."
        ) % {"at": at}
        super().__init__(self.message)


# --- Daily entries ------------------------------------------------------------------------------


def _entry_values(**values: object) -> dict[str, object]:
    """The entry's checked values, or a ValidationError naming each field that is wrong.

    The database's check constraints would also refuse a score of 11, but with a message no
    patient could act on.
    """
    checked, problems = rules.check_entry(**values)  # type: ignore[arg-type]
    if checked is None:
        raise ValidationError(problems)
    return checked.as_dict()


def entry_save(
    *,
    patient: User,
    date: dt.date,
    pain: int,
    fatigue: int,
    sleep: int,
    mood: int,
    dreams: str,
    side_effects: Iterable[str] = (),
    side_effect_other: str = "",
    dose_taken: str = DoseTaken.YES,
    note: str = "",
    version: int | None,
    request_key: uuid_mod.UUID | None,
    today: dt.date | None = None,
) -> tuple[DiaryEntry, bool]:
    """Create or update the patient's entry for ``date``; returns (entry, created).

    - ``request_key`` is the idempotency key rendered into the form. A request whose key is the
      one last accepted for this day is a retry or a double click: the saved entry is returned
      unchanged and nothing is written.
    - ``version`` is the entry's version when the form was rendered (None for a day with no
      entry yet). If the day was saved since, ``StaleEntryError`` is raised and nothing is
      written.
    - Only today and the ``BACKFILL_DAYS`` before it may be written here; the CSV import
      (``diary_import``) is the way to add older days.
    """
    today = today or patient.local_today()
    problem = rules.entry_date_problem(date, today)
    if problem:
        raise ValidationError({"date": problem}, code="date")
    values = _entry_values(
        on_therapy=on_ldn(dose_timeline(patient), date),
        pain=pain,
        fatigue=fatigue,
        sleep=sleep,
        mood=mood,
        dreams=dreams,
        side_effects=side_effects,
        side_effect_other=side_effect_other,
        dose_taken=dose_taken,
        note=note,
    )
    try:
        with transaction.atomic():
            return _entry_upsert(patient, date, values, version, request_key, today)
    except IntegrityError:
        # Two first saves of the same day raced (a double click before the first response):
        # both found no row, the database let one insert win. Going round once more finds that
        # row, so the loser is answered as a retry (same key) or as stale (different key).
        with transaction.atomic():
            return _entry_upsert(patient, date, values, version, request_key, today)


def _entry_upsert(
    patient: User,
    date: dt.date,
    values: dict[str, object],
    version: int | None,
    request_key: uuid_mod.UUID | None,
    today: dt.date,
) -> tuple[DiaryEntry, bool]:
    entry = DiaryEntry.objects.select_for_update().filter(patient=patient, date=date).first()
    if entry is not None:
        if request_key is not None and entry.last_request_key == request_key:
            return entry, False
        if version != entry.version:
            raise StaleEntryError(entry, patient.tzinfo)
        for name, value in values.items():
            setattr(entry, name, value)
        entry.version += 1
        created = False
    else:
        entry = DiaryEntry(patient=patient, date=date, backfilled=date < today, **values)
        created = True
    entry.last_request_key = request_key
    # One entry per day is guaranteed by the row lock above, the database constraint and the
    # retry in entry_save; a validate_unique query here could only turn that race into an error.
    entry.full_clean(exclude=["patient"], validate_unique=False)
    entry.save()
    audit.record(actor=patient, patient=patient, action=AuditAction.ENTRY_SAVE, obj=entry)
    send_diary_changed(patient_id=patient.pk)
    return entry, created


# --- Doses --------------------------------------------------------------------------------------


def _check_dose_ug(dose_ug: int) -> None:
    if rules.dose_problem(dose_ug, allow_zero=True):
        raise ValidationError({"dose_mg": DOSE_HELP}, code="dose_range")


def _check_dose_date(
    patient: User, effective_date: dt.date, today: dt.date, exclude_pk: int | None = None
) -> None:
    problem = rules.dose_date_problem(effective_date, today)
    if problem:
        raise ValidationError({"effective_date": problem}, code="future")
    clash = DoseChange.objects.filter(patient=patient, effective_date=effective_date)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    other = clash.first()
    if other is not None:
        raise ValidationError(
            {
                "effective_date": gettext(
                    "You already have a dose change on %(day)s (%(mg)s mg). Edit that one "
                    "instead, or pick another date."
                )
                % {"day": day_label(other.effective_date), "mg": display_mg(other.dose_ug)}
            },
            code="duplicate",
        )


def _dose_save(change: DoseChange, patient: User, action: AuditAction) -> DoseChange:
    change.full_clean(exclude=["patient"], validate_unique=False)
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError as exc:
        # Another request recorded a change on the same day between our check and this insert.
        raise ValidationError(
            {
                "effective_date": gettext(
                    "There is already a dose change on that day; edit that one."
                )
            }
        ) from exc
    audit.record(actor=patient, patient=patient, action=action, obj=change)
    _sync_not_asked(patient)
    send_diary_changed(patient_id=patient.pk)
    return change


def _sync_not_asked(patient: User) -> None:
    """After the dose history changed, days that are now without LDN store "not applicable".

    Whether the dose was taken is only a question on days with LDN (rules.check_entry): an
    answer kept on a day that a corrected dose history puts before the first dose, or in a
    pause, would count as a missed dose. A day that newly has LDN keeps "not applicable" (not
    answered) until the patient answers it.
    """
    timeline = dose_timeline(patient)
    answered = DiaryEntry.objects.filter(patient=patient).exclude(
        dose_taken=DoseTaken.NOT_APPLICABLE
    )
    off = [pk for pk, date in answered.values_list("pk", "date") if not on_ldn(timeline, date)]
    if off:
        DiaryEntry.objects.filter(pk__in=off).update(
            dose_taken=DoseTaken.NOT_APPLICABLE, version=F("version") + 1
        )


def _check_choices(time_of_day: str, formulation: str, note: str) -> None:
    problems = rules.dose_choice_problems(
        time_of_day=time_of_day, formulation=formulation, note=note
    )
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def dose_change_add(
    *,
    patient: User,
    effective_date: dt.date,
    dose_ug: int,
    time_of_day: str = TimeOfDay.BEDTIME,
    formulation: str = Formulation.CAPSULE,
    note: str = "",
    from_plan: bool = False,
    today: dt.date | None = None,
) -> DoseChange:
    """Record a dose from ``effective_date`` on. ``dose_ug=0`` records a stop or pause."""
    today = today or patient.local_today()
    _check_dose_ug(dose_ug)
    _check_choices(time_of_day, formulation, note)
    _check_dose_date(patient, effective_date, today)
    change = DoseChange(
        patient=patient,
        effective_date=effective_date,
        dose_ug=dose_ug,
        time_of_day=time_of_day,
        formulation=formulation,
        note=(note or "").strip(),
        from_plan=from_plan,
    )
    return _dose_save(change, patient, AuditAction.DOSE_ADD)


@transaction.atomic
def dose_change_edit(
    *,
    dose_change: DoseChange,
    effective_date: dt.date,
    dose_ug: int,
    time_of_day: str,
    formulation: str,
    note: str = "",
    today: dt.date | None = None,
) -> DoseChange:
    """Correct a mistaken change. The caller fetched it with ``get_dose_change`` (scoped)."""
    patient = dose_change.patient
    today = today or patient.local_today()
    _check_dose_ug(dose_ug)
    _check_choices(time_of_day, formulation, note)
    _check_dose_date(patient, effective_date, today, exclude_pk=dose_change.pk)
    dose_change.effective_date = effective_date
    dose_change.dose_ug = dose_ug
    dose_change.time_of_day = time_of_day
    dose_change.formulation = formulation
    dose_change.note = (note or "").strip()
    return _dose_save(dose_change, patient, AuditAction.DOSE_EDIT)


@transaction.atomic
def dose_change_delete(*, dose_change: DoseChange) -> None:
    patient = dose_change.patient
    dose_change.delete()
    audit.record(actor=patient, patient=patient, action=AuditAction.DOSE_DELETE, obj=dose_change)
    _sync_not_asked(patient)
    send_diary_changed(patient_id=patient.pk)


# --- Titration plan -----------------------------------------------------------------------------


@transaction.atomic
def plan_set(
    *, patient: User, start_ug: int, step_ug: int, interval_days: int, target_ug: int
) -> TitrationPlan:
    """Create or replace the patient's plan (one per patient)."""
    problems = rules.plan_problems(
        start_ug=start_ug, step_ug=step_ug, interval_days=interval_days, target_ug=target_ug
    )
    if problems:
        raise ValidationError(problems)
    plan = TitrationPlan.objects.select_for_update().filter(patient=patient).first()
    plan = plan or TitrationPlan(patient=patient)
    plan.start_ug, plan.step_ug = start_ug, step_ug
    plan.interval_days, plan.target_ug = interval_days, target_ug
    plan.full_clean(exclude=["patient"], validate_unique=False)
    plan.save()
    audit.record(actor=patient, patient=patient, action=AuditAction.PLAN_SET, obj=plan)
    # The plan does not change any diary value, but every diary write says so, so the rule has
    # no exceptions to remember (the clinician view shows the plan with the trends).
    send_diary_changed(patient_id=patient.pk)
    return plan


@transaction.atomic
def plan_clear(*, patient: User) -> None:
    if TitrationPlan.objects.filter(patient=patient).delete()[0]:
        audit.record(actor=patient, patient=patient, action=AuditAction.PLAN_CLEAR)
    send_diary_changed(patient_id=patient.pk)


@transaction.atomic
def plan_confirm_step(
    *, patient: User, dose_ug: int, date: dt.date | None = None, today: dt.date | None = None
) -> DoseChange:
    """Record that the patient took the plan's next step (``dose_ug``, as shown to them) on
    ``date`` (default today, and at most ``BACKFILL_DAYS`` back).

    Confirming the same step twice (a double click) returns the change already recorded; if the
    plan's next step is no longer ``dose_ug`` (the page was out of date), or is not due yet on
    ``date``, nothing is written.
    """
    today = today or patient.local_today()
    date = date or today
    earliest, _latest = rules.backfill_window(today)
    if not earliest <= date <= today:
        raise ValidationError(
            {
                "date": gettext(
                    "Confirm a step on a day from %(earliest)s to today (%(today)s); for older "
                    "changes add a dose change instead."
                )
                % {"earliest": day_label(earliest), "today": day_label(today)}
            }
        )
    plan = TitrationPlan.objects.select_for_update().filter(patient=patient).first()
    if plan is None:
        raise ValidationError(_("You have no titration plan. Set one on the Doses page first."))
    current = dose_on(patient, date)
    if (
        current is not None
        and current.effective_date == date
        and current.dose_ug == dose_ug
        and current.from_plan
    ):
        return current
    status = titration_status(plan, current, today)
    if status is None or status.next_ug is None:
        raise ValidationError(
            gettext(
                "There is no planned step to confirm: you are paused. To change your dose, add a "
                "dose change on the Doses page."
            )
            if status and status.paused
            else gettext(
                "There is no planned step to confirm: you have reached the target. To change "
                "your dose, add a dose change on the Doses page."
            )
        )
    if status.next_ug != dose_ug:
        raise ValidationError(
            gettext(
                "The plan's next step is %(next)s mg, not %(mg)s mg (the page was out of date). "
                "Check the step below and confirm again."
            )
            % {"next": display_mg(status.next_ug), "mg": display_mg(dose_ug)}
        )
    if status.due is not None and status.due > date:
        # The pages offer the step only once it is due; a post made sooner is refused too.
        raise ValidationError(
            gettext(
                "The step to %(next)s mg is due on %(due)s. To change your dose before then, "
                "add a dose change on the Doses page."
            )
            % {"next": display_mg(status.next_ug), "due": day_label(status.due)}
        )
    return dose_change_add(
        patient=patient,
        effective_date=date,
        dose_ug=dose_ug,
        time_of_day=current.time_of_day if current else TimeOfDay.BEDTIME,
        formulation=current.formulation if current else Formulation.CAPSULE,
        note="Titration step",
        from_plan=True,
        today=today,
    )


# --- Other treatments and life events ------------------------------------------------------------
# One service per write, each in its own transaction and sending diary_changed like every diary
# write (the clinician's cached dashboard and roster are keyed on the version it bumps). Whether
# an opioid now overlaps LDN is read afterwards by the page (selectors.opioids_with_ldn_on):
# the record is true either way, so it is saved and the patient is warned.


def _treatment_fields(
    *,
    name: str,
    category: str,
    start_date: dt.date,
    stop_date: dt.date | None,
    note: str,
    today: dt.date,
) -> dict[str, object]:
    name, note = (name or "").strip(), (note or "").strip()
    problems = rules.treatment_problems(
        name=name,
        category=category,
        start_date=start_date,
        stop_date=stop_date,
        note=note,
        today=today,
    )
    if problems:
        raise ValidationError(problems)
    return {
        "name": name,
        "category": category,
        "start_date": start_date,
        "stop_date": stop_date,
        "note": note,
    }


@transaction.atomic
def treatment_add(
    *,
    patient: User,
    name: str,
    category: str,
    start_date: dt.date,
    stop_date: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> Treatment:
    """Record another medicine or therapy (``stop_date`` None: still taking it)."""
    today = today or patient.local_today()
    values = _treatment_fields(
        name=name,
        category=category,
        start_date=start_date,
        stop_date=stop_date,
        note=note,
        today=today,
    )
    treatment = Treatment(patient=patient, **values)
    treatment.full_clean(exclude=["patient"])
    treatment.save()
    audit.record(actor=patient, patient=patient, action=AuditAction.TREATMENT_ADD, obj=treatment)
    send_diary_changed(patient_id=patient.pk)
    return treatment


@transaction.atomic
def treatment_edit(
    *,
    treatment: Treatment,
    name: str,
    category: str,
    start_date: dt.date,
    stop_date: dt.date | None,
    note: str = "",
    today: dt.date | None = None,
) -> Treatment:
    """Correct a treatment, or stop it by giving a stop date. The caller fetched it with
    ``selectors.get_treatment`` (scoped to the patient)."""
    patient = treatment.patient
    today = today or patient.local_today()
    values = _treatment_fields(
        name=name,
        category=category,
        start_date=start_date,
        stop_date=stop_date,
        note=note,
        today=today,
    )
    for field_name, value in values.items():
        setattr(treatment, field_name, value)
    treatment.full_clean(exclude=["patient"])
    treatment.save()
    audit.record(actor=patient, patient=patient, action=AuditAction.TREATMENT_EDIT, obj=treatment)
    send_diary_changed(patient_id=patient.pk)
    return treatment


@transaction.atomic
def treatment_delete(*, treatment: Treatment) -> None:
    patient = treatment.patient
    audit.record(actor=patient, patient=patient, action=AuditAction.TREATMENT_DELETE, obj=treatment)
    treatment.delete()
    send_diary_changed(patient_id=patient.pk)


@transaction.atomic
def life_event_add(
    *,
    patient: User,
    date: dt.date,
    kind: str,
    text: str = "",
    today: dt.date | None = None,
) -> LifeEvent:
    """Record a flare or another life event on ``date``."""
    today = today or patient.local_today()
    text = (text or "").strip()
    problems = rules.life_event_problems(date=date, kind=kind, text=text, today=today)
    if problems:
        raise ValidationError(problems)
    event = LifeEvent(patient=patient, date=date, kind=kind, text=text)
    event.full_clean(exclude=["patient"])
    event.save()
    audit.record(actor=patient, patient=patient, action=AuditAction.EVENT_ADD, obj=event)
    send_diary_changed(patient_id=patient.pk)
    return event


@transaction.atomic
def life_event_delete(*, life_event: LifeEvent) -> None:
    patient = life_event.patient
    audit.record(actor=patient, patient=patient, action=AuditAction.EVENT_DELETE, obj=life_event)
    life_event.delete()
    send_diary_changed(patient_id=patient.pk)


# --- CSV import ---------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """What importing ``rows`` would do to the patient's diary; shown as the preview and then
    carried out by ``diary_import`` (which computes it again under lock)."""

    rows: list[DiaryRow]
    new: list[DiaryRow]
    changed: list[tuple[DiaryRow, DiaryEntry]]  # existing days the file replaces
    unchanged: list[DiaryRow]  # existing days already identical to the file
    dose_changes: list[tuple[dt.date, int, DoseChange | None]]  # (date, µg, same-day change)
    # Each row's entry values, decided against the diary's doses after the import.
    values: dict[dt.date, dict[str, object]] = field(default_factory=dict)
    # Problems only the whole diary can show ("line 7: ..."); the import refuses a plan with any.
    problems: list[str] = field(default_factory=list)


def import_plan(patient: User, rows: list[DiaryRow], *, lock: bool = False) -> ImportPlan:
    """Compare a parsed file (rows oldest first) with what the patient already has.

    Dose changes: a change is recorded on a row's day wherever the file's dose differs from the
    dose the diary would show that day, counting changes already recorded and those the import
    adds on earlier rows. Into an empty diary that is exactly "where dose_mg differs from the
    previous row's (the first dose too)"; into a diary with doses, it guarantees that every
    imported day afterwards shows the file's dose. An empty dose_mg records nothing.

    Whether each day had LDN, and so whether its dose_taken is an answer or "not applicable",
    is read off the dose history as it will be after the import.
    """
    entries = DiaryEntry.objects.filter(patient=patient)
    changes = DoseChange.objects.filter(patient=patient).order_by("effective_date")
    if lock:
        entries, changes = entries.select_for_update(), changes.select_for_update()
    existing: dict[dt.date, DiaryEntry] = {}
    if rows:
        in_range = entries.filter(date__gte=rows[0].date, date__lte=rows[-1].date)
        existing = {e.date: e for e in in_range}
    plan = ImportPlan(rows=rows, new=[], changed=[], unchanged=[], dose_changes=[])

    timeline = list(changes)
    by_date = {c.effective_date: c for c in timeline}
    last_new: tuple[dt.date, int] | None = None
    for row in rows:
        if row.dose_ug is None:
            continue
        before = dose_at(timeline, row.date)
        if last_new is not None and (before is None or last_new[0] >= before.effective_date):
            in_force: int | None = last_new[1]
        else:
            in_force = before.dose_ug if before else None
        if in_force != row.dose_ug:
            plan.dose_changes.append((row.date, row.dose_ug, by_date.get(row.date)))
            last_new = (row.date, row.dose_ug)

    after = {c.effective_date: c.dose_ug for c in timeline}
    after.update({date: dose_ug for date, dose_ug, _ in plan.dose_changes})
    history = sorted(after.items())
    for row in rows:
        index = doses.dose_in_force(history, row.date)
        on_therapy = index is not None and history[index][1] > 0
        if not on_therapy and row.dose_taken in (DoseTaken.YES, DoseTaken.PARTLY):
            plan.problems.append(
                at_line(
                    row.line,
                    gettext(
                        "dose_taken is %(value)s on %(date)s, a day without LDN (before the "
                        "first dose or paused); leave it empty"
                    )
                    % {"value": repr(row.dose_taken), "date": row.date.isoformat()},
                )
            )
            continue
        values = row.values(on_therapy=on_therapy).as_dict()
        plan.values[row.date] = values
        entry = existing.get(row.date)
        if entry is None:
            plan.new.append(row)
        elif all(getattr(entry, k) == v for k, v in values.items()):
            plan.unchanged.append(row)
        else:
            plan.changed.append((row, entry))
    return plan


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    dose_changes: int

    def summary(self) -> str:
        """In the active language: the import page's message (the command's is English)."""
        days = self.created + self.updated + self.unchanged
        return gettext(
            "%(days)s: %(new)s new, %(replaced)s replaced, %(same)s already the same; "
            "%(changes)s recorded."
        ) % {
            "days": ngettext("%(n)s day", "%(n)s days", days) % {"n": days},
            "new": self.created,
            "replaced": self.updated,
            "same": self.unchanged,
            "changes": ngettext("%(n)s dose change", "%(n)s dose changes", self.dose_changes)
            % {"n": self.dose_changes},
        }


def diary_import(
    *,
    patient: User,
    rows: list[DiaryRow],
    today: dt.date | None = None,
    by_command: bool = False,
) -> ImportResult:
    """Write a parsed, valid file (``csvio.parse_diary_csv(...).rows``) in one transaction.

    ``by_command``: an operator runs ``import_diary`` for the patient, so the audit row names
    no actor (the system) rather than the patient.

    All or nothing: any error rolls back every row. Unlike ``entry_save`` there is no
    ``BACKFILL_DAYS`` limit (importing an old diary is the point), but future days are refused.
    Replaced days get a new version, so a form still open on one of them reports it as changed
    rather than overwriting the import. Imported days are not marked backfilled: the file does
    not say when each day was written down.
    """
    today = today or patient.local_today()
    for row in rows:
        problem = rules.import_date_problem(row.date, today)
        if problem:
            raise ValidationError(
                at_line(
                    row.line, gettext("%(problem)s; nothing was imported.") % {"problem": problem}
                )
            )
    now = timezone.now()
    with transaction.atomic():
        plan = import_plan(patient, rows, lock=True)
        if plan.problems:
            raise ValidationError([*plan.problems, gettext("Nothing was imported.")])
        new_entries = []
        for row in plan.new:
            entry = DiaryEntry(patient=patient, date=row.date, **plan.values[row.date])
            entry.full_clean(exclude=["patient"], validate_unique=False, validate_constraints=False)
            new_entries.append(entry)
        DiaryEntry.objects.bulk_create(new_entries, batch_size=500)
        updated = []
        for row, entry in plan.changed:
            for name, value in plan.values[row.date].items():
                setattr(entry, name, value)
            entry.version += 1
            entry.last_request_key = None
            entry.updated_at = now
            entry.full_clean(exclude=["patient"], validate_unique=False, validate_constraints=False)
            updated.append(entry)
        DiaryEntry.objects.bulk_update(
            updated, [*ENTRY_FIELDS, "version", "last_request_key", "updated_at"], batch_size=500
        )
        timeline = dose_timeline(patient)
        new_changes, replaced = [], []
        for date, dose_ug, same_day in plan.dose_changes:
            if same_day is not None:
                same_day.dose_ug = dose_ug
                replaced.append(same_day)
                continue
            before = dose_at(timeline, date)
            new_changes.append(
                DoseChange(
                    patient=patient,
                    effective_date=date,
                    dose_ug=dose_ug,
                    time_of_day=before.time_of_day if before else TimeOfDay.BEDTIME,
                    formulation=before.formulation if before else Formulation.CAPSULE,
                    note="Imported from a CSV file",
                )
            )
        DoseChange.objects.bulk_create(new_changes, batch_size=500)
        DoseChange.objects.bulk_update(replaced, ["dose_ug"], batch_size=500)
        if plan.dose_changes:
            # Days outside the file may have gained or lost LDN with these changes.
            _sync_not_asked(patient)
        if new_entries or updated or plan.dose_changes:
            audit.record(
                actor=None if by_command else patient, patient=patient, action=AuditAction.IMPORT
            )
            send_diary_changed(patient_id=patient.pk)
    return ImportResult(
        created=len(new_entries),
        updated=len(updated),
        unchanged=len(plan.unchanged),
        dose_changes=len(plan.dose_changes),
    )


# --- Imports awaiting confirmation --------------------------------------------------------------


class ImportGoneError(ValidationError):
    """The preview being confirmed is not the patient's current one: already imported,
    cancelled, replaced by another upload, expired, or never theirs."""


# Characters a file name may not bring into a page or the database (NUL, other controls).
_CONTROL = dict.fromkeys(range(32))


@transaction.atomic
def import_stash_put(*, patient: User, name: str, text: str) -> ImportStash:
    """Keep a checked upload server-side until the patient confirms it; replaces any other."""
    ImportStash.objects.filter(patient=patient).delete()
    stash = ImportStash(
        patient=patient,
        token=secrets.token_urlsafe(32),
        name=(name or "diary.csv").translate(_CONTROL)[:120],
        text=text,
        created_at=timezone.now(),
    )
    stash.full_clean(exclude=["patient"], validate_unique=False)
    stash.save()
    audit.record(actor=patient, patient=patient, action=AuditAction.IMPORT_UPLOAD, obj=stash)
    return stash


def import_stash_discard(*, patient: User) -> int:
    """Cancel: forget the patient's pending upload. Returns how many were deleted (0 or 1)."""
    return ImportStash.objects.filter(patient=patient).delete()[0]


def import_stash_purge(*, now: dt.datetime | None = None) -> int:
    """Delete every upload older than IMPORT_STASH_TTL; returns how many (beat task)."""
    now = now or timezone.now()
    return ImportStash.objects.filter(created_at__lte=now - IMPORT_STASH_TTL).delete()[0]


def import_confirm(*, patient: User, token: str, today: dt.date | None = None) -> ImportResult:
    """Import the patient's pending upload named by ``token`` and delete it, in one transaction.

    Raises ``ImportGoneError`` when there is no such live upload (nothing is written; a stale
    one is deleted), and ``ValidationError`` when the file no longer fits the diary (the day
    changed, or the doses did since the preview): the upload is kept so the preview can say why.
    The row lock makes a double-clicked confirm import once.
    """
    today = today or patient.local_today()
    now = timezone.now()
    with transaction.atomic():
        stash = ImportStash.objects.select_for_update().filter(patient=patient).first()
        if stash is None or not secrets.compare_digest(stash.token, str(token)):
            raise ImportGoneError(
                "That preview is no longer current (it was already imported, cancelled or "
                "replaced by another upload). Nothing was imported; upload the file again.",
                code="gone",
            )
        expired = stash.created_at <= now - IMPORT_STASH_TTL
        if expired:
            stash.delete()  # committed: the error below is raised outside this transaction
        else:
            parsed = parse_diary_csv(stash.text, today=today)
            if not parsed.ok:
                raise ValidationError(parsed.errors, code="invalid")
            result = diary_import(patient=patient, rows=parsed.rows, today=today)
            stash.delete()
    if expired:
        raise ImportGoneError(
            "That preview has expired: an upload waits an hour for you to confirm it. "
            "Nothing was imported; upload the file again.",
            code="expired",
        )
    return result
