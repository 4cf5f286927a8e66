"""A plain, loop-by-loop reading of docs/clinical-rules.md §2-3, used as an oracle for the engine.

Written independently of ldn_diary.clinical: it restates the numbers, walks the calendar one day
at a time, and does means, changes and percentages in exact rational arithmetic
(fractions.Fraction), so it cannot share the engine's tricks (grids, sums, epsilons). The one piece
it shares is the public ``compare_windows`` for the interval and its verdict, which has an oracle
of its own (tests/clinical/test_compare.py); here it checks that the engine passes the right days.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from ldn_diary.clinical import compare_windows

SYMPTOMS = ("pain", "fatigue", "sleep", "mood")
WORSE_WHEN_HIGHER = (True, True, False, False)

Entries = dict[int, tuple[float | None, float | None, float | None, float | None]]
Doses = list[tuple[int, int]]  # (day, micrograms) in the order given; the last on a day wins


def iso(day: int | None) -> str | None:
    return None if day is None else date.fromordinal(day).isoformat()


def as_float(x: Fraction | float | None) -> float | None:
    return None if x is None else float(x)


def dose_on(doses: Doses, day: int) -> int | None:
    current = None
    for change_day, ug in sorted(doses, key=lambda d: d[0]):  # stable: ties keep input order
        if change_day <= day:
            current = ug
    return current


def values_in(entries: Entries, days: range, k: int) -> list[float | None]:
    return [entries[d][k] if d in entries else None for d in days]


def logged_days(entries: Entries, days: range) -> int:
    return sum(1 for d in days if d in entries and any(v is not None for v in entries[d]))


def mean(values: list[float | None]) -> Fraction | None:
    present = [Fraction(v) for v in values if v is not None]
    return sum(present, Fraction(0)) / len(present) if present else None


def improvement(k: int, before: Fraction, after: Fraction) -> Fraction:
    return before - after if WORSE_WHEN_HIGHER[k] else after - before


def problem(k: int, score: Fraction) -> Fraction:
    """The problem scale: the score for pain and fatigue, 10 - score for sleep and mood."""
    return score if WORSE_WHEN_HIGHER[k] else 10 - score


def percent_better(k: int, before: Fraction, after: Fraction) -> Fraction | None:
    """100 x (p_before - p_after) / p_before on the problem scale; None for p_before = 0."""
    p_before, p_after = problem(k, before), problem(k, after)
    return None if p_before == 0 else 100 * (p_before - p_after) / p_before


def sign(x: float) -> int:
    return (x > 0) - (x < 0)


def tau_u(k: int, base: list[float | None], window: list[float | None]) -> float:
    a = [v for v in base if v is not None]
    b = [v for v in window if v is not None]
    s_ab = sum(sign(improvement(k, Fraction(x), Fraction(y))) for x in a for y in b)
    s_a = sum(
        sign(improvement(k, Fraction(a[i]), Fraction(a[j])))
        for i in range(len(a))
        for j in range(i + 1, len(a))
    )
    return (s_ab - s_a) / (len(a) * len(b))


def imm_class(pct: Fraction) -> str:
    if pct >= 50:
        return "substantial"
    if pct >= 30:
        return "moderate"
    if pct >= 10:
        return "minimal"
    return "none"


def assess(
    entries: Entries, baseline: dict[str, Any], base_days: range | None, days: range | None
) -> tuple[int, bool, dict[str, Any], dict[str, dict[str, Any]]]:
    """days_logged, valid, exact percentages and the symptoms dict of one window."""
    days = days if days is not None else range(0)
    n_logged = logged_days(entries, days)
    valid = n_logged >= 10
    exact_pct: dict[str, Any] = {}
    out = {}
    for k, name in enumerate(SYMPTOMS):
        win = values_in(entries, days, k)
        w_mean = mean(win)
        b_mean = baseline["_exact"][k]
        d: dict[str, Any] = dict.fromkeys(
            ("mean", "change_points", "change_pct", "class", "two_point")
            + ("ci_low", "ci_high", "beyond_noise", "tau_u")
        )
        d["n"] = sum(v is not None for v in win)
        d["mean"] = as_float(w_mean)
        pct = None
        if w_mean is not None and baseline["valid"] and b_mean is not None:
            points = improvement(k, b_mean, w_mean)
            d["change_points"] = float(points)
            pct = percent_better(k, b_mean, w_mean)
            if pct is not None:
                d["change_pct"] = float(pct)
            if valid:
                d["class"] = None if pct is None else imm_class(pct)
                d["two_point"] = points >= 2
                base = values_in(entries, base_days, k)
                # The interval and its verdict are the public compare_windows' on the two
                # windows' calendar slots (itself checked against statsmodels' GLS in
                # test_compare.py); this checks that the engine hands it the right days.
                nan = float("nan")
                compared = compare_windows(
                    [nan if v is None else v for v in base],
                    [nan if v is None else v for v in win],
                    higher_is_better=not WORSE_WHEN_HIGHER[k],
                )
                d["ci_low"], d["ci_high"] = compared.ci_low, compared.ci_high
                d["beyond_noise"] = compared.beyond_noise
                d["tau_u"] = tau_u(k, base, win)
        exact_pct[name] = pct if (valid and baseline["valid"]) else None
        out[name] = d
    return n_logged, valid, exact_pct, out


def composite(pct: dict[str, Any]) -> bool | None:
    def at_30(name: str) -> bool | None:
        return None if pct[name] is None else pct[name] >= 30

    pain, fatigue, sleep = at_30("pain"), at_30("fatigue"), at_30("sleep")
    if pain is False:
        return False
    if pain is None:
        return None
    if fatigue or sleep:
        return True
    if fatigue is False and sleep is False:
        return False
    return None


def reference(entries: Entries, doses: Doses) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Daily rows (as dicts) and the summary dict of one patient."""
    first = min(entries) if entries else None
    last = max(entries) if entries else None
    nonzero = [d for d, ug in doses if ug != 0]
    start = min(nonzero) if nonzero else None

    baseline: dict[str, Any] = {"valid": False, "days_logged": 0, "start": None, "end": None}
    baseline["_exact"] = [None] * 4
    base_days = None
    if start is not None:
        base_days = range(start - 14, start)
        baseline["days_logged"] = logged_days(entries, base_days)
        baseline["valid"] = baseline["days_logged"] >= 11
        baseline["start"], baseline["end"] = iso(start - 14), iso(start - 1)
        baseline["_exact"] = [mean(values_in(entries, base_days, k)) for k in range(4)]
    for k, name in enumerate(SYMPTOMS):
        baseline[name] = as_float(baseline["_exact"][k])

    daily = []
    if first is not None:
        for day in range(first, last + 1):
            ug = dose_on(doses, day)
            row: dict[str, Any] = {
                "day": day,
                "dose": -1 if ug is None else ug,
                "logged": day in entries,
                "rolling": [],
                "rolling_n": [],
                "change_pct": [],
            }
            for k in range(4):
                week = [v for v in values_in(entries, range(day - 6, day + 1), k) if v is not None]
                rolling = mean(week) if len(week) >= 4 else None
                b = baseline["_exact"][k]
                change = None
                if rolling is not None and baseline["valid"] and b is not None:
                    change = percent_better(k, b, rolling)
                row["rolling"].append(as_float(rolling))
                row["rolling_n"].append(len(week))
                row["change_pct"].append(as_float(change))
            daily.append(row)

    windows = []
    phases = []
    if start is not None:
        for w in (4, 8, 12):
            days = range(start + 7 * w - 14, start + 7 * w)
            n_logged, valid, pct, sym = assess(entries, baseline, base_days, days)
            windows.append(
                {
                    "label": f"week_{w}",
                    "week": w,
                    "start": iso(days[0]),
                    "end": iso(days[-1]),
                    "days_logged": n_logged,
                    "valid": valid,
                    "composite_responder": composite(pct) if valid and baseline["valid"] else None,
                    "symptoms": sym,
                }
            )
        # Walk the calendar from therapy start to the last entry, cutting wherever the dose changes.
        runs: list[list[int]] = []  # [dose, first day, last day]
        if last is not None:
            for day in range(start, last + 1):
                ug = dose_on(doses, day)
                if runs and runs[-1][0] == ug:
                    runs[-1][2] = day
                else:
                    runs.append([ug, day, day])
        for ug, p_start, p_end in runs:
            length = p_end - p_start + 1
            settled = min(14, length - 7)
            days = range(p_end - settled + 1, p_end + 1) if settled > 0 else None
            n_logged, valid, pct, sym = assess(entries, baseline, base_days, days)
            phases.append(
                {
                    "dose_ug": ug,
                    "dose_mg": ug / 1000,
                    "start": iso(p_start),
                    "end": iso(p_end),
                    "phase_days": length,
                    "window_start": iso(days[0]) if days else None,
                    "window_end": iso(days[-1]) if days else None,
                    "days_logged": n_logged,
                    "valid": valid,
                    "composite_responder": composite(pct) if valid and baseline["valid"] else None,
                    "symptoms": sym,
                }
            )

    valid_windows = [w for w in windows if w["valid"]]
    assessed = valid_windows[-1] if valid_windows else None
    del baseline["_exact"]
    summary = {
        "therapy_start": iso(start),
        "data_start": iso(first),
        "data_end": iso(last),
        "baseline": baseline,
        "windows": windows,
        "phases": phases,
        "assessed_window": assessed["label"] if assessed else None,
        "composite_responder": assessed["composite_responder"] if assessed else None,
    }
    return daily, summary
