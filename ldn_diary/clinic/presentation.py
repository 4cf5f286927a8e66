"""What the clinic pages show, built from the selectors' data: roster rows with their flags, the
dashboard's facts, tables and figure, and the thresholds the templates quote.

Nothing here queries the database (the selectors do) and nothing here writes; caching goes
through ``ldn_diary.caching``. The rules applied are in ``rules.py`` (roster flags),
``ldn_diary.clinical`` (doses, classes) and ``summary.py`` (the words).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from ldn_diary import caching
from ldn_diary.accounts.models import User
from ldn_diary.clinical import constants as clinical
from ldn_diary.clinical import doses
from ldn_diary.clinical.constants import ENGINE_VERSION, SYMPTOMS
from ldn_diary.clinical.questionnaires import FIQR_MCID_PCT
from ldn_diary.diary.choices import LifeEventKind, TreatmentCategory
from ldn_diary.diary.dosing import format_mg
from ldn_diary.diary.models import DoseChange, SideEffect
from ldn_diary.diary.rules import ldn_overlaps
from ldn_diary.diary.selectors import titration_status
from ldn_diary.questionnaires.summary import QuestionnaireSummary
from ldn_diary.trends.charts import EventMark, TreatmentMark
from ldn_diary.trends.selectors import TrendSummary

from . import charts, rules, selectors
from . import summary as words
from .models import ClinicianNote


def side_effect_labels() -> dict[str, str]:
    # Read when a page is drawn: the labels are translatable, and reading them at import would
    # fix them in whatever language was active then.
    return {code: str(label) for code, label in SideEffect.choices}


CATEGORY_LABELS = dict(TreatmentCategory.choices)
EVENT_LABELS = dict(LifeEventKind.choices)
# Computed roster rows, rendered roster tables and dashboard figures are cached under keys that
# change with the data (selectors.roster_version, Dashboard.cache_key); this bounds only what
# the keys do not see (a patient's new display name).
CACHE_SECONDS = 300
# The brief has room for this many dose phases (the latest ones); it says how many it left out.
# Four since the brief also lists questionnaires and other treatments (it prints on one page).
BRIEF_MAX_PHASES = 4

# The numbers the pages quote next to what they show, so no template writes a threshold itself.
THRESHOLDS = {
    "adherence_days": rules.ADHERENCE_DAYS,
    "silent_days": rules.SILENT_DAYS,
    "worsening_pct": -rules.WORSENING_PCT,
    "persist_days": rules.PERSIST_DAYS,
    "persist_min_logged": rules.PERSIST_MIN_LOGGED,
    "persist_share_pct": round(100 * rules.PERSIST_SHARE),
    "review_days": ", ".join(str(d) for d in rules.REVIEW_DAYS[:-1])
    + f" or {rules.REVIEW_DAYS[-1]}",
    "review_lead_days": rules.REVIEW_LEAD_DAYS,
    "review_hold_weeks": rules.REVIEW_HOLD_DAYS // 7,
    "baseline_days": clinical.BASELINE_DAYS,
    "window_days": clinical.WINDOW_DAYS,
    "window_min_days": clinical.WINDOW_MIN_DAYS,
    "phase_settle_days": clinical.PHASE_SETTLE_DAYS,
    "phase_window_days": clinical.PHASE_WINDOW_DAYS,
    "phase_min_days": clinical.PHASE_MIN_DAYS,
    "minimal_pct": round(clinical.IMMPACT_MINIMAL_PCT),
    "moderate_pct": round(clinical.IMMPACT_MODERATE_PCT),
    "substantial_pct": round(clinical.IMMPACT_SUBSTANTIAL_PCT),
    "low_adherence_pct": round(100 * clinical.LOW_ADHERENCE),
    "first_week": clinical.WEEK_WINDOWS[0],
    "last_week": clinical.WEEK_WINDOWS[-1],
    "fiqr_mcid_pct": round(FIQR_MCID_PCT),
}


def change_tone(pct: float | None) -> str:
    """ "good" for a change at or past the responder threshold, "bad" at or past worsening."""
    if pct is None:
        return ""
    if pct >= clinical.IMMPACT_MODERATE_PCT - clinical.COMPARE_EPS:
        return "good"
    if rules.worsening_flag(pct) is not None:
        return "bad"
    return ""


# --- The roster -----------------------------------------------------------------------------------

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
        return None if self.dose_since is None else doses.days_on(self.dose_since, self.today)

    @property
    def days_since_entry(self) -> int | None:
        return None if self.last_entry is None else (self.today - self.last_entry).days

    @property
    def logging_share(self) -> float:
        return self.logged_14 / rules.ADHERENCE_DAYS

    @property
    def pain_tone(self) -> str:
        return change_tone(self.pain_pct)

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


def _dose_status(
    history: list[tuple[dt.date, int]], plan: Any, today: dt.date
) -> tuple[dt.date | None, tuple[dt.date, int] | None, Any]:
    """Therapy start, (since, µg) of the dose in force, and the titration status."""
    current = doses.run_start(history, today)
    index = doses.dose_in_force(history, today)
    in_force = None
    if index is not None:
        effective, dose_ug = history[index]
        in_force = DoseChange(effective_date=effective, dose_ug=dose_ug)
    return doses.therapy_start(history), current, titration_status(plan, in_force, today)


def _flags(
    *,
    opioid: rules.Flag | None,
    pain_pct: float | None,
    persistent: list[tuple[str, int]],
    last_entry: dt.date | None,
    therapy_start: dt.date | None,
    last_note_on: dt.date | None,
    today: dt.date,
) -> list[rules.Flag]:
    candidates = (
        opioid,
        rules.worsening_flag(pain_pct),
        rules.side_effect_flag(persistent, side_effect_labels()),
        rules.silent_flag(last_entry, today),
        rules.review_flag(rules.review_due(therapy_start, last_note_on, today)),
    )
    return [f for f in candidates if f is not None]


def roster_row(facts: selectors.RosterFacts, today: dt.date, tz: dt.tzinfo) -> RosterRow:
    row = RosterRow(
        pk=facts.pk,
        uuid=facts.uuid,
        name=facts.display_name or facts.username,
        today=today,
        search_text=(facts.display_name or facts.username).lower(),
    )
    row.therapy_start, current, status = _dose_status(facts.doses, facts.plan, today)
    if current is not None:
        row.dose_since, row.dose_ug = current
    if status is not None:
        row.next_ug, row.next_due = status.next_ug, status.due
        row.at_target = status.reached_target
    stats = facts.stats
    row.last_entry, row.logged_14 = stats.last_entry, stats.logged_14
    row.dose_adherence = stats.dose_adherence
    row.pain_r7, row.pain_pct, row.trend_date = facts.pain_r7, facts.pain_pct, facts.trend_date
    row.response, row.response_window = _response_of(facts.summary)
    row.trends_status = facts.summary["status"] if facts.summary else "missing"
    row.followup = facts.followup
    note_on = timezone.localtime(facts.last_note_at, tz).date() if facts.last_note_at else None
    row.flags = _flags(
        opioid=rules.opioid_flag(facts.opioids, facts.doses, today),
        pain_pct=row.pain_pct,
        persistent=rules.persistent_side_effects(facts.side_effect_reports, stats.logged_21, today),
        last_entry=row.last_entry,
        therapy_start=row.therapy_start,
        last_note_on=note_on,
        today=today,
    )
    return row


def roster(
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
    columns compare like with like (patients a time zone away differ by at most a day). With
    ``cache_key`` (from ``selectors.roster_version``) the computed rows are cached, so re-sorting
    or filtering an unchanged roster costs no query at all.
    """
    today = today or clinician.local_today()

    def compute() -> list[RosterRow]:
        facts = selectors.roster_facts(clinician, today)
        return [roster_row(f, today, clinician.tzinfo) for f in facts]

    all_rows = caching.get_or_compute(cache_key, compute, CACHE_SECONDS) if cache_key else compute()
    # Display names only: a username is a login, not something a clinician searches by.
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
        rows=sort_rows(selected, sort), total=len(all_rows), today=today, flag_counts=flag_counts
    )


