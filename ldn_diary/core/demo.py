"""Believable demo diaries for a newcomer's first look (``manage.py seed_demo``).

Each demo patient follows a response profile: a 14-day baseline, titration in steps, then 12+
weeks of daily entries whose improvement ramps up over weeks 2-8 (docs/clinical-rules.md §2: LDN
response usually shows in weeks 4-12), with day-to-day noise of SD 1.6 on the 0-10 scale
(Harris et al. 2005, docs/clinical-rules.md §3), missed days, vivid dreams early on, and a mix of
responders, partial and non-responders.
The generator is seeded, so every run builds the same cohort relative to today.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ldn_diary.accounts.models import User
    from ldn_diary.diary.models import DiaryEntry, DoseChange, TitrationPlan

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


@dataclass
class DemoPatient:
    username: str
    display_name: str
    profile: Profile
    doses: list[tuple[dt.date, int]]
    entries: list[dict]


def _clip(value: float) -> int:
    return int(min(10, max(0, round(value))))


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
            ramp = 0.0 if n < 10 else min(1.0, (n - 10) / 46)
            ramp = ramp * ramp * (3 - 2 * ramp)
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
    return DemoPatient(
        username=f"{PATIENT_PREFIX}{index + 1:02d}",
        display_name=FIRST_NAMES[index % len(FIRST_NAMES)],
        profile=profile,
        doses=doses,
        entries=entries,
    )


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
