"""Reads for the clinic, returning data: the clinician's door to patients, consent lists, and the
facts the roster and the dashboard are built from (``presentation.py`` builds them).

A clinician reaches patients only through ``patients_of`` and ``get_patient_for_clinician``,
which read the patient's consent (a live ``CareLink``) on every request; nothing else here
widens access. The door also records the read in the audit trail, so no clinician page can
show a patient's data without a row saying so. The roster reads every column with one query per concern for all patients at
once, never one per patient, so its query count is the same for 1 or 500 patients (pinned in
tests/clinic/test_queries.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid as uuid_mod
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, Role, User
from ldn_diary.clinical.constants import ENGINE_VERSION
from ldn_diary.diary.choices import DOSE_ANSWERS, TreatmentCategory
from ldn_diary.diary.models import (
    DiaryEntry,
    DoseChange,
    DoseTaken,
    LifeEvent,
    TitrationPlan,
    Treatment,
)
from ldn_diary.questionnaires.selectors import completed_for
from ldn_diary.questionnaires.summary import QuestionnaireSummary, summarise
from ldn_diary.trends.models import ResponseSummary, TrendState
from ldn_diary.trends.selectors import (
    TrendSummary,
    latest_trend_days,
    summary_status,
    trend_days_for,
    trend_summary_for,
    week_pain_classes,
)

from . import rules
from .models import CareLink, ClinicianNote, ConsentEvent, FollowUp, Invite

# --- The clinician's door -------------------------------------------------------------------------


def _uuid_or_404(value: uuid_mod.UUID | str, what: str) -> uuid_mod.UUID:
    try:
        return uuid_mod.UUID(str(value))
    except ValueError as exc:
        raise Http404(f"No such {what}.") from exc


def patients_of(clinician: User) -> QuerySet[User]:
    """Active patients who have linked ``clinician`` and not revoked it."""
    if not (clinician.is_authenticated and clinician.role == Role.CLINICIAN):
        return User.objects.none()
    return User.objects.filter(
        role=Role.PATIENT,
        is_active=True,
        care_links__clinician=clinician,
        care_links__revoked_at__isnull=True,
    ).distinct()


def get_patient_for_clinician(
    clinician: User, patient_uuid: uuid_mod.UUID | str, *, action: AuditAction | None
) -> User:
    """The patient named in a URL, if linked to ``clinician`` right now; else 404.

    Missing, not linked and revoked a moment ago all give the same 404, so a URL never confirms
    that a patient exists. ``action`` is the read the page is about to make of the patient's
    data (e.g. ``AuditAction.CLINIC_DASHBOARD``), recorded in the audit trail once access is
    granted; a page that only writes passes None, and its service records the write.
    """
    key = _uuid_or_404(patient_uuid, "patient")
    patient = patients_of(clinician).filter(uuid=key).first()
    if patient is None:
        raise Http404("No such patient.")
    if action is not None:
        audit.record(actor=clinician, patient=patient, action=action, obj=patient)
    return patient


# --- Consent (the patient's side) -----------------------------------------------------------------


def active_links_for_patient(patient: User) -> QuerySet[CareLink]:
    return (
        CareLink.objects.filter(patient=patient, revoked_at__isnull=True)
        .select_related("clinician")
        .order_by("created_at")
    )


def open_invites_for_patient(patient: User, now: dt.datetime | None = None) -> QuerySet[Invite]:
    now = now or timezone.now()
    return Invite.objects.filter(
        patient=patient, used_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
    ).order_by("-created_at")


def get_invite_for_patient(patient: User, invite_uuid: uuid_mod.UUID | str) -> Invite:
    """One of the patient's own invites; another patient's, or none, is the same 404."""
    key = _uuid_or_404(invite_uuid, "invite")
    invite = Invite.objects.filter(patient=patient, uuid=key).first()
    if invite is None:
        raise Http404("No such invite.")
    return invite


def get_link_for_patient(patient: User, link_uuid: uuid_mod.UUID | str) -> CareLink:
    """One of the patient's own care links; another patient's, or none, is the same 404."""
    key = _uuid_or_404(link_uuid, "link")
    link = CareLink.objects.filter(patient=patient, uuid=key).select_related("clinician").first()
    if link is None:
        raise Http404("No such link.")
    return link


def consent_history_for_patient(patient: User, limit: int | None = 20) -> list[ConsentEvent]:
    """Newest first; ``limit=None`` for all of it (the patient's data export)."""
    events = (
        ConsentEvent.objects.filter(patient=patient)
        .select_related("clinician", "invite")
        .order_by("-at")
    )
    return list(events if limit is None else events[:limit])


def consent_context(patient: User) -> dict[str, Any]:
    """What the consent section of the patient's profile page shows (core.views.profile)."""
    return {
        "care_links": list(active_links_for_patient(patient)),
        "open_invites": list(open_invites_for_patient(patient)),
        "consent_events": consent_history_for_patient(patient),
    }


# --- The clinician's own records about a patient --------------------------------------------------


def notes_for(clinician: User, patient: User) -> list[ClinicianNote]:
    """The clinician's own notes on the patient, newest first; never another clinician's."""
    return list(
        ClinicianNote.objects.filter(clinician=clinician, patient=patient).order_by("-created_at")
    )


def followup_for(clinician: User, patient: User) -> dt.date | None:
    return (
        FollowUp.objects.filter(clinician=clinician, patient=patient)
        .values_list("due_on", flat=True)
        .first()
    )


# --- Entry statistics: the one query behind logging and adherence ---------------------------------


@dataclass(frozen=True)
class EntryStats:
    """Counts over a patient's entries relative to ``today`` (docs/clinical-rules.md §6)."""

    last_entry: dt.date | None
    logged_14: int  # entries in the ADHERENCE_DAYS full days before today
    answered_14: int  # ... of those, days with LDN where the patient said whether they took it
    taken_yes: int  # ... of those, the dose taken
    taken_partly: int  # ... of those, partly taken
    logged_21: int  # entries in the last PERSIST_DAYS days, today included

    @property
    def dose_adherence(self) -> float | None:
        """Days without LDN ("not applicable") never count as missed (§3)."""
        return rules.dose_adherence(self.taken_yes, self.taken_partly, self.answered_14)


NO_ENTRIES = EntryStats(None, 0, 0, 0, 0, 0)


def entry_stats(patient_ids: list[int], today: dt.date) -> dict[int, EntryStats]:
    """Each patient's ``EntryStats`` in one grouped query (roster and dashboard alike)."""
    adh_start, adh_end = rules.adherence_window(today)
    persist_start = today - dt.timedelta(days=rules.PERSIST_DAYS - 1)
    in_adherence = Q(date__gte=adh_start, date__lte=adh_end)
    counts = (
        DiaryEntry.objects.filter(patient_id__in=patient_ids)
        .values("patient_id")
        .annotate(
            last=Max("date"),
            logged=Count("pk", filter=in_adherence),
            answered=Count("pk", filter=in_adherence & Q(dose_taken__in=DOSE_ANSWERS)),
            yes=Count("pk", filter=in_adherence & Q(dose_taken=DoseTaken.YES)),
            partly=Count("pk", filter=in_adherence & Q(dose_taken=DoseTaken.PARTLY)),
            logged_21=Count("pk", filter=Q(date__gte=persist_start, date__lte=today)),
        )
        .order_by()
    )
    return {
        c["patient_id"]: EntryStats(
            c["last"], c["logged"], c["answered"], c["yes"], c["partly"], c["logged_21"]
        )
        for c in counts
    }


# --- The roster's facts ---------------------------------------------------------------------------


@dataclass
class RosterFacts:
    """Everything the roster shows about one patient, as stored; ``presentation`` reads it."""

    pk: int
    uuid: uuid_mod.UUID
    display_name: str
    username: str
    full_name: str = ""  # first and last name, for the roster's search
    doses: list[tuple[dt.date, int]] = field(default_factory=list)
    plan: TitrationPlan | None = None
    stats: EntryStats = NO_ENTRIES
    side_effect_reports: list[tuple[dt.date, list[str]]] = field(default_factory=list)
    trend_date: dt.date | None = None
    pain_r7: float | None = None
    pain_pct: float | None = None
    summary: dict[str, Any] | None = None  # the head of the stored summary, see summary_heads
    last_note_at: dt.datetime | None = None
    followup: dt.date | None = None
    # Opioids not stopped before today: (name, start, stop), for the "opioid + LDN" flag.
    opioids: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)