def sort_rows(rows: list[RosterRow], sort: str) -> list[RosterRow]:
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


def sort_headers(sort: str) -> dict[str, dict[str, Any]]:
    """Each sortable column's label, its next sort (toggling the current one) and aria-sort."""
    headers: dict[str, dict[str, Any]] = {}
    descending = sort.startswith("-")
    for key, (label, descending_first) in SORTS.items():
        current = sort.lstrip("-") == key
        if current:
            next_sort = key if descending else f"-{key}"
        else:
            next_sort = f"-{key}" if descending_first else key
        headers[key] = {
            "label": label,
            "sort": next_sort,
            "aria": ("descending" if descending else "ascending") if current else None,
        }
    return headers


# --- One patient's dashboard and brief ------------------------------------------------------------


@dataclass
class SymptomCell:
    """One symptom's numbers in a phase or window row of the tables."""

    mean: float | None
    change_pct: float | None
    cls: str | None
    ci_low: float | None
    ci_high: float | None
    beyond_noise: bool | None = None

    @property
    def tone(self) -> str:
        return RESPONSE_TONES.get(self.cls or "", "")

    @property
    def noise_words(self) -> str:
        return words.noise_words(self.beyond_noise)


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
    adherence: float | None = None  # share of answered days with the dose taken (0-1)
    low_adherence: bool | None = None


