"""Reads for the clinic: the clinician's door to patients, consent lists, roster and dashboard data.

A clinician reaches patients only through ``patients_of`` and ``get_patient_for_clinician``,
which read the patient's consent (a live ``CareLink``) on every request; nothing else here
widens access. The roster reads every column with one query per concern for all patients at
once, never one per patient, so its query count is the same for 1 or 500 patients (pinned in
tests/clinic/test_queries.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid as uuid_mod
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.fields.json import KT
from django.http import Http404
from django.utils import timezone

from ldn_diary.accounts.models import Role, User
from ldn_diary.clinical.constants import ENGINE_VERSION, SYMPTOMS, WEEK_WINDOWS
from ldn_diary.diary.dosing import format_mg
from ldn_diary.diary.models import DiaryEntry, DoseChange, DoseTaken, SideEffect, TitrationPlan
from ldn_diary.diary.selectors import titration_status
from ldn_diary.trends.models import ResponseSummary, TrendState
from ldn_diary.trends.selectors import (
    latest_trend_days,
    summary_status,
    trend_days_for,
    trend_summary_for,
)

from . import charts, rules
from . import summary as words
from .models import CareLink, ClinicianNote, ConsentEvent, FollowUp, Invite

SIDE_EFFECT_LABELS = dict(SideEffect.choices)
# Computed roster rows, rendered roster tables and dashboard figures are cached under keys that
# change with the data (roster_version, figure_cache_key); this bounds only what the keys do not
# see (a patient's new display name).
ROSTER_CACHE_SECONDS = 300
# The brief has room for this many dose phases (the latest ones); it says how many it left out.
BRIEF_MAX_PHASES = 5

# --- The clinician's door -------------------------------------------------------------------------


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


def get_patient_for_clinician(clinician: User, patient_uuid: uuid_mod.UUID | str) -> User:
    """The patient named in a URL, if linked to ``clinician`` right now; else 404.

    Missing, not linked and revoked a moment ago all give the same 404, so a URL never confirms
    that a patient exists.
    """
    try:
        key = uuid_mod.UUID(str(patient_uuid))
    except ValueError as exc:
        raise Http404("No such patient.") from exc
    patient = patients_of(clinician).filter(uuid=key).first()
    if patient is None:
        raise Http404("No such patient.")
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


def consent_context(patient: User) -> dict[str, Any]:
    """What the consent section of the patient's profile page shows (accounts.views.profile)."""
    return {
        "care_links": list(active_links_for_patient(patient)),
        "open_invites": list(open_invites_for_patient(patient)),
        "consent_events": consent_history_for_patient(patient),
    }


def notes_for(clinician: User, patient: User) -> list[ClinicianNote]:
    """The clinician's own notes on the patient, newest first; never another clinician's."""
    return list(
        ClinicianNote.objects.filter(clinician=clinician, patient=patient).order_by("-created_at")
    )


def consent_history_for_patient(patient: User, limit: int = 20) -> list[ConsentEvent]:
    return list(
        ConsentEvent.objects.filter(patient=patient)
        .select_related("clinician", "invite")
        .order_by("-at")[:limit]
    )


# --- Roster ---------------------------------------------------------------------------------------

RESPONSE_LABELS = {
    "substantial": "Substantial",
    "moderate": "Moderate",
    "minimal": "Minimal",
    "none": "None",
    "no_baseline": "No valid baseline",
    "too_early": "Too early",
    "no_therapy": "No LDN yet",
    "missing": "Not computed",
}
# Badge colour per response class (app.css .badge.ok/.warn/.bad).
RESPONSE_TONES = {"substantial": "ok", "moderate": "ok", "minimal": "warn", "none": "bad"}

SORTS = {
    # key: (label, default descending?)
    "name": ("Patient", False),
    "last_entry": ("Last entry", False),
    "pain": ("Pain change", False),
    "adherence": ("Logging", False),
    "flags": ("Flags", True),
}
DEFAULT_SORT = "-flags"