def roster_version(clinician: User, today: dt.date) -> tuple[str, int]:
    """A key that changes whenever anything the roster shows may have changed; and the count.

    It sums, over the patients visible to the clinician (``patients_of``, the same door as the
    roster itself), their ids and their trend states' versions (a diary write bumps
    ``data_version``, a recompute ``computed_version``; a link made or revoked changes the count
    and the id sum), and adds the clinician's notes and follow-up dates. ``today`` is part of the
    key because flags and "days ago" are relative to it. Not covered: a patient renaming
    themselves, which shows once the cached roster expires.

    One hand-written query around the ORM's own SQL for the visible patients: this runs on every
    roster request, and three ORM aggregates cost more Python than the rest of a cached request.
    """
    visible_sql, visible_params = patients_of(clinician).values("pk").query.sql_with_params()
    qn = connection.ops.quote_name
    user, state = qn(User._meta.db_table), qn(TrendState._meta.db_table)
    note, followup = qn(ClinicianNote._meta.db_table), qn(FollowUp._meta.db_table)
    sql = (
        f"SELECT COUNT(*), SUM(u.id), SUM(s.data_version), SUM(s.computed_version), "  # noqa: S608 - names from _meta, values as parameters
        f"(SELECT COUNT(*) FROM {note} WHERE clinician_id = %s), "
        f"(SELECT MAX(created_at) FROM {note} WHERE clinician_id = %s), "
        f"(SELECT COUNT(*) FROM {followup} WHERE clinician_id = %s), "
        f"(SELECT SUM(id) FROM {followup} WHERE clinician_id = %s), "
        f"(SELECT MAX(updated_at) FROM {followup} WHERE clinician_id = %s) "
        f"FROM {user} u LEFT JOIN {state} s ON s.patient_id = u.id "
        f"WHERE u.id IN ({visible_sql})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*[clinician.pk] * 5, *visible_params])
        row = cursor.fetchone()
    raw = repr((ENGINE_VERSION, today, row))
    digest = hashlib.sha256(raw.encode()).hexdigest()[:24]
    return f"clinic:roster:{clinician.pk}:{digest}", row[0]


def roster_facts(clinician: User, today: dt.date) -> list[RosterFacts]:
    """The facts of every patient linked to ``clinician``: one query per concern for all."""
    facts = {
        pk: RosterFacts(
            pk=pk,
            uuid=uuid,
            display_name=display,
            username=username,
            full_name=f"{first} {last}".strip(),
        )
        for pk, uuid, display, username, first, last in patients_of(clinician).values_list(
            "pk", "uuid", "display_name", "username", "first_name", "last_name"
        )
    }
    if not facts:
        return []
    ids = list(facts)
    for pid, date, dose_ug in (
        DoseChange.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "effective_date")
        .values_list("patient_id", "effective_date", "dose_ug")
    ):
        facts[pid].doses.append((date, dose_ug))
    for plan in TitrationPlan.objects.filter(patient_id__in=ids):
        facts[plan.patient_id].plan = plan
    for pid, stats in entry_stats(ids, today).items():
        facts[pid].stats = stats
    # Side effects of the last 4 weeks: only entries that report any (a small share of rows).
    persist_start = today - dt.timedelta(days=rules.PERSIST_DAYS - 1)
    onset_start = persist_start - dt.timedelta(days=rules.PERSIST_ONSET_DAYS)
    for pid, date, codes in (
        DiaryEntry.objects.filter(patient_id__in=ids, date__gte=onset_start, date__lte=today)
        .exclude(side_effects=[])
        .values_list("patient_id", "date", "side_effects")
    ):
        facts[pid].side_effect_reports.append((date, codes))
    for pid, day in latest_trend_days(ids).items():
        f = facts[pid]
        f.trend_date, f.pain_r7, f.pain_pct = day.date, day.pain_r7, day.pain_pct
    for pid, head in summary_heads(ids).items():
        facts[pid].summary = head
    for pid, last in (
        ClinicianNote.objects.filter(clinician=clinician, patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("created_at"))
        .order_by()
        .values_list("patient_id", "last")
    ):
        facts[pid].last_note_at = last
    for pid, due_on in FollowUp.objects.filter(clinician=clinician, patient_id__in=ids).values_list(
        "patient_id", "due_on"
    ):
        facts[pid].followup = due_on
    for pid, name, start, stop in (
        Treatment.objects.filter(
            Q(stop_date__isnull=True) | Q(stop_date__gte=today),
            patient_id__in=ids,
            category=TreatmentCategory.OPIOID,
            start_date__lte=today,
        )
        .order_by("patient_id", "name")
        .values_list("patient_id", "name", "start_date", "stop_date")
    ):
        facts[pid].opioids.append((name, start, stop))
    return list(facts.values())