@dataclass(frozen=True)
class TreatmentItem:
    """Another treatment as the dashboard and the brief list it."""

    name: str
    category: str
    start: dt.date
    stop: dt.date | None
    note: str
    is_opioid: bool
    with_ldn: bool  # an opioid taken on a day with LDN above 0, now or before


@dataclass(frozen=True)
class EventItem:
    date: dt.date
    kind: str
    label: str
    text: str


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
    treatments: list[TreatmentItem]
    events: list[EventItem]
    opioid: rules.Flag | None
    first_entry: dt.date | None

    @property
    def brief_treatments(self) -> list[TreatmentItem]:
        """The brief lists what overlaps the diary (from its first entry); the dashboard all."""
        first = self.first_entry
        return [t for t in self.treatments if first is None or t.stop is None or t.stop >= first]

    @property
    def flares(self) -> list[EventItem]:
        return [e for e in self.events if e.kind == LifeEventKind.FLARE]

    @property
    def life_events(self) -> list[EventItem]:
        return [e for e in self.events if e.kind != LifeEventKind.FLARE]


@dataclass
class Dashboard:
    patient: User
    today: dt.date
    trend: TrendSummary
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
    questionnaires: QuestionnaireSummary

    def __getattr__(self, name: str) -> Any:
        # Templates read dash.dose_ug etc.; those live on the cached core.
        if name != "core" and "core" in self.__dict__:
            return getattr(self.__dict__["core"], name)
        raise AttributeError(name)

    @property
    def change_caveat(self) -> str:
        return words.CHANGE_CAVEAT

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
        return None if since is None else doses.days_on(since, self.today)


def _cell(symptoms: dict[str, Any], name: str) -> SymptomCell:
    s = symptoms.get(name) or {}
    return SymptomCell(
        mean=s.get("mean"),
        change_pct=s.get("change_pct"),
        cls=s.get("class"),
        beyond_noise=s.get("beyond_noise"),
        ci_low=s.get("ci_low"),
        ci_high=s.get("ci_high"),
    )


def _window_len(phase: dict[str, Any]) -> int:
    if not phase.get("window_start"):
        return 0
    start = words.parse_date(phase["window_start"])
    return (words.parse_date(phase["window_end"]) - start).days + 1


def result_rows(summary: dict[str, Any] | None) -> tuple[list[ResultRow], list[ResultRow]]:
    """The dose-phase and week-window tables' rows, from the stored summary."""
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
                adherence=p.get("adherence"),
                low_adherence=p.get("low_adherence"),
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
                days_total=clinical.WINDOW_DAYS,
                valid=w["valid"],
                pain=_cell(w["symptoms"], "pain"),
                others={s: _cell(w["symptoms"], s) for s in SYMPTOMS[1:]},
                adherence=w.get("adherence"),
                low_adherence=w.get("low_adherence"),
            )
        )
    return phases, windows