@dataclass
class RosterRow:
    pk: int
    uuid: Any
    name: str
    today: dt.date
    therapy_start: dt.date | None = None
    dose_ug: int | None = None
    dose_since: dt.date | None = None
    next_ug: int | None = None
    next_due: dt.date | None = None
    at_target: bool = False
    last_entry: dt.date | None = None
    logged_14: int = 0
    dose_adherence: float | None = None
    pain_r7: float | None = None
    pain_pct: float | None = None
    trend_date: dt.date | None = None
    response: str = "missing"
    response_window: str | None = None
    trends_status: str = "missing"
    followup: dt.date | None = None
    flags: list[rules.Flag] = field(default_factory=list)
    search_text: str = ""

    @property
    def therapy_days(self) -> int | None:
        return None if self.therapy_start is None else (self.today - self.therapy_start).days

    @property
    def therapy_weeks(self) -> int | None:
        days = self.therapy_days
        return None if days is None or days < 0 else days // 7

    @property
    def days_at_dose(self) -> int | None:
        return None if self.dose_since is None else (self.today - self.dose_since).days

    @property
    def days_since_entry(self) -> int | None:
        return None if self.last_entry is None else (self.today - self.last_entry).days

    @property
    def logging_share(self) -> float:
        return self.logged_14 / rules.ADHERENCE_DAYS

    @property
    def response_label(self) -> str:
        return RESPONSE_LABELS[self.response]

    @property
    def response_tone(self) -> str:
        return RESPONSE_TONES.get(self.response, "")

    @property
    def flag_codes(self) -> set[str]:
        return {f.code for f in self.flags}


@dataclass
class Roster:
    rows: list[RosterRow]
    total: int  # linked patients before filtering
    today: dt.date
    flag_counts: dict[str, int]


def _response_of(summary: dict[str, Any] | None) -> tuple[str, str | None]:
    if summary is None:
        return "missing", None
    if summary["therapy_start"] is None:
        return "no_therapy", None
    if not summary["baseline_valid"]:
        return "no_baseline", None
    label = summary["assessed_window"]
    if not label:
        return "too_early", None
    return summary["classes"].get(label) or "too_early", label


def roster_version(clinician: User, today: dt.date) -> tuple[str, int]:
    """A key that changes whenever anything the roster shows may have changed; and the count.

    It sums, over the patients visible to the clinician (``patients_of``, the same door
    as the roster itself), their ids and their trend states' versions (a diary write bumps
    ``data_version``, a recompute ``computed_version``; a link made or revoked changes the count
    and the id sum), and adds the clinician's notes and follow-up dates. ``today`` is part of the
    key because flags and "days ago" are relative to it. Not covered: a patient renaming
    themselves, which shows after ROSTER_CACHE_SECONDS at most.

    One hand-written query around the ORM's own SQL for the visible patients: this runs on every
    roster request, and three ORM aggregates cost more Python than the rest of a cached request.
    """
    visible_sql, visible_params = (
        patients_of(clinician).values("pk").query.sql_with_params()
    )
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


def roster_rows(
    clinician: User,
    *,
    today: dt.date | None = None,
    search: str = "",
    flag: str = "",
    response: str = "",
    sort: str = DEFAULT_SORT,
    cache_key: str | None = None,
) -> Roster:
    """Every patient linked to ``clinician``, with the roster's numbers and flags.

    "Today" is the clinician's local date: one reference day for the whole list, so the
    columns compare like with like (patients a time zone away differ by at most a day).
    Ten queries whatever the number of patients; each one reads one concern for all of them.
    With ``cache_key`` (from ``roster_version``) the computed rows are kept in the cache, so
    re-sorting or filtering an unchanged roster costs no query at all.
    """
    today = today or clinician.local_today()
    all_rows = cache.get(cache_key) if cache_key else None
    if all_rows is None:
        all_rows = _all_rows(clinician, today)
        if cache_key:
            cache.set(cache_key, all_rows, ROSTER_CACHE_SECONDS)
    term = search.strip().lower()
    rows = [r for r in all_rows if not term or term in r.search_text]
    flag_counts = dict.fromkeys(rules.FLAG_ORDER, 0)
    for row in rows:
        for f in row.flags:
            flag_counts[f.code] += 1
    selected = [
        r
        for r in rows
        if (not flag or flag in r.flag_codes) and (not response or r.response == response)
    ]
    return Roster(
        rows=_sorted(selected, sort), total=len(all_rows), today=today, flag_counts=flag_counts
    )


def _all_rows(clinician: User, today: dt.date) -> list[RosterRow]:
    patients = patients_of(clinician).values_list("pk", "uuid", "display_name", "username")
    rows = {
        pk: RosterRow(
            pk=pk,
            uuid=uuid,
            name=display or username,
            today=today,
            search_text=f"{display} {username}".lower(),
        )
        for pk, uuid, display, username in patients
    }
    if rows:
        _fill(rows, list(rows), clinician, today)
    return list(rows.values())


