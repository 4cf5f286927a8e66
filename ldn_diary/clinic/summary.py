"""Plain-words sentences for the dashboard and the pre-visit brief.

Pure functions of the stored engine summary (``trends.ResponseSummary.data``) and a few counts:
no database access, so tests/clinic/test_summary.py checks the wording on hand-made summaries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from django.utils.timesince import timesince

from ldn_diary.clinical.compare import VERDICT_WORDS
from ldn_diary.clinical.constants import (
    BASELINE_DAYS,
    BASELINE_MIN_DAYS,
    PHASE_MIN_DAYS,
    PHASE_SETTLE_DAYS,
    PHASE_WINDOW_DAYS,
    WINDOW_DAYS,
    WINDOW_MIN_DAYS,
)
from ldn_diary.clinical.stats import shown_percent
from ldn_diary.diary.dosing import format_mg

from .rules import SILENT_DAYS

# A phase can have a valid window only if it lasts its settling days plus the minimum logged.
PHASE_MIN_LENGTH = PHASE_SETTLE_DAYS + PHASE_MIN_DAYS

CLASS_WORDS = {
    "substantial": "substantial responder",
    "moderate": "moderate responder",
    "minimal": "minimal improvement, below the 30 % responder threshold",
    "none": "no meaningful response (under 10 %)",
}


@overload
def parse_date(value: str | dt.date) -> dt.date: ...
@overload
def parse_date(value: None) -> None: ...
def parse_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _short(d: dt.date) -> str:
    return f"{d.day} {d:%b}"


def pct_words(pct: float) -> str:
    """34.2 -> "down 34 %" for pain (positive = better = lower pain); 29.7 -> "down 29 %"."""
    shown = shown_percent(pct)
    if shown == 0:
        return "unchanged (0 %)"
    return f"{'down' if shown > 0 else 'up'} {abs(shown)} %"


def window_doses(summary: dict[str, Any], start: dt.date, end: dt.date) -> list[int]:
    """Doses (µg) of the phases that overlap [start, end], in order, without repeats."""
    doses: list[int] = []
    for phase in summary.get("phases", []):
        p_start, p_end = parse_date(phase["start"]), parse_date(phase["end"])
        if p_start <= end and p_end >= start and phase["dose_ug"] not in doses:
            doses.append(phase["dose_ug"])
    return doses


def dose_words(doses: list[int]) -> str:
    if not doses:
        return ""
    if len(doses) == 1:
        return f" on {format_mg(doses[0])} mg"
    return f" on {format_mg(min(doses))} to {format_mg(max(doses))} mg"


def assessed_window(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if not summary or not summary.get("assessed_window"):
        return None
    for window in summary.get("windows", []):
        if window["label"] == summary["assessed_window"]:
            return window
    return None


# Beside every verdict on a patient's change (dashboard and brief): what else it can come from.
CHANGE_CAVEAT = (
    "A change while on LDN can also come from the placebo response, from a bad baseline period "
    "settling, or from other treatments."
)


def noise_words(beyond: bool | None) -> str:
    """The words for compare_windows' verdict (docs/clinical-rules.md §3), never "reliable"."""
    return VERDICT_WORDS[beyond]


def adherence_words(window: dict[str, Any]) -> str:
    """ "; low adherence (dose taken on 62 % of days)" for a window under the threshold."""
    if not window.get("low_adherence"):
        return ""
    share = shown_percent(100 * window["adherence"])
    return f"; low adherence (dose taken on {share} % of days)"


def response_sentence(summary: dict[str, Any] | None) -> str:
    """The headline, e.g. "Pain down 34 % from baseline at week 8 on 4.5 mg — moderate
    responder; beyond day-to-day variation." Says plainly why there is no class when there is
    none."""
    if summary is None:
        return "No results have been calculated yet."
    if summary.get("therapy_start") is None:
        return "No LDN dose is recorded yet, so there is no response to assess."
    baseline = summary["baseline"]
    if not baseline["valid"]:
        return (
            f"No valid baseline ({baseline['days_logged']} of {BASELINE_DAYS} days logged before "
            f"the first dose; {BASELINE_MIN_DAYS} needed), so the response is not classified."
        )
    window = assessed_window(summary)
    if window is None:
        return (
            "Too early to classify: no week 4, 8 or 12 window has enough entries yet "
            f"({WINDOW_MIN_DAYS} of {WINDOW_DAYS} days needed)."
        )
    pain = window["symptoms"]["pain"]
    week = window["label"].removeprefix("week_")
    doses = dose_words(
        window_doses(summary, parse_date(window["start"]), parse_date(window["end"]))
    )
    if pain["change_pct"] is None:
        return (
            f"Pain change from baseline at week {week}{doses} cannot be given as a percentage "
            f"(baseline pain was 0); {pain['change_points']:+.1f} points."
        )
    pct = pain["change_pct"]
    if pain["class"] == "none" and pct < 0:
        verdict = "not a responder (pain worse)"
    else:
        verdict = CLASS_WORDS.get(pain["class"], "not classified")
    noise = noise_words(pain["beyond_noise"])
    return (
        f"Pain {pct_words(pct)} from baseline at week {week}{doses} — {verdict}; "
        f"{noise}{adherence_words(window)}."
    )


