"""The roster's rules, as pure functions of plain values (no database access).

``selectors.roster_facts`` fetches the numbers in a few aggregate queries and
``presentation`` calls these per patient; the tests call them directly with hand-made values.
Every threshold is a named constant here, and the pages quote them through
``presentation.THRESHOLDS`` (docs/clinical-rules.md §6).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ldn_diary.clinical import stats
from ldn_diary.clinical.constants import COMPARE_EPS
from ldn_diary.clinical.stats import shown_percent
from ldn_diary.diary.rules import opioids_with_ldn

# Adherence is measured over the 14 full days before today (today is usually not logged yet
# when a clinician looks in the morning, and counting it would cap everyone at 13/14).
ADHERENCE_DAYS = 14
# Worsening: the latest 7-day pain mean is at least 30 % worse than baseline (IMMPACT's
# moderate threshold, docs/clinical-rules.md §3, in the other direction; the flags are §6).
WORSENING_PCT = -30.0
# No entries for this many days or more.
SILENT_DAYS = 7
# A side effect "persists past 3 weeks" when, over the last PERSIST_DAYS days (today included),
# it was reported on at least PERSIST_SHARE of the logged days, with at least PERSIST_MIN_LOGGED
# logged days (so one report on the only logged day is not "persistent"), AND it was also
# reported at least once in the PERSIST_ONSET_DAYS days before that window, i.e. it began at
# least 21 days ago rather than recently becoming frequent.
PERSIST_DAYS = 21
PERSIST_SHARE = 0.5
PERSIST_MIN_LOGGED = 7
PERSIST_ONSET_DAYS = 7
# Review points: therapy days 28, 56 and 84 (weeks 4, 8, 12: the end of each week window,
# docs/clinical-rules.md §2). A review is due from REVIEW_LEAD_DAYS before a point until the
# clinician writes a note dated on or after that opening, and for at most REVIEW_HOLD_DAYS after
# the point (after that the next point, or nothing, applies): "just completed", so a long-term
# patient is not flagged for ever.
REVIEW_DAYS = (28, 56, 84)
REVIEW_LEAD_DAYS = 3
REVIEW_HOLD_DAYS = 14

WORSENING = "worsening"
SILENT = "no_entries"
SIDE_EFFECT = "side_effect"
REVIEW = "review"
OPIOID = "opioid_ldn"
FLAG_LABELS = {
    OPIOID: "Opioid + LDN",
    WORSENING: "Worsening",
    SILENT: "No entries 7+ days",
    SIDE_EFFECT: "Persistent side effect",
    REVIEW: "Due for review",
}
# Severity order for display and for sorting by flags: a safety problem first.
FLAG_ORDER = (OPIOID, WORSENING, SIDE_EFFECT, SILENT, REVIEW)


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str

    @property
    def label(self) -> str:
        return FLAG_LABELS[self.code]


def opioid_flag(
    opioids: Iterable[tuple[str, dt.date, dt.date | None]],
    doses: Sequence[tuple[dt.date, int]],
    today: dt.date,
) -> Flag | None:
    """An opioid (name, start, stop) and an LDN dose above 0 both taken today: the diary's own
    rule (``diary.rules.opioids_with_ldn``), the one behind the patient's warning."""
    names = opioids_with_ldn(opioids, doses, today)
    if not names:
        return None
    return Flag(OPIOID, f"{', '.join(names)} taken with LDN today")


def worsening_flag(pain_pct: float | None) -> Flag | None:
    if pain_pct is None or pain_pct > WORSENING_PCT + COMPARE_EPS:
        return None
    return Flag(WORSENING, f"Pain 7-day mean {-shown_percent(pain_pct)} % worse than baseline")


def silent_flag(last_entry: dt.date | None, today: dt.date) -> Flag | None:
    if last_entry is None:
        return Flag(SILENT, "No diary entries yet")
    days = (today - last_entry).days
    if days < SILENT_DAYS:
        return None
    return Flag(SILENT, f"Last entry {days} days ago")


def persistent_side_effects(
    reports: Iterable[tuple[dt.date, Sequence[str]]], logged_in_window: int, today: dt.date
) -> list[tuple[str, int]]:
    """Side effects that persist past 3 weeks, with their count of days in the window.

    ``reports`` are (date, side-effect codes) of entries with any side effect from
    ``today - PERSIST_DAYS - PERSIST_ONSET_DAYS + 1`` on; ``logged_in_window`` counts all entries
    in the last PERSIST_DAYS days. See the constants above for the rule.
    """
    if logged_in_window < PERSIST_MIN_LOGGED:
        return []
    window_start = today - dt.timedelta(days=PERSIST_DAYS - 1)
    onset_start = window_start - dt.timedelta(days=PERSIST_ONSET_DAYS)
    in_window: dict[str, int] = {}
    before: set[str] = set()
    for date, codes in reports:
        if window_start <= date <= today:
            for code in codes:
                in_window[code] = in_window.get(code, 0) + 1
        elif onset_start <= date < window_start:
            before.update(codes)
    return sorted(
        (
            (code, n)
            for code, n in in_window.items()
            if code in before and n >= PERSIST_SHARE * logged_in_window
        ),
        key=lambda item: (-item[1], item[0]),
    )


def side_effect_flag(persistent: list[tuple[str, int]], labels: dict[str, str]) -> Flag | None:
    if not persistent:
        return None
    names = ", ".join(f"{labels.get(code, code)} ({n} days)" for code, n in persistent)
    return Flag(SIDE_EFFECT, f"For 3+ weeks: {names}")


def review_due(
    therapy_start: dt.date | None, last_note_on: dt.date | None, today: dt.date
) -> int | None:
    """The review point (therapy day 28, 56 or 84) now due, or None. See the constants above."""
    if therapy_start is None:
        return None
    day = (today - therapy_start).days
    for point in reversed(REVIEW_DAYS):
        opens = point - REVIEW_LEAD_DAYS
        if day < opens:
            continue
        if day > point + REVIEW_HOLD_DAYS:
            return None
        opened_on = therapy_start + dt.timedelta(days=opens)
        if last_note_on is not None and last_note_on >= opened_on:
            return None
        return point
    return None


def review_flag(point: int | None) -> Flag | None:
    if point is None:
        return None
    return Flag(REVIEW, f"Week {point // 7} review (therapy day {point}); no note since")


def adherence_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The ADHERENCE_DAYS full days before ``today`` (first, last)."""
    return today - dt.timedelta(days=ADHERENCE_DAYS), today - dt.timedelta(days=1)


def dose_adherence(yes: int, partly: int, logged: int) -> float | None:
    """Share of logged days with the dose taken, a partly-taken dose counting half (0-1): the
    engine's rule (clinical.stats.dose_adherence) on the roster's counts; None with none logged.
    """
    share = float(stats.dose_adherence(yes, partly, logged))  # type: ignore[arg-type]
    return None if math.isnan(share) else share