def summary_heads(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The few summary fields the roster shows: a few typed columns of each stored summary
    (the arrays of its intervals, Tau-U and the rest stay on disk)."""
    rows = ResponseSummary.objects.filter(patient_id__in=ids).values_list(
        "patient_id",
        "data_version",
        "engine_version",
        "therapy_start",
        "baseline_valid",
        "assessed",
        "window_week",
        "symptom_class",
    )
    states = {
        pid: (version, queued_at)
        for pid, version, queued_at in TrendState.objects.filter(patient_id__in=ids).values_list(
            "patient_id", "data_version", "queued_at"
        )
    }
    heads = {}
    for pid, version, engine, therapy_start, baseline_valid, assessed, weeks, classes in rows:
        latest_version, queued_at = states.get(pid, (0, None))
        week_list = [] if weeks is None else weeks.tolist()  # None: a placeholder row
        heads[pid] = {
            "therapy_start": None if therapy_start is None else therapy_start.isoformat(),
            "baseline_valid": baseline_valid,
            "assessed_window": (
                f"week_{week_list[assessed]}" if 0 <= assessed < len(week_list) else None
            ),
            "classes": {
                f"week_{week}": pain_class
                for week, pain_class in week_pain_classes(weeks, classes).items()
            },
            "status": summary_status(
                summary_version=version,
                engine_version=engine,
                latest_version=latest_version,
                queued_at=queued_at,
            ),
        }
    return heads


# --- One patient's facts, for the dashboard and the brief -----------------------------------------

# The entry columns the dashboard reads, in this order (presentation.EntryRow follows it).
ENTRY_COLUMNS = (
    "date",
    "pain",
    "fatigue",
    "sleep",
    "mood",
    "dreams",
    "side_effects",
    "dose_taken",
    "backfilled",
    "updated_at",
)
TREND_COLUMNS = ("date", "pain_r7", "fatigue_r7", "sleep_r7", "mood_r7", "pain_pct")
TREATMENT_COLUMNS = ("name", "category", "start_date", "stop_date", "note")
EVENT_COLUMNS = ("date", "kind", "text")


@dataclass
class PatientFacts:
    """One patient's stored data for the dashboard (what ``presentation.patient_core`` reads)."""

    entries: list[tuple[Any, ...]]  # ENTRY_COLUMNS, oldest first
    doses: list[tuple[dt.date, int]]
    plan: TitrationPlan | None
    trend_days: list[tuple[Any, ...]]  # TREND_COLUMNS, oldest first
    stats: EntryStats
    treatments: list[tuple[Any, ...]]  # TREATMENT_COLUMNS, oldest start first
    events: list[tuple[Any, ...]]  # EVENT_COLUMNS, oldest first


def patient_facts(patient: User, today: dt.date) -> PatientFacts:
    """Seven queries: entries, doses, plan, stored trend rows, entry statistics, other
    treatments, flares and life events. All of it changes only with a diary write, which bumps
    the version the dashboard's cache key holds (presentation.patient_dashboard)."""
    return PatientFacts(
        entries=list(
            DiaryEntry.objects.filter(patient=patient).order_by("date").values_list(*ENTRY_COLUMNS)
        ),
        doses=list(
            DoseChange.objects.filter(patient=patient)
            .order_by("effective_date")
            .values_list("effective_date", "dose_ug")
        ),
        plan=TitrationPlan.objects.filter(patient=patient).first(),
        trend_days=[
            tuple(getattr(day, name) for name in TREND_COLUMNS) for day in trend_days_for(patient)
        ],
        stats=entry_stats([patient.pk], today).get(patient.pk, NO_ENTRIES),
        treatments=list(
            Treatment.objects.filter(patient=patient)
            .order_by("start_date", "name")
            .values_list(*TREATMENT_COLUMNS)
        ),
        events=list(
            LifeEvent.objects.filter(patient=patient)
            .order_by("date", "created_at")
            .values_list(*EVENT_COLUMNS)
        ),
    )


def questionnaire_summary(patient: User) -> QuestionnaireSummary:
    """The patient's finished questionnaires, scored (one query). Read on every request rather
    than cached with the diary facts: a questionnaire is not a diary write, so it does not bump
    the version the dashboard's cache is keyed on."""
    return summarise(completed_for(patient))


def trend_summary(patient: User) -> TrendSummary:
    return trend_summary_for(patient)
