"""Writes to the diary: entries, dose changes, the titration plan and CSV imports.

Each function is atomic and calls ``trends_mark_dirty`` inside its own transaction, so a
committed diary change always leaves the patient's trends marked stale (the trends outbox).
Errors are ``ValidationError``s whose messages say what is wrong and how to fix it; the views
show them as they are.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format

from ldn_diary.accounts.models import User
from ldn_diary.trends.services import trends_mark_dirty

from .csvio import NOTE_MAX, OTHER_TEXT_MAX, DiaryRow
from .dosing import format_mg
from .models import (
    BACKFILL_DAYS,
    MAX_DOSE_UG,
    MIN_DOSE_UG,
    SCORE_FIELDS,
    DiaryEntry,
    DoseChange,
    DoseTaken,
    Dreams,
    Formulation,
    SideEffect,
    TimeOfDay,
    TitrationPlan,
)
from .selectors import dose_at, dose_on, dose_timeline, titration_status

SCORE_LABELS = {"pain": "Pain", "fatigue": "Fatigue", "sleep": "Sleep quality", "mood": "Mood"}
ENTRY_FIELDS = (
    *SCORE_FIELDS,
    "dreams",
    "side_effects",
    "side_effect_other",
    "dose_taken",
    "note",
)


def day_label(date: dt.date) -> str:
    """ "Tuesday 24 Nov": the form patients see in every message about a day."""
    return date_format(date, "l j M")


class StaleEntryError(Exception):
    """The day was saved elsewhere (another tab or phone) since this form was opened.

    Carries the entry as it is saved now, so the view can show it and the patient can re-apply
    their change on top of it rather than silently overwriting the other save.
    """

    def __init__(self, entry: DiaryEntry, tz: dt.tzinfo) -> None:
        self.entry = entry
        at = timezone.localtime(entry.updated_at, tz).strftime("%H:%M")
        self.message = (
            f"This day was changed in another tab or device at {at}; here is what is saved now "
            "— re-apply your change."
        )
        super().__init__(self.message)


# --- Daily entries ------------------------------------------------------------------------------


def _check_entry_date(date: dt.date, today: dt.date) -> None:
    if date > today:
        raise ValidationError(
            {
                "date": f"{day_label(date)} is in the future. You can log today "
                f"({day_label(today)}) and up to {BACKFILL_DAYS} days back."
            },
            code="future",
        )
    earliest = today - dt.timedelta(days=BACKFILL_DAYS)
    if date < earliest:
        raise ValidationError(
            {
                "date": f"{day_label(date)} is more than {BACKFILL_DAYS} days ago. You can fill "
                f"in days back to {day_label(earliest)}; to add older days, import a CSV file "
                "from the History page."
            },
            code="too_old",
        )


def normalise_side_effects(codes: Iterable[str], other: str) -> tuple[list[str], str]:
    """Known codes in a fixed order; typing "other" text ticks "other" for the patient."""
    chosen = set(codes)
    unknown = chosen - set(SideEffect.values)
    if unknown:
        raise ValidationError(
            {
                "side_effects": f"Unknown side effect {sorted(unknown)[0]!r}. Choose from: "
                f"{', '.join(SideEffect.labels)}."
            }
        )
    other = (other or "").strip()
    if other:
        chosen.add(SideEffect.OTHER)
    return [c.value for c in SideEffect if c in chosen], other


def _entry_values(
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
) -> dict[str, object]:
    """Check an entry's values before the database sees them, naming each field that is wrong.

    The database's check constraints would also refuse a score of 11, but with a message no
    patient could act on.
    """
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    scores = {"pain": pain, "fatigue": fatigue, "sleep": sleep, "mood": mood}
    for name, value in scores.items():
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10:
            values[name] = value
        else:
            errors[name] = (
                f"{SCORE_LABELS[name]} must be a whole number from 0 to 10; got {value!r}."
            )
    if dreams not in Dreams.values:
        errors["dreams"] = "Choose how you dreamt: none, normal, vivid or nightmares."
    if dose_taken not in DoseTaken.values:
        errors["dose_taken"] = "Choose whether you took your dose: yes, partly or no."
    try:
        codes, other = normalise_side_effects(side_effects, side_effect_other)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        codes, other = [], ""
    if len(other) > OTHER_TEXT_MAX:
        errors["side_effect_other"] = (
            f"Keep “other” to {OTHER_TEXT_MAX} characters (it has {len(other)}); "
            "put the rest in the note."
        )
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = f"Keep the note to {NOTE_MAX} characters (it has {len(note)})."
    if errors:
        raise ValidationError(errors)
    values.update(
        dreams=dreams, side_effects=codes, side_effect_other=other, dose_taken=dose_taken, note=note
    )
    return values


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
    _check_entry_date(date, today)
    values = _entry_values(
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
    trends_mark_dirty(patient_id=patient.pk)
    return entry, created


# --- Doses --------------------------------------------------------------------------------------


def _check_dose_ug(dose_ug: int, *, field: str = "dose_mg") -> None:
    valid = isinstance(dose_ug, int) and (dose_ug == 0 or MIN_DOSE_UG <= dose_ug <= MAX_DOSE_UG)
    if not valid:
        raise ValidationError(
            {
                field: "Enter a dose between 0.001 mg (1 µg) and 50 mg, with at most 3 decimals, "
                "e.g. 4.5."
            },
            code="dose_range",
        )


def _check_dose_date(
    patient: User, effective_date: dt.date, today: dt.date, exclude_pk: int | None = None
) -> None:
    if effective_date > today:
        raise ValidationError(
            {
                "effective_date": f"{day_label(effective_date)} is in the future. Record a change "
                "on or after the day you start it; a titration plan shows when a step is due."
            },
            code="future",
        )
    clash = DoseChange.objects.filter(patient=patient, effective_date=effective_date)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    other = clash.first()
    if other is not None:
        raise ValidationError(
            {
                "effective_date": f"You already have a dose change on {day_label(other.effective_date)} "
                f"({format_mg(other.dose_ug)} mg). Edit that one instead, or pick another date."
            },
            code="duplicate",
        )


def _dose_save(change: DoseChange, patient: User) -> DoseChange:
    change.full_clean(exclude=["patient"], validate_unique=False)
    try:
        with transaction.atomic():
            change.save()
    except IntegrityError as exc:
        # Another request recorded a change on the same day between our check and this insert.
        raise ValidationError(
            {"effective_date": "There is already a dose change on that day; edit that one."}
        ) from exc
    trends_mark_dirty(patient_id=patient.pk)
    return change


def _check_choices(time_of_day: str, formulation: str) -> None:
    errors = {}
    if time_of_day not in TimeOfDay.values:
        errors["time_of_day"] = "Choose when you take it: bedtime or morning."
    if formulation not in Formulation.values:
        errors["formulation"] = (
            "Choose the form: capsule, liquid, sublingual, cream or other (say which in the note)."
        )
    if errors:
        raise ValidationError(errors)


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
    _check_choices(time_of_day, formulation)
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
    return _dose_save(change, patient)


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
    _check_choices(time_of_day, formulation)
    _check_dose_date(patient, effective_date, today, exclude_pk=dose_change.pk)
    dose_change.effective_date = effective_date
    dose_change.dose_ug = dose_ug
    dose_change.time_of_day = time_of_day
    dose_change.formulation = formulation
    dose_change.note = (note or "").strip()
    return _dose_save(dose_change, patient)


@transaction.atomic
def dose_change_delete(*, dose_change: DoseChange) -> None:
    patient_id = dose_change.patient_id
    dose_change.delete()
    trends_mark_dirty(patient_id=patient_id)


# --- Titration plan -----------------------------------------------------------------------------


@transaction.atomic
def plan_set(
    *, patient: User, start_ug: int, step_ug: int, interval_days: int, target_ug: int
) -> TitrationPlan:
    """Create or replace the patient's plan (one per patient)."""
    errors: dict[str, str] = {}
    for name, value in (("start_mg", start_ug), ("step_mg", step_ug), ("target_mg", target_ug)):
        if not (isinstance(value, int) and MIN_DOSE_UG <= value <= MAX_DOSE_UG):
            errors[name] = (
                "Enter a dose between 0.001 mg (1 µg) and 50 mg, with at most 3 decimals, e.g. 4.5."
            )
    if not (isinstance(interval_days, int) and 1 <= interval_days <= 90):
        errors["interval_days"] = "Enter the days between steps as a whole number from 1 to 90."
    if not errors and target_ug < start_ug:
        errors["target_mg"] = (
            f"The target ({format_mg(target_ug)} mg) is below the start dose "
            f"({format_mg(start_ug)} mg). Enter a target at or above the start."
        )
    if errors:
        raise ValidationError(errors)
    plan = TitrationPlan.objects.select_for_update().filter(patient=patient).first()
    plan = plan or TitrationPlan(patient=patient)
    plan.start_ug, plan.step_ug = start_ug, step_ug
    plan.interval_days, plan.target_ug = interval_days, target_ug
    plan.full_clean(exclude=["patient"], validate_unique=False)
    plan.save()
    # The plan does not change any diary value, but every diary write marks trends dirty so the
    # rule has no exceptions to remember (the clinician view shows the plan with the trends).
    trends_mark_dirty(patient_id=patient.pk)
    return plan