def _fill(rows: dict[int, RosterRow], ids: list[int], clinician: User, today: dt.date) -> None:
    """Fill the rows' columns: one query per concern, for all patients at once."""
    # Dose history (a handful of rows per patient): therapy start, current dose, next step.
    doses: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for pid, date, dose_ug in (
        DoseChange.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "effective_date")
        .values_list("patient_id", "effective_date", "dose_ug")
    ):
        doses[pid].append((date, dose_ug))
    plans = {p.patient_id: p for p in TitrationPlan.objects.filter(patient_id__in=ids)}

    # Entries: last date and the 14-day counts in one grouped, conditionally aggregated query.
    adh_start = today - dt.timedelta(days=rules.ADHERENCE_DAYS)
    adh_end = today - dt.timedelta(days=1)
    persist_start = today - dt.timedelta(days=rules.PERSIST_DAYS - 1)
    in_adherence = Q(date__gte=adh_start, date__lte=adh_end)
    counts = (
        DiaryEntry.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(
            last=Max("date"),
            logged=Count("pk", filter=in_adherence),
            yes=Count("pk", filter=in_adherence & Q(dose_taken=DoseTaken.YES)),
            partly=Count("pk", filter=in_adherence & Q(dose_taken=DoseTaken.PARTLY)),
            logged_21=Count("pk", filter=Q(date__gte=persist_start, date__lte=today)),
        )
        .order_by()
    )
    entry_counts = {c["patient_id"]: c for c in counts}

    # Side effects of the last 4 weeks: only entries that report any (a small share of rows).
    onset_start = persist_start - dt.timedelta(days=rules.PERSIST_ONSET_DAYS)
    reports: dict[int, list[tuple[dt.date, list[str]]]] = defaultdict(list)
    for pid, date, codes in (
        DiaryEntry.objects.filter(patient_id__in=ids, date__gte=onset_start, date__lte=today)
        .exclude(side_effects=[])
        .values_list("patient_id", "date", "side_effects")
    ):
        reports[pid].append((date, codes))

    latest = latest_trend_days(ids)
    summaries = _summary_heads(ids)
    last_notes = dict(
        ClinicianNote.objects.filter(clinician=clinician, patient_id__in=ids)
        .values("patient_id")
        .annotate(last=Max("created_at"))
        .order_by()
        .values_list("patient_id", "last")
    )
    followups = dict(
        FollowUp.objects.filter(clinician=clinician, patient_id__in=ids).values_list(
            "patient_id", "due_on"
        )
    )
    tz = clinician.tzinfo

    for pid, row in rows.items():
        history = doses.get(pid, [])
        row.therapy_start = rules.therapy_start_of(history)
        current = rules.current_dose(history, today)
        if current is not None:
            row.dose_since, row.dose_ug = current
            in_force = DoseChange(effective_date=current[0], dose_ug=current[1])
        else:
            in_force = None
        status = titration_status(plans.get(pid), in_force, today)
        if status is not None:
            row.next_ug, row.next_due = status.next_ug, status.due
            row.at_target = status.reached_target
        c = entry_counts.get(pid)
        if c is not None:
            row.last_entry = c["last"]
            row.logged_14 = c["logged"]
            row.dose_adherence = rules.dose_adherence(c["yes"], c["partly"], c["logged"])
        day = latest.get(pid)
        if day is not None:
            row.pain_r7, row.pain_pct, row.trend_date = day.pain_r7, day.pain_pct, day.date
        head = summaries.get(pid)
        row.response, row.response_window = _response_of(head)
        row.trends_status = head["status"] if head else "missing"
        row.followup = followups.get(pid)

        note_at = last_notes.get(pid)
        note_on = timezone.localtime(note_at, tz).date() if note_at else None
        persistent = rules.persistent_side_effects(
            reports.get(pid, ()), c["logged_21"] if c else 0, today
        )
        candidates = (
            rules.worsening_flag(row.pain_pct),
            rules.side_effect_flag(persistent, SIDE_EFFECT_LABELS),
            rules.silent_flag(row.last_entry, today),
            rules.review_flag(rules.review_due(row.therapy_start, note_on, today)),
        )
        row.flags = [f for f in candidates if f is not None]


