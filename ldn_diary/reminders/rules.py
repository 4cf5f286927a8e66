"""When a reminder is due, in one place. No database access here.

A patient's reminder time is a wall-clock time in their own time zone. A day's reminder is due
once their local time on that local date has reached it; ``zoneinfo`` does the daylight-saving
arithmetic, so on a spring-forward day a reminder set inside the skipped hour goes out at the
first local time after it, and on a fall-back day the repeated hour cannot send it twice,
because the claim is per local date (``models.Reminder``'s unique constraint).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

# Daily reminders stop after this many, sent with no entry created or changed since (a
# patient who no longer answers is not nagged for ever); one last message says how to resume.
UNANSWERED_LIMIT = 7
# A reminder whose send raised an error is tried again on later ticks of the same local day,
# at most this many times in all.
MAX_ATTEMPTS = 3
# How far back the tick looks at past reminders to count unanswered ones: UNANSWERED_LIMIT
# days, with room for a day or two when beat was down.
LOOKBACK_DAYS = UNANSWERED_LIMIT + 3


def local_now(now: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return now.astimezone(tz)


def is_due(local: dt.datetime, remind_at: dt.time) -> bool:
    """Whether the reminder for ``local``'s date is due at local wall-clock time ``local``."""
    return local.time().replace(tzinfo=None) >= remind_at


def titration_step_due(
    *, next_ug: int | None, due: dt.date | None, has_dose: bool, today: dt.date
) -> bool:
    """A step reminder goes out on the step's due day only, once.

    Not for the start dose (``has_dose`` False): before the first dose the plan's start is
    "due" every day (diary.selectors.titration_status), and when to start is the patient's and
    clinician's decision, not a date the plan sets.
    """
    return has_dose and next_ug is not None and due == today


def is_paused(*, unanswered: int) -> bool:
    return unanswered >= UNANSWERED_LIMIT
