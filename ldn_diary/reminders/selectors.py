"""Reads for reminders: a patient's own settings and devices, and the tick's question, "whose
reminders are due now?", answered for every patient at once.

``due_reminders`` reads each concern with one query for all patients (settings, today's
entries, last answers, recent reminders, plans and doses), so a tick costs the same handful of
queries for 10 patients or 10 000 (pinned in tests/reminders/test_tick.py); only the sends
themselves are per patient.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_mod
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, QuerySet
from django.http import Http404

from ldn_diary.accounts.models import Role, User
from ldn_diary.diary.models import DiaryEntry, DoseChange, TitrationPlan
from ldn_diary.diary.selectors import dose_at, titration_status

from . import rules
from .models import (
    PushSubscription,
    Reminder,
    ReminderEvent,
    ReminderKind,
    ReminderSettings,
    ReminderStatus,
)


def settings_for(patient: User) -> ReminderSettings | None:
    return ReminderSettings.objects.filter(patient=patient).first()


def push_devices(patient: User) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(patient=patient).order_by("created_at")


def reminders_sent_for(patient: User) -> QuerySet[Reminder]:
    """Every reminder claimed for the patient, oldest first (their own copy of their data)."""
    return Reminder.objects.filter(patient=patient).order_by("local_date", "kind")


def reminder_history_for(patient: User) -> QuerySet[ReminderEvent]:
    """Changes to the patient's reminder settings and devices, oldest first."""
    return ReminderEvent.objects.filter(patient=patient).order_by("at", "pk")


def get_push_device(patient: User, code: uuid_mod.UUID | str) -> PushSubscription:
    """A device named in a URL. Missing and another patient's give the same 404."""
    try:
        key = uuid_mod.UUID(str(code))
    except ValueError as exc:
        raise Http404("No such device.") from exc
    device = PushSubscription.objects.filter(patient=patient, uuid=key).first()
    if device is None:
        raise Http404("No such device.")
    return device


def patient_by_uuid(code: uuid_mod.UUID) -> User | None:
    """The active patient an unsubscribe link names, or None."""
    return User.objects.filter(uuid=code, role=Role.PATIENT, is_active=True).first()


@dataclass(frozen=True)
class Due:
    """A reminder to send now: insert its claim (``retry`` False) or take a failed one again."""

    patient_id: int
    local_date: dt.date
    kind: str
    dose_ug: int | None = None
    retry: bool = False


@dataclass(frozen=True)
class PauseState:
    paused: bool
    unanswered: int
    # When the last message went out, if reminders are paused and it did.
    stopped_on: dt.date | None = None


def _pause_states(
    ids: list[int], resumed: dict[int, dt.datetime], since_date: dt.date
) -> dict[int, PauseState]:
    """For each patient: daily reminders sent since their last answer (an entry created or
    changed) or since they last saved their settings, whichever is later; paused at
    ``rules.UNANSWERED_LIMIT``, or while the last message of a pause is newer than both."""
    last_answer = dict(
        DiaryEntry.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("updated_at"))
        .values_list("patient_id", "last")
    )
    last_stop = {
        pid: (at, day)
        for pid, at, day in Reminder.objects.filter(patient_id__in=ids, kind=ReminderKind.STOPPED)
        .order_by("patient_id", "claimed_at")
        .values_list("patient_id", "claimed_at", "local_date")
    }
    sent = defaultdict(list)
    for pid, at in Reminder.objects.filter(
        patient_id__in=ids,
        kind=ReminderKind.DAILY,
        status=ReminderStatus.SENT,
        local_date__gte=since_date,
    ).values_list("patient_id", "claimed_at"):
        sent[pid].append(at)
    states = {}
    for pid in ids:
        since = max(filter(None, (resumed.get(pid), last_answer.get(pid))))
        unanswered = sum(1 for at in sent[pid] if at > since)
        stop = last_stop.get(pid)
        if stop is not None and stop[0] > since:
            states[pid] = PauseState(True, unanswered, stop[1])
        else:
            states[pid] = PauseState(rules.is_paused(unanswered=unanswered), unanswered)
    return states