def _summary_heads(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The few summary fields the roster shows, read out of the JSON by the database.

    A full summary is several kilobytes (phases, CIs, Tau-U for four symptoms); 500 of them
    parsed in Python would dominate the request, so only these keys travel.
    """
    class_keys = {f"class_{i}": KT(f"data__windows__{i}__symptoms__pain__class") for i in range(3)}
    rows = (
        ResponseSummary.objects.filter(patient_id__in=ids)
        .annotate(
            therapy_start=KT("data__therapy_start"),
            baseline_valid=KT("data__baseline__valid"),
            assessed_window=KT("data__assessed_window"),
            **class_keys,
        )
        .values(
            "patient_id",
            "data_version",
            "engine_version",
            "therapy_start",
            "baseline_valid",
            "assessed_window",
            *class_keys,
        )
    )
    states = {
        pid: (version, queued_at)
        for pid, version, queued_at in TrendState.objects.filter(patient_id__in=ids).values_list(
            "patient_id", "data_version", "queued_at"
        )
    }
    heads = {}
    for r in rows:
        latest_version, queued_at = states.get(r["patient_id"], (0, None))
        heads[r["patient_id"]] = {
            "therapy_start": r["therapy_start"],
            # KT yields text: "true" on PostgreSQL, "1" on SQLite.
            "baseline_valid": str(r["baseline_valid"]).lower() in ("true", "1"),
            "assessed_window": r["assessed_window"],
            "classes": {f"week_{w}": r[f"class_{i}"] for i, w in enumerate(WEEK_WINDOWS)},
            "status": summary_status(
                summary_version=r["data_version"],
                engine_version=r["engine_version"],
                latest_version=latest_version,
                queued_at=queued_at,
            ),
        }
    return heads


def _sorted(rows: list[RosterRow], sort: str) -> list[RosterRow]:
    """Sort by a SORTS key; "-key" reverses. Missing values always go last, names break ties."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        key, descending = "flags", True
    by_name = sorted(rows, key=lambda r: r.name.lower())
    if key == "name":
        return list(reversed(by_name)) if descending else by_name

    def value(r: RosterRow) -> Any:
        if key == "last_entry":
            return r.last_entry
        if key == "pain":
            return r.pain_pct
        if key == "adherence":
            return r.logged_14
        # Flags: by how many, then by the most severe one.
        severity = min((rules.FLAG_ORDER.index(f.code) for f in r.flags), default=99)
        return (len(r.flags), -severity)

    present = [r for r in by_name if value(r) is not None]
    missing = [r for r in by_name if value(r) is None]
    present.sort(key=value, reverse=descending)  # stable: names stay in order within ties
    return present + missing


def windows_of(summary: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
    return (summary or {}).get("windows", [])


# --- One patient's dashboard and brief -------------------------------------------------------------


@dataclass
class SymptomCell:
    """One symptom's numbers in a phase or window row of the tables."""

    mean: float | None
    change_pct: float | None
    cls: str | None
    reliable: bool | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class ResultRow:
    label: str
    start: dt.date | None
    end: dt.date | None
    days_logged: int
    days_total: int
    valid: bool
    pain: SymptomCell
    others: dict[str, SymptomCell]
    note: str = ""


@dataclass
class PatientCore:
    """The part of a dashboard that depends only on the patient's data (cached)."""

    figure: dict[str, Any]
    latest_pct: float | None
    changed: int  # entries written after the stored results were computed
    therapy_start: dt.date | None
    dose_ug: int | None
    dose_since: dt.date | None
    next_ug: int | None
    next_due: dt.date | None
    at_target: bool
    entries: int
    backfilled: int
    last_entry: dt.date | None
    logged_14: int
    dose_adherence_14: float | None
    logged_since_start: int
    days_since_start: int
    side_effects: list[tuple[str, int, int]]  # (label, days in last 21, days in all)
    persistent_codes: list[tuple[str, int]]
    persistent: list[str]


@dataclass
class Dashboard:
    patient: User
    today: dt.date
    trend: Any  # trends.selectors.TrendSummary
    status_text: str | None
    core: PatientCore
    phases: list[ResultRow]
    windows: list[ResultRow]
    headline: str
    details: list[str]
    caveats: list[str]
    notes: list[ClinicianNote]
    followup: dt.date | None
    flags: list[rules.Flag]
    cache_key: str

    def __getattr__(self, name: str) -> Any:
        # Templates read dash.dose_ug etc.; those live on the cached core.
        if name != "core" and "core" in self.__dict__:
            return getattr(self.__dict__["core"], name)
        raise AttributeError(name)

    @property
    def therapy_day(self) -> int | None:
        start = self.core.therapy_start
        return None if start is None else (self.today - start).days

    @property
    def therapy_week(self) -> int | None:
        """Full weeks on therapy (day 0-6 is week 0), as on the roster."""
        day = self.therapy_day
        return None if day is None or day < 0 else day // 7

    @property
    def logging_share(self) -> float:
        return self.core.logged_14 / rules.ADHERENCE_DAYS

    @property
    def logging_since_start_share(self) -> float | None:
        if not self.core.days_since_start:
            return None
        return self.core.logged_since_start / self.core.days_since_start

    @property
    def days_at_dose(self) -> int | None:
        since = self.core.dose_since
        return None if since is None else (self.today - since).days


def _cell(symptoms: dict[str, Any], name: str) -> SymptomCell:
    s = symptoms.get(name) or {}
    return SymptomCell(
        mean=s.get("mean"),
        change_pct=s.get("change_pct"),
        cls=s.get("class"),
        reliable=s.get("reliable"),
        ci_low=s.get("ci_low"),
        ci_high=s.get("ci_high"),
    )


def _window_len(phase: dict[str, Any]) -> int:
    if not phase.get("window_start"):
        return 0
    start = words.parse_date(phase["window_start"])
    return (words.parse_date(phase["window_end"]) - start).days + 1


def _result_rows(summary: dict[str, Any] | None) -> tuple[list[ResultRow], list[ResultRow]]:
    if not summary:
        return [], []
    phases = []
    for p in summary.get("phases", []):
        phases.append(
            ResultRow(
                label=f"{format_mg(p['dose_ug'])} mg",
                start=words.parse_date(p["start"]),
                end=words.parse_date(p["end"]),
                days_logged=p["days_logged"],
                days_total=_window_len(p),
                valid=p["valid"],
                pain=_cell(p["symptoms"], "pain"),
                others={s: _cell(p["symptoms"], s) for s in SYMPTOMS[1:]},
                note=f"phase of {p['phase_days']} days",
            )
        )
    windows = []
    for w in summary.get("windows", []):
        windows.append(
            ResultRow(
                label=f"Week {w['label'].removeprefix('week_')}",
                start=words.parse_date(w["start"]),
                end=words.parse_date(w["end"]),
                days_logged=w["days_logged"],
                days_total=14,
                valid=w["valid"],
                pain=_cell(w["symptoms"], "pain"),
                others={s: _cell(w["symptoms"], s) for s in SYMPTOMS[1:]},
            )
        )
    return phases, windows


def patient_dashboard(
    clinician: User, patient: User, *, today: dt.date | None = None, compact: bool = False
) -> Dashboard:
    """Everything the dashboard (or, with ``compact``, the brief) shows. ``patient`` comes
    from ``get_patient_for_clinician``; the notes and follow-up are ``clinician``'s own only.

    What depends only on the patient's data (the figure, adherence, side effects, doses) is
    computed by ``_patient_core`` and cached under ``Dashboard.cache_key``, which changes with
    every diary write (``latest_version``), every recompute and every day; the clinician's
    notes, follow-up and review flag, and the relative "results are from ... ago", are read
    fresh on every request.
    """
    today = today or clinician.local_today()
    trend = trend_summary_for(patient)
    data = trend.data
    key = (
        f"clinic:patient:{patient.pk}:{trend.latest_version}:{trend.data_version}:"
        f"{trend.computed_at and trend.computed_at.timestamp()}:{ENGINE_VERSION}:{today}:{compact}"
    )
    core = cache.get(key)
    if core is None:
        core = _patient_core(patient, trend, today, compact)
        cache.set(key, core, ROSTER_CACHE_SECONDS)
    notes = notes_for(clinician, patient)
    followup = (
        FollowUp.objects.filter(clinician=clinician, patient=patient)
        .values_list("due_on", flat=True)
        .first()
    )
    status_text = words.status_label(trend.status, trend.computed_at, core.changed, timezone.now())
    last_note_on = (
        timezone.localtime(notes[0].created_at, clinician.tzinfo).date() if notes else None
    )
    flags = [
        f
        for f in (
            rules.worsening_flag(core.latest_pct),
            rules.side_effect_flag(core.persistent_codes, SIDE_EFFECT_LABELS),
            rules.silent_flag(core.last_entry, today),
            rules.review_flag(rules.review_due(core.therapy_start, last_note_on, today)),
        )
        if f is not None
    ]
    phases, windows = _result_rows(data)
    return Dashboard(
        patient=patient,
        today=today,
        trend=trend,
        status_text=status_text,
        core=core,
        phases=phases,
        windows=windows,
        headline=words.response_sentence(data),
        details=words.response_details(data),
        caveats=words.caveats(
            data,
            today=today,
            status_text=status_text,
            entries=core.entries,
            backfilled=core.backfilled,
            last_entry=core.last_entry,
        ),
        notes=notes,
        followup=followup,
        flags=flags,
        cache_key=key,
    )


def _patient_core(patient: User, trend: Any, today: dt.date, compact: bool) -> PatientCore:
    """The patient-derived part of the dashboard: four queries (entries, doses, plan, trend
    rows) and the figure."""
    data = trend.data
    rows = list(
        DiaryEntry.objects.filter(patient=patient)
        .order_by("date")
        .values_list(
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
    )
    entries = [charts.ChartEntry(*r[:8]) for r in rows]
    doses = list(
        DoseChange.objects.filter(patient=patient)
        .order_by("effective_date")
        .values_list("effective_date", "dose_ug")
    )
    plan = TitrationPlan.objects.filter(patient=patient).first()
    therapy_start = rules.therapy_start_of(doses)
    current = rules.current_dose(doses, today)
    in_force = DoseChange(effective_date=current[0], dose_ug=current[1]) if current else None
    status = titration_status(plan, in_force, today)
    last_entry = rows[-1][0] if rows else None

    adh_start = today - dt.timedelta(days=rules.ADHERENCE_DAYS)
    recent = [r for r in rows if adh_start <= r[0] < today]
    yes = sum(1 for r in recent if r[7] == DoseTaken.YES)
    partly = sum(1 for r in recent if r[7] == DoseTaken.PARTLY)
    since_start = [r for r in rows if therapy_start and therapy_start <= r[0] <= today]

    persist_start = today - dt.timedelta(days=rules.PERSIST_DAYS - 1)
    onset_start = persist_start - dt.timedelta(days=rules.PERSIST_ONSET_DAYS)
    logged_21 = sum(1 for r in rows if persist_start <= r[0] <= today)
    persistent = rules.persistent_side_effects(
        [(r[0], r[6]) for r in rows if r[6] and onset_start <= r[0] <= today], logged_21, today
    )
    effect_counts = []
    for code, label in SideEffect.choices:
        total = sum(1 for r in rows if code in r[6])
        if total:
            last_21 = sum(1 for r in rows if code in r[6] and r[0] >= persist_start)
            effect_counts.append((label, last_21, total))

    computed_at = trend.computed_at
    baseline_pain = None
    if data and data["baseline"]["valid"] and data["baseline"].get("pain"):
        baseline_pain = data["baseline"]["pain"]
    trend_rows = list(
        trend_days_for(patient).values_list(
            "date", "pain_r7", "fatigue_r7", "sleep_r7", "mood_r7", "pain_pct"
        )
    )
    fig = charts.timeline_figure(
        anchor=therapy_start or (entries[0].date if entries else today),
        therapy_started=therapy_start is not None,
        entries=entries,
        days=[charts.ChartDay(*d[:5]) for d in trend_rows],
        doses=doses,
        baseline_pain=baseline_pain,
        end=max(today, last_entry or today),
        compact=compact,
    )
    return PatientCore(
        figure=charts.figure_json(fig),
        # The worsening flag reads the latest stored 7-day change, as on the roster.
        latest_pct=trend_rows[-1][5] if trend_rows else None,
        changed=(
            sum(1 for r in rows if r[9] > computed_at) if computed_at is not None else len(rows)
        ),
        therapy_start=therapy_start,
        dose_ug=current[1] if current else None,
        dose_since=current[0] if current else None,
        next_ug=status.next_ug if status else None,
        next_due=status.due if status else None,
        at_target=bool(status and status.reached_target),
        entries=len(rows),
        backfilled=sum(1 for r in rows if r[8]),
        last_entry=last_entry,
        logged_14=len(recent),
        dose_adherence_14=rules.dose_adherence(yes, partly, len(recent)),
        logged_since_start=len(since_start),
        days_since_start=(today - therapy_start).days + 1 if therapy_start else 0,
        side_effects=effect_counts,
        persistent_codes=persistent,
        persistent=[SIDE_EFFECT_LABELS.get(c, c) for c, _ in persistent],
    )
