"""When each questionnaire is offered, relative to therapy start (docs/clinical-rules.md §4).

Pure functions of dates: the services and selectors pass the therapy start they read (the first
non-zero dose, ``diary.selectors.therapy_start_of``) and the patient's local today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ldn_diary.clinical.constants import DAYS_PER_WEEK

FIQR = "fiqr"
ACR2016 = "acr2016"
PGIC = "pgic"

# FIQR and the ACR 2016 criteria at weeks 0 (baseline), 4, 8 and 12 of therapy; the PGIC, a
# rating of change since the start, at 4, 8 and 12 only. The order is the order of the cards.
SCHEDULE: dict[str, tuple[int, ...]] = {
    FIQR: (0, 4, 8, 12),
    ACR2016: (0, 4, 8, 12),
    PGIC: (4, 8, 12),
}
WEEKS = (0, 4, 8, 12)

# A week's questionnaires open OPENS_DAYS_BEFORE days before its day (therapy day 7w) and close
# CLOSES_DAYS_AFTER days after it, the same span as the clinician's "due for review" flag
# (clinic.rules.REVIEW_LEAD_DAYS, REVIEW_HOLD_DAYS), so the answers are there for the review
# *(design)*. Weeks 4, 8 and 12 then cover therapy days 25-42, 53-70 and 81-98: no overlap.
OPENS_DAYS_BEFORE = 3
CLOSES_DAYS_AFTER = 14
# The baseline (week 0) describes life before LDN: it is open from BASELINE_DAYS_BEFORE days
# before the first dose up to the first dose day itself, and at any time while no dose is
# recorded yet, since the patient is then still in their baseline *(design)*.
BASELINE_DAYS_BEFORE = 14


@dataclass(frozen=True)
class Window:
    """The days a week's questionnaires may be answered; None is open-ended."""

    week: int
    opens: dt.date | None
    closes: dt.date | None

    def contains(self, day: dt.date) -> bool:
        return (self.opens is None or self.opens <= day) and (
            self.closes is None or day <= self.closes
        )

    def has_closed(self, day: dt.date) -> bool:
        """True when the window closed before ``day``."""
        return self.closes is not None and day > self.closes


def window(week: int, therapy_start: dt.date | None) -> Window | None:
    """The window of ``week`` for a patient whose first dose was ``therapy_start``.

    None for a week 4, 8 or 12 while there is no therapy start (nothing to count from).
    """
    if therapy_start is None:
        return Window(0, None, None) if week == 0 else None
    if week == 0:
        return Window(0, therapy_start - dt.timedelta(days=BASELINE_DAYS_BEFORE), therapy_start)
    day = therapy_start + dt.timedelta(days=DAYS_PER_WEEK * week)
    return Window(
        week,
        day - dt.timedelta(days=OPENS_DAYS_BEFORE),
        day + dt.timedelta(days=CLOSES_DAYS_AFTER),
    )


def is_scheduled(instrument: str, week: int) -> bool:
    return week in SCHEDULE.get(instrument, ())


def open_week(therapy_start: dt.date | None, today: dt.date) -> Window | None:
    """The window open on ``today``, if any (the windows never overlap)."""
    for week in WEEKS:
        w = window(week, therapy_start)
        if w is not None and w.contains(today):
            return w
    return None