def pause_state(patient: User, settings: ReminderSettings) -> PauseState:
    today = patient.local_today()
    since_date = today - dt.timedelta(days=rules.LOOKBACK_DAYS)
    return _pause_states([patient.pk], {patient.pk: settings.resumed_at}, since_date)[patient.pk]


def due_reminders(now: dt.datetime) -> list[Due]:
    """Every reminder due at ``now`` that is not yet claimed (or failed and may be retried)."""
    candidates: list[tuple[ReminderSettings, dt.date]] = []
    rows = ReminderSettings.objects.filter(
        remind_at__isnull=False, patient__role=Role.PATIENT, patient__is_active=True
    ).select_related("patient")
    for row in rows:
        if not (row.daily or row.titration) or row.remind_at is None:
            continue
        local = rules.local_now(now, row.patient.tzinfo)
        if rules.is_due(local, row.remind_at):
            candidates.append((row, local.date()))
    if not candidates:
        return []
    ids = [row.patient_id for row, _ in candidates]
    dates = {d for _, d in candidates}
    earliest = min(dates) - dt.timedelta(days=rules.LOOKBACK_DAYS)
    with_push = set(
        PushSubscription.objects.filter(patient_id__in=ids).values_list("patient_id", flat=True)
    )
    reachable = [
        (row, d) for row, d in candidates if row.patient.email or row.patient_id in with_push
    ]
    if not reachable:
        return []
    ids = [row.patient_id for row, _ in reachable]
    logged = set(
        DiaryEntry.objects.filter(patient_id__in=ids, date__in=dates).values_list(
            "patient_id", "date"
        )
    )
    existing = {
        (pid, day, kind): (status, attempts)
        for pid, day, kind, status, attempts in Reminder.objects.filter(
            patient_id__in=ids, local_date__in=dates
        ).values_list("patient_id", "local_date", "kind", "status", "attempts")
    }
    pauses = _pause_states(ids, {row.patient_id: row.resumed_at for row, _ in reachable}, earliest)
    titrating = [row.patient_id for row, _ in reachable if row.titration]
    plans = {p.patient_id: p for p in TitrationPlan.objects.filter(patient_id__in=titrating)}
    timelines: dict[int, list[DoseChange]] = defaultdict(list)
    for change in DoseChange.objects.filter(patient_id__in=list(plans)).order_by(
        "patient_id", "effective_date"
    ):
        timelines[change.patient_id].append(change)

    due: list[Due] = []

    def add(pid: int, day: dt.date, kind: str, dose_ug: int | None = None) -> None:
        state = existing.get((pid, day, kind))
        if state is None:
            due.append(Due(pid, day, kind, dose_ug))
        elif state[0] == ReminderStatus.FAILED and state[1] < rules.MAX_ATTEMPTS:
            due.append(Due(pid, day, kind, dose_ug, retry=True))

    for row, day in reachable:
        pid = row.patient_id
        pause = pauses[pid]
        if pause.paused:
            # One last message per pause (its date is the day the pause began), then silence.
            if row.daily and (pause.stopped_on is None or pause.stopped_on == day):
                add(pid, day, ReminderKind.STOPPED)
            continue
        if row.daily and (pid, day) not in logged:
            add(pid, day, ReminderKind.DAILY)
        plan = plans.get(pid)
        if row.titration and plan is not None:
            current = dose_at(timelines[pid], day)
            status = titration_status(plan, current, day)
            if status is not None and rules.titration_step_due(
                next_ug=status.next_ug, due=status.due, has_dose=current is not None, today=day
            ):
                add(pid, day, ReminderKind.TITRATION, status.next_ug)
    return due


def profile_card(patient: User) -> dict[str, object]:
    """The reminders card on the profile page: on or off, at what time, paused or not."""
    row = settings_for(patient)
    enabled = row is not None and row.enabled
    return {
        "reminder_card": {
            "settings": row,
            "enabled": enabled,
            "paused": enabled and row is not None and pause_state(patient, row).paused,
            "devices": push_devices(patient).count(),
        }
    }