def patient_dashboard(
    clinician: User, patient: User, *, today: dt.date | None = None, compact: bool = False
) -> Dashboard:
    """Everything the dashboard (or, with ``compact``, the brief) shows. ``patient`` comes
    from ``selectors.get_patient_for_clinician``; the notes and follow-up are ``clinician``'s
    own only.

    What depends only on the patient's data (the figure, adherence, side effects, doses) is
    computed by ``patient_core`` and cached under ``Dashboard.cache_key``, which changes with
    every diary write (``latest_version``), every recompute and every day; the clinician's
    notes, follow-up and review flag, and the relative "results are from ... ago", are read
    fresh on every request.
    """
    today = today or clinician.local_today()
    trend = selectors.trend_summary(patient)
    data = trend.data
    key = (
        f"clinic:patient:{patient.pk}:{trend.latest_version}:{trend.data_version}:"
        f"{trend.computed_at and trend.computed_at.timestamp()}:{ENGINE_VERSION}:{today}:{compact}"
    )
    core = caching.get_or_compute(
        key,
        lambda: patient_core(selectors.patient_facts(patient, today), trend, today, compact),
        CACHE_SECONDS,
    )
    notes = selectors.notes_for(clinician, patient)
    status_text = words.status_label(trend.status, trend.computed_at, core.changed, timezone.now())
    last_note_on = (
        timezone.localtime(notes[0].created_at, clinician.tzinfo).date() if notes else None
    )
    phases, windows = result_rows(data)
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
        followup=selectors.followup_for(clinician, patient),
        flags=_flags(
            opioid=core.opioid,
            pain_pct=core.latest_pct,
            persistent=core.persistent_codes,
            last_entry=core.last_entry,
            therapy_start=core.therapy_start,
            last_note_on=last_note_on,
            today=today,
        ),
        cache_key=key,
        questionnaires=selectors.questionnaire_summary(patient),
    )


def patient_core(
    facts: selectors.PatientFacts, trend: TrendSummary, today: dt.date, compact: bool
) -> PatientCore:
    """The patient-derived part of the dashboard, and its figure."""
    data = trend.data
    rows = facts.entries
    entries = [charts.ChartEntry(*r[:8]) for r in rows]
    therapy_start, current, status = _dose_status(facts.doses, facts.plan, today)
    last_entry = rows[-1][0] if rows else None
    since_start = [r for r in rows if therapy_start and therapy_start <= r[0] <= today]

    persist_start = today - dt.timedelta(days=rules.PERSIST_DAYS - 1)
    onset_start = persist_start - dt.timedelta(days=rules.PERSIST_ONSET_DAYS)
    persistent = rules.persistent_side_effects(
        [(r[0], r[6]) for r in rows if r[6] and onset_start <= r[0] <= today],
        facts.stats.logged_21,
        today,
    )
    effect_counts = []
    for code, label in SideEffect.choices:
        total = sum(1 for r in rows if code in r[6])
        if total:
            last_21 = sum(1 for r in rows if code in r[6] and r[0] >= persist_start)
            effect_counts.append((str(label), last_21, total))

    computed_at = trend.computed_at
    baseline_pain = None
    if data and data["baseline"]["valid"] and data["baseline"].get("pain"):
        baseline_pain = data["baseline"]["pain"]
    treatments = [
        TreatmentItem(
            name=name,
            category=CATEGORY_LABELS.get(category, category),
            start=start,
            stop=stop,
            note=note,
            is_opioid=category == TreatmentCategory.OPIOID,
            with_ldn=category == TreatmentCategory.OPIOID
            and ldn_overlaps(facts.doses, start, stop, today),
        )
        for name, category, start, stop, note in facts.treatments
    ]
    events = [
        EventItem(date=date, kind=kind, label=EVENT_LABELS.get(kind, kind), text=text)
        for date, kind, text in facts.events
    ]
    fig = charts.timeline_figure(
        anchor=therapy_start or (entries[0].date if entries else today),
        therapy_started=therapy_start is not None,
        entries=entries,
        days=[charts.ChartDay(*d[:5]) for d in facts.trend_days],
        doses=facts.doses,
        baseline_pain=baseline_pain,
        end=max(today, last_entry or today),
        compact=compact,
        treatments=[TreatmentMark(t.name, t.category, t.start, t.stop) for t in treatments],
        events=[EventMark(e.date, e.kind) for e in events],
    )
    return PatientCore(
        figure=charts.figure_json(fig),
        # The worsening flag reads the latest stored 7-day change, as on the roster.
        latest_pct=facts.trend_days[-1][5] if facts.trend_days else None,
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
        logged_14=facts.stats.logged_14,
        dose_adherence_14=facts.stats.dose_adherence,
        logged_since_start=len(since_start),
        days_since_start=(today - therapy_start).days + 1 if therapy_start else 0,
        side_effects=effect_counts,
        persistent_codes=persistent,
        persistent=[side_effect_labels().get(c, c) for c, _ in persistent],
        treatments=treatments,
        events=events,
        first_entry=rows[0][0] if rows else None,
        opioid=rules.opioid_flag(
            [(t.name, t.start, t.stop) for t in treatments if t.is_opioid], facts.doses, today
        ),
    )