def response_details(summary: dict[str, Any] | None) -> list[str]:
    """Supporting sentences under the headline: the means and interval, and the composite."""
    window = assessed_window(summary)
    if window is None or summary is None:
        return []
    pain = window["symptoms"]["pain"]
    base = summary["baseline"]["pain"]
    out = []
    if pain["mean"] is not None and base is not None:
        start, end = parse_date(window["start"]), parse_date(window["end"])
        text = (
            f"Mean pain {pain['mean']:.1f} over {_short(start)}–{_short(end)} "
            f"({window['days_logged']} days logged) against {base:.1f} at baseline"
        )
        if pain["ci_low"] is not None:
            # change_points is oriented so that positive = better (docs/clinical-rules.md §2).
            points = pain["change_points"]
            if round(points, 1) == 0:
                change = "no change in points"
            else:
                change = f"{abs(points):.1f} points {'better' if points > 0 else 'worse'}"
            text += (
                f": {change} (95 % interval {pain['ci_low']:+.1f} to {pain['ci_high']:+.1f}, "
                "positive = better)"
            )
        out.append(text + ".")
    if window.get("composite_responder") is True:
        out.append("Fatigue or sleep also improved by 30 % or more: a composite responder.")
    elif window.get("composite_responder") is False and pain["class"] in (
        "moderate",
        "substantial",
    ):
        out.append("Neither fatigue nor sleep improved by 30 %: not a composite responder.")
    return out


def status_label(
    status: str, computed_at: dt.datetime | None, changed_since: int, now: dt.datetime
) -> str | None:
    """How current the stored results are; None when they are up to date.

    e.g. "Results are from 2 hours ago; 3 new entries since — recomputing."
    """
    if status == "current":
        return None
    doing = "recomputing" if status == "computing" else "an update will follow within minutes"
    if computed_at is None:
        return f"No results have been calculated yet — {doing}."
    # timesince joins number and unit with a no-break space; plain text reads the same.
    age = timesince(computed_at, now, depth=1).replace("\xa0", " ")
    if changed_since == 1:
        since = "1 new or changed entry since"
    elif changed_since:
        since = f"{changed_since} new or changed entries since"
    else:
        since = "the dose history or the engine changed since"
    return f"Results are from {age} ago; {since} — {doing}."


def caveats(
    summary: dict[str, Any] | None,
    *,
    today: dt.date,
    status_text: str | None,
    entries: int,
    backfilled: int,
    last_entry: dt.date | None,
) -> list[str]:
    """Data-quality caveats a clinician should weigh before trusting the numbers."""
    out: list[str] = []
    if status_text:
        out.append(status_text)
    if entries and backfilled:
        share = round(100 * backfilled / entries)
        out.append(
            f"{share} % of entries ({backfilled} of {entries}) were filled in on a later day "
            "(backfilled), which recalls symptoms less reliably."
        )
    if last_entry is not None and (today - last_entry).days >= SILENT_DAYS:
        out.append(
            f"No entries for {(today - last_entry).days} days: the latest trend is from "
            f"{_short(last_entry)}."
        )
    if summary is None or summary.get("therapy_start") is None:
        return out
    base = summary["baseline"]
    if not base["valid"]:
        out.append(
            f"Baseline not valid: {base['days_logged']} of {BASELINE_DAYS} days logged before "
            f"the first dose ({BASELINE_MIN_DAYS} needed), so no response class can be given."
        )
    for window in summary.get("windows", []):
        end = parse_date(window["end"])
        if window["valid"] or end >= today:
            continue
        out.append(
            f"Week {window['label'].removeprefix('week_')} window "
            f"({_short(parse_date(window['start']))}–{_short(end)}): {window['days_logged']} of "
            f"{WINDOW_DAYS} days logged ({WINDOW_MIN_DAYS} needed), not classified."
        )
    short = [
        f"{format_mg(p['dose_ug'])} mg ({p['phase_days']} days)"
        for p in summary.get("phases", [])
        if not p["valid"] and p["dose_ug"] != 0
    ]
    if short:
        out.append(
            "Dose phases not assessed (shorter than "
            f"{PHASE_MIN_LENGTH} days or under {PHASE_MIN_DAYS} logged days in their last "
            f"{PHASE_WINDOW_DAYS}): " + ", ".join(short) + "."
        )
    return out
