"""The history page's month calendar, as plain data for the template (no database access).

The default view, the current month, always shows the whole backfill window too: on the 1st of
a month the 14 days a patient may still fill in lie mostly in the previous month, and the page
promises "tap any of the last 14 days". So the grid then starts at the window's first day and
those days are shown, labelled with their month, and tappable.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from .rules import backfill_window

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class CalendarCell:
    date: dt.date
    # outside (not part of this view), future, logged, backfilled, before (before the patient
    # started, outside the backfill window) or open (no entry).
    state: str
    editable: bool  # links to the entry page: today and the BACKFILL_DAYS before it
    today: bool
    show_month: bool  # the first day shown of a month: its cell names the month too


def month_weeks(
    month: dt.date, today: dt.date, logged: dict[dt.date, bool], started: dt.date
) -> list[list[CalendarCell]]:
    """Monday-first weeks for ``month`` (its 1st), ``logged`` being {date: backfilled}."""
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    window_start, _end = backfill_window(today)
    shown_from = first
    if first <= today <= last and window_start < first:
        shown_from = window_start
    grid_start = shown_from - dt.timedelta(days=shown_from.weekday())
    grid_end = last + dt.timedelta(days=6 - last.weekday())
    weeks: list[list[CalendarCell]] = []
    day = grid_start
    while day <= grid_end:
        week = []
        for _ in range(7):
            shown = shown_from <= day <= last
            editable = shown and window_start <= day <= today
            if not shown:
                state = "outside"
            elif day > today:
                state = "future"
            elif day in logged:
                state = "backfilled" if logged[day] else "logged"
            elif day < started and not editable:
                state = "before"
            else:
                state = "open"
            week.append(
                CalendarCell(
                    date=day,
                    state=state,
                    editable=editable,
                    today=day == today,
                    show_month=shown and shown_from < first and day in (shown_from, first),
                )
            )
            day += ONE_DAY
        weeks.append(week)
    return weeks