@transaction.atomic
def plan_clear(*, patient: User) -> None:
    TitrationPlan.objects.filter(patient=patient).delete()
    trends_mark_dirty(patient_id=patient.pk)


@transaction.atomic
def plan_confirm_step(
    *, patient: User, dose_ug: int, date: dt.date | None = None, today: dt.date | None = None
) -> DoseChange:
    """Record that the patient took the plan's next step (``dose_ug``, as shown to them) on
    ``date`` (default today, and at most ``BACKFILL_DAYS`` back).

    Confirming the same step twice (a double click) returns the change already recorded; if the
    plan's next step is no longer ``dose_ug`` (the page was out of date) nothing is written.
    """
    today = today or patient.local_today()
    date = date or today
    if date > today or date < today - dt.timedelta(days=BACKFILL_DAYS):
        raise ValidationError(
            {
                "date": f"Confirm a step on a day from {day_label(today - dt.timedelta(days=BACKFILL_DAYS))} "
                f"to today ({day_label(today)}); for older changes add a dose change instead."
            }
        )
    plan = TitrationPlan.objects.select_for_update().filter(patient=patient).first()
    if plan is None:
        raise ValidationError("You have no titration plan. Set one on the Doses page first.")
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
        reason = "you are paused" if status and status.paused else "you have reached the target"
        raise ValidationError(
            f"There is no planned step to confirm: {reason}. To change your dose, add a dose "
            "change on the Doses page."
        )
    if status.next_ug != dose_ug:
        raise ValidationError(
            f"The plan's next step is {format_mg(status.next_ug)} mg, not {format_mg(dose_ug)} mg "
            "(the page was out of date). Check the step below and confirm again."
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


def _row_values(row: DiaryRow) -> dict[str, object]:
    codes, other = normalise_side_effects(row.side_effects, row.side_effect_other)
    return {
        "pain": row.pain,
        "fatigue": row.fatigue,
        "sleep": row.sleep,
        "mood": row.mood,
        "dreams": row.dreams,
        "side_effects": codes,
        "side_effect_other": other,
        "dose_taken": row.dose_taken,
        "note": row.note,
    }


def import_plan(patient: User, rows: list[DiaryRow], *, lock: bool = False) -> ImportPlan:
    """Compare a parsed file (rows oldest first) with what the patient already has.

    Dose changes: a change is recorded on a row's day wherever the file's dose differs from the
    dose the diary would show that day, counting changes already recorded and those the import
    adds on earlier rows. Into an empty diary that is exactly "where dose_mg differs from the
    previous row's (the first dose too)"; into a diary with doses, it guarantees that every
    imported day afterwards shows the file's dose. An empty dose_mg records nothing.
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
    for row in rows:
        entry = existing.get(row.date)
        if entry is None:
            plan.new.append(row)
        elif all(getattr(entry, k) == v for k, v in _row_values(row).items()):
            plan.unchanged.append(row)
        else:
            plan.changed.append((row, entry))

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
    return plan


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    dose_changes: int

    def summary(self) -> str:
        days = self.created + self.updated + self.unchanged
        changes = f"{self.dose_changes} dose change{'s' if self.dose_changes != 1 else ''}"
        return (
            f"{days} day{'s' if days != 1 else ''}: {self.created} new, {self.updated} replaced, "
            f"{self.unchanged} already the same; {changes} recorded."
        )


def diary_import(
    *, patient: User, rows: list[DiaryRow], today: dt.date | None = None
) -> ImportResult:
    """Write a parsed, valid file (``csvio.parse_diary_csv(...).rows``) in one transaction.

    All or nothing: any error rolls back every row. Unlike ``entry_save`` there is no
    ``BACKFILL_DAYS`` limit (importing an old diary is the point), but future days are refused.
    Replaced days get a new version, so a form still open on one of them reports it as changed
    rather than overwriting the import. Imported days are not marked backfilled: the file does
    not say when each day was written down.
    """
    today = today or patient.local_today()
    future = [r for r in rows if r.date > today]
    if future:
        raise ValidationError(
            f"line {future[0].line}: {future[0].date.isoformat()} is in the future "
            f"(today is {today.isoformat()}); nothing was imported."
        )
    now = timezone.now()
    with transaction.atomic():
        plan = import_plan(patient, rows, lock=True)
        new_entries = []
        for row in plan.new:
            entry = DiaryEntry(patient=patient, date=row.date, **_row_values(row))
            entry.full_clean(exclude=["patient"], validate_unique=False, validate_constraints=False)
            new_entries.append(entry)
        DiaryEntry.objects.bulk_create(new_entries, batch_size=500)
        updated = []
        for row, entry in plan.changed:
            for name, value in _row_values(row).items():
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
        if new_entries or updated or plan.dose_changes:
            trends_mark_dirty(patient_id=patient.pk)
    return ImportResult(
        created=len(new_entries),
        updated=len(updated),
        unchanged=len(plan.unchanged),
        dose_changes=len(plan.dose_changes),
    )
