"""Believable demo diaries for a newcomer's first look (``manage.py seed_demo``).

Each demo patient follows a response profile: a 14-day baseline, titration in steps, then 12+
weeks of daily entries whose improvement ramps up over weeks 2-8 (docs/clinical-rules.md §2: LDN
response usually shows in weeks 4-12), with day-to-day noise of SD 1.6 on the 0-10 scale
(Harris et al. 2005, docs/clinical-rules.md §3), missed days, vivid dreams early on, and a mix of
responders, partial and non-responders.
Most patients also answered their questionnaires (docs/clinical-rules.md §4) on schedule, in
line with their profile (a responder's FIQR falls by 14 % or more), and recorded a few other
treatments (one starts pregabalin part-way, some have physiotherapy or a supplement), flares and
life events; exactly one takes an opioid (tramadol) alongside LDN, so the roster shows that flag.
The generator is seeded, so every run builds the same cohort relative to today.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ldn_diary.clinical.questionnaires import BODY_AREAS

if TYPE_CHECKING:
    from ldn_diary.accounts.models import User
    from ldn_diary.diary.models import DiaryEntry, DoseChange, LifeEvent, TitrationPlan, Treatment
    from ldn_diary.questionnaires.models import QuestionnaireResponse

DEMO_PASSWORD = "ldn-demo-2026"  # noqa: S105 - printed on purpose: demo logins only
CLINICIAN = "demo-clinician"
MODERATOR = "demo-moderator"
# The demo clinician's and moderator's authenticator secret (base32, as typed into an app).
# Public on purpose, like the password: these accounts exist only in a demo database.
DEMO_TOTP_SECRET = "LDNDEMOLDNDEMOLDNDEMOLDNDEMOLDND"  # noqa: S105
DEMO_RECOVERY_CODES_PRINTED = 5
PATIENT_PREFIX = "demo-patient-"
DAILY_SD = 1.6

FIRST_NAMES = [
    "Ana", "Beth", "Carmen", "Dina", "Elena", "Fay", "Grace", "Hana", "Iris", "Jo",
    "Kate", "Lena", "Maya", "Nora", "Olga", "Pat", "Rosa", "Sara", "Tess", "Uma",
    "Vera", "Wren", "Yara", "Zoe", "Amir", "Ben", "Chris", "Dev", "Eli", "Finn",
]  # fmt: skip


@dataclass(frozen=True)
class Profile:
    name: str
    # Fraction of baseline pain removed at full effect (0.55 = 55 % better).
    pain_effect: float
    other_effect: float
    steps_mg: tuple[float, ...]
    step_days: int
    miss_rate: float = 0.08
    baseline_pain: float = 6.8
    ultra_low: bool = False
    stops_logging: bool = False
    persistent_nausea: bool = False
    short_baseline: bool = False


def profiles() -> list[Profile]:
    rng = random.Random(1984)
    kinds = (
        # (label, pain effect, other effect, count)
        ("substantial", 0.55, 0.45, 7),
        ("moderate", 0.36, 0.33, 8),
        ("partial", 0.18, 0.12, 7),
        ("none", 0.03, 0.02, 7),
        ("worse", -0.38, -0.15, 1),
    )
    out: list[Profile] = []
    for kind, pain, other, count in kinds:
        for _ in range(count):
            steps: tuple[float, ...] = (1.5, 3.0, 4.5)
            if rng.random() < 0.25:
                steps = (1.5, 3.0, 4.5, 6.0)
            elif rng.random() < 0.2:
                steps = (0.5, 1.5, 3.0, 4.5)
            out.append(
                Profile(
                    name=kind,
                    pain_effect=pain + rng.uniform(-0.04, 0.04),
                    other_effect=other + rng.uniform(-0.04, 0.04),
                    steps_mg=steps,
                    step_days=rng.choice((7, 10, 14)),
                    miss_rate=rng.uniform(0.03, 0.14),
                    baseline_pain=rng.uniform(5.8, 7.8),
                )
            )
    # A few distinctive patients a clinician would want to notice.
    out[1] = Profile("moderate", 0.38, 0.35, (0.001, 0.01, 0.1, 1.0), 14, ultra_low=True)
    out[9] = Profile("moderate", 0.33, 0.30, (1.5, 3.0, 4.5), 10, stops_logging=True)
    out[16] = Profile("partial", 0.2, 0.1, (1.5, 3.0, 4.5), 14, persistent_nausea=True)
    out[23] = Profile("none", 0.05, 0.0, (1.5, 3.0, 4.5), 7, short_baseline=True)
    # Worsening on LDN: a low enough baseline that the 0-10 ceiling does not hide it.
    out[29] = Profile("worse", -0.45, -0.15, (1.5, 3.0, 4.5), 10, baseline_pain=5.2)
    return out


# Who has what beside LDN (indices into profiles(); 28 and 29 have not shared their diary).
PREGABALIN = (11, 18)  # starts part-way: a rival explanation for an improvement
OPIOID = 12  # tramadol alongside LDN: the roster's "opioid + LDN" flag
NO_QUESTIONNAIRES = (3, 10, 17, 24)  # "most" answer them
# Therapy days on which each week's questionnaires were answered: inside their windows
# (ldn_diary.questionnaires.schedule), a few days after the week's day.
ANSWER_LAG_DAYS = (1, 4)


@dataclass
class DemoPatient:
    username: str
    display_name: str
    profile: Profile
    doses: list[tuple[dt.date, int]]
    entries: list[dict]
    treatments: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    # (instrument, week, answers, completed on)
    questionnaires: list[tuple[str, int, dict, dt.date]] = field(default_factory=list)


def _clip(value: float) -> int:
    return int(min(10, max(0, round(value))))


def _ramp(n: int) -> float:
    """How much of the full effect shows on therapy day n: none before day 10, all from day
    56, a smooth step between (weeks 2-8)."""
    ramp = 0.0 if n < 10 else min(1.0, (n - 10) / 46)
    return ramp * ramp * (3 - 2 * ramp)


def build_patient(index: int, profile: Profile, *, today: dt.date, seed: int) -> DemoPatient:
    rng = random.Random(seed * 1000 + index)
    therapy_days = rng.randint(90, 120)
    start = today - dt.timedelta(days=therapy_days)
    first_day = start - dt.timedelta(days=14)
    doses = [
        (start + dt.timedelta(days=i * profile.step_days), round(mg * 1000))
        for i, mg in enumerate(profile.steps_mg)
    ]
    base = {
        "pain": profile.baseline_pain,
        "fatigue": rng.uniform(6.0, 8.0),
        "sleep": rng.uniform(2.5, 4.5),
        "mood": rng.uniform(3.0, 5.0),
    }
    last_day = today - dt.timedelta(days=1)
    if profile.stops_logging:
        last_day = today - dt.timedelta(days=9)
    entries = []
    day = first_day
    while day <= last_day:
        n = (day - start).days  # day number from therapy start, negative in baseline
        miss = profile.miss_rate * (2.2 if profile.short_baseline and n < 0 else 1)
        if rng.random() >= miss:
            # Response ramps in over weeks 2-8 (smooth step), then holds.
            ramp = _ramp(n)
            pain = base["pain"] * (1 - profile.pain_effect * ramp)
            fatigue = base["fatigue"] * (1 - profile.other_effect * ramp)
            sleep = base["sleep"] * (1 + profile.other_effect * 1.3 * ramp)
            mood = base["mood"] * (1 + profile.other_effect * 1.1 * ramp)
            side_effects: list[str] = []
            dreams = rng.choice(("none", "none", "normal"))
            if 0 <= n < 21 and rng.random() < 0.5 * (1 - n / 28):
                dreams = "vivid"
                side_effects.append("vivid_dreams")
            elif 0 <= n < 60 and rng.random() < 0.04:
                dreams = "nightmares"
            if 0 <= n < 10 and rng.random() < 0.2:
                side_effects.append("insomnia")
            if n >= 0 and rng.random() < 0.04:
                side_effects.append("headache")
            if profile.persistent_nausea and n >= 3 and rng.random() < 0.7:
                side_effects.append("nausea")
            taken = "na"  # not asked before the first dose
            if n >= 0:
                r = rng.random()
                taken = "no" if r < 0.04 else "partly" if r < 0.07 else "yes"
            note = ""
            if n == 1:
                note = "First night on LDN."
            elif "vivid_dreams" in side_effects and rng.random() < 0.15:
                note = "Very vivid dreams, woke up twice."
            entries.append(
                {
                    "date": day,
                    "pain": _clip(rng.gauss(pain, DAILY_SD)),
                    "fatigue": _clip(rng.gauss(fatigue, DAILY_SD)),
                    "sleep": _clip(rng.gauss(sleep, DAILY_SD)),
                    "mood": _clip(rng.gauss(mood, DAILY_SD)),
                    "dreams": dreams,
                    "side_effects": side_effects,
                    "dose_taken": taken,
                    "note": note,
                }
            )
        day += dt.timedelta(days=1)
    patient = DemoPatient(
        username=f"{PATIENT_PREFIX}{index + 1:02d}",
        display_name=FIRST_NAMES[index % len(FIRST_NAMES)],
        profile=profile,
        doses=doses,
        entries=entries,
    )
    # A generator of its own, so the diaries above stay exactly as they were.
    extra = random.Random(seed * 1000 + index + 500)
    patient.treatments, patient.events = _context(index, extra, start=start, today=today)
    if index not in NO_QUESTIONNAIRES:
        patient.questionnaires = _questionnaires(profile, extra, start=start, today=today)
    return patient


def _context(
    index: int, rng: random.Random, *, start: dt.date, today: dt.date
) -> tuple[list[dict], list[dict]]:
    """Other treatments, flares and life events of one demo patient."""

    def day(n: int) -> dt.date:
        return start + dt.timedelta(days=n)

    treatments: list[dict] = []
    if rng.random() < 0.5:
        treatments.append(
            {
                "name": "Paracetamol",
                "category": "analgesic",
                "start_date": day(-rng.randint(200, 900)),
            }
        )
    if rng.random() < 0.3:
        first = rng.randint(5, 30)
        treatments.append(
            {
                "name": "Physiotherapy",
                "category": "physical_therapy",
                "start_date": day(first),
                "stop_date": min(day(first + rng.randint(28, 56)), today - dt.timedelta(days=1)),
                "note": "Weekly sessions",
            }
        )
    if rng.random() < 0.25:
        treatments.append(
            {
                "name": "Vitamin D",
                "category": "supplement",
                "start_date": day(-rng.randint(30, 400)),
            }
        )
    if index in PREGABALIN:
        treatments.append(
            {
                "name": "Pregabalin 75 mg",
                "category": "gabapentinoid",
                "start_date": day(45 + rng.randint(0, 10)),
                "note": "Started by the GP",
            }
        )
    if index == OPIOID:
        treatments.append(
            {
                "name": "Tramadol 50 mg",
                "category": "opioid",
                "start_date": today - dt.timedelta(days=6),
                "note": "For back pain after a fall",
            }
        )
    events: list[dict] = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        events.append({"date": day(rng.randint(0, 80)), "kind": "flare", "text": ""})
    if rng.random() < 0.3:
        text = rng.choice(("Moved house", "Started a new job", "Family bereavement", "Holiday"))
        events.append({"date": day(rng.randint(0, 80)), "kind": "life_event", "text": text})
    return treatments, events


def _questionnaires(
    profile: Profile, rng: random.Random, *, start: dt.date, today: dt.date
) -> list[tuple[str, int, dict, dt.date]]:
    """FIQR and ACR 2016 at weeks 0, 4, 8 and 12 and PGIC at 4, 8 and 12, answered a few days
    after each week's day (the baseline a few days before the first dose), following the same
    ramp as the diary; a week not reached yet is left open, to show as a card."""
    level0 = rng.uniform(5.0, 7.0)
    # The FIQR moves with the diary, a little less than pain does.
    effect = profile.pain_effect * 0.85
    areas = list(BODY_AREAS)
    rng.shuffle(areas)
    somatic = {
        "headaches": rng.random() < 0.6,
        "lower_abdominal": rng.random() < 0.35,
        "depression": rng.random() < 0.4,
    }
    out: list[tuple[str, int, dict, dt.date]] = []
    for week in (0, 4, 8, 12):
        n = -rng.randint(1, 6) if week == 0 else 7 * week + rng.randint(*ANSWER_LAG_DAYS)
        answered_on = start + dt.timedelta(days=n)
        if answered_on > today - dt.timedelta(days=1):
            continue
        level = level0 * (1 - effect * _ramp(max(n, 0)))
        fiqr = {}
        for number in range(1, 22):
            shift = -0.6 if number <= 9 else 0.6 if number <= 11 else 0.0
            fiqr[str(number)] = _clip(rng.gauss(level + shift, 1.1))
        severity = {
            name: int(min(3, max(0, round(level / 3.2 + rng.gauss(0, 0.4)))))
            for name in ("fatigue", "waking_unrefreshed", "cognitive")
        }
        painful = set(areas[: max(0, min(19, round(level * 1.7 + rng.gauss(0, 1))))])
        acr = {
            "painful_areas": [a for a in BODY_AREAS if a in painful],
            "symptoms_3_months": True,
            **severity,
            **somatic,
        }
        out.append(("fiqr", week, fiqr, answered_on))
        out.append(("acr2016", week, acr, answered_on))
        if week:
            fall = 1 - level / level0
            pgic = 1 if fall >= 0.4 else 2 if fall >= 0.22 else 3 if fall >= 0.08 else 4
            if fall < -0.1:
                pgic = 6 if fall < -0.25 else 5
            out.append(("pgic", week, {"answer": pgic}, answered_on))
    return out


def build_cohort(*, today: dt.date, seed: int = 7) -> list[DemoPatient]:
    return [build_patient(i, p, today=today, seed=seed) for i, p in enumerate(profiles())]


def diary_rows(
    patient: User, spec: DemoPatient
) -> tuple[list[DiaryEntry], list[DoseChange], TitrationPlan]:
    """Unsaved DiaryEntry, DoseChange and TitrationPlan objects for one demo patient, for
    bulk_create by ``seed_demo`` and ``bench/load_clinic.py``."""
    from ldn_diary.diary.models import DiaryEntry, DoseChange, TitrationPlan

    entries = [DiaryEntry(patient=patient, **e) for e in spec.entries]
    doses = [
        DoseChange(patient=patient, effective_date=day, dose_ug=ug, from_plan=i > 0)
        for i, (day, ug) in enumerate(spec.doses)
    ]
    steps = spec.profile.steps_mg
    plan = TitrationPlan(
        patient=patient,
        start_ug=round(steps[0] * 1000),
        step_ug=round((steps[-1] - steps[-2]) * 1000),
        interval_days=spec.profile.step_days,
        target_ug=round(steps[-1] * 1000),
    )
    return entries, doses, plan


def context_rows(
    patient: User, spec: DemoPatient
) -> tuple[list[Treatment], list[LifeEvent], list[QuestionnaireResponse]]:
    """Unsaved Treatment, LifeEvent and QuestionnaireResponse objects for one demo patient."""
    from ldn_diary.diary.models import LifeEvent, Treatment
    from ldn_diary.questionnaires.models import QuestionnaireResponse

    treatments = [Treatment(patient=patient, **t) for t in spec.treatments]
    events = [LifeEvent(patient=patient, **e) for e in spec.events]
    responses = [
        QuestionnaireResponse(
            patient=patient,
            instrument=instrument,
            week=week,
            answers=answers,
            completed_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
        )
        for instrument, week, answers, day in spec.questionnaires
    ]
    return treatments, events, responses
