"""Reads of stored trends. Web pages use only these: they never compute in the request.

The caller has already fetched the patient through an access-checking helper
(``accounts.selectors.get_own_patient``, ``clinic.selectors.get_patient_for_clinician``);
nothing here checks access.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils import timezone

from ldn_diary.accounts.models import User
from ldn_diary.clinical import trend_values
from ldn_diary.clinical.constants import (
    ENGINE_VERSION,
    NO_DOSE,
    ROLLING_DAYS,
    SYMPTOMS,
    WEEK_WINDOWS,
)
from ldn_diary.clinical.summary import CLASSES

from .models import BASE_TOTAL_FIELDS, QUEUE_TIMEOUT, TOTAL7_FIELDS, ResponseSummary, TrendSeries

CURRENT = "current"
STALE = "stale"
COMPUTING = "computing"
MISSING = "missing"

_MESSAGES = {
    CURRENT: "Up to date with every entry.",
    STALE: "Not yet updated with the latest entries; an update will follow shortly.",
    COMPUTING: "Being updated with the latest entries.",
    MISSING: "Not calculated yet.",
}


@dataclass(frozen=True)
class TrendSummary:
    """A patient's stored response summary and how it stands against their diary."""

    status: str  # CURRENT, STALE, COMPUTING or MISSING
    data: dict[str, Any] | None  # the engine's summary dict; None when MISSING
    computed_at: dt.datetime | None
    data_version: int | None  # the diary version the summary was computed from
    latest_version: int  # the diary version now

    @property
    def message(self) -> str:
        """One plain sentence for the page, e.g. next to a chart."""
        return _MESSAGES[self.status]


# The summary's columns, read with the patient's state in trend_summary_for's one query.
_SUMMARY_COLUMNS = tuple(f.name for f in ResponseSummary._meta.concrete_fields if not f.primary_key)


def trend_summary_for(patient: User) -> TrendSummary:
    """The stored summary with its status, in one query (both rows are keyed by the patient)."""
    found = (
        User.objects.filter(pk=patient.pk)
        .values(
            "trend_state__data_version",
            "trend_state__queued_at",
            *(f"response_summary__{name}" for name in _SUMMARY_COLUMNS),
        )
        .first()
    )
    row: dict[str, Any] = dict(found) if found else {}
    latest = row.get("trend_state__data_version") or 0
    # computed_at is never NULL on a stored summary: NULL here means there is none.
    has_summary = row.get("response_summary__computed_at") is not None
    status = summary_status(
        summary_version=row["response_summary__data_version"] if has_summary else None,
        engine_version=row["response_summary__engine_version"] if has_summary else None,
        latest_version=latest,
        queued_at=row.get("trend_state__queued_at"),
    )
    if not has_summary:
        return TrendSummary(status, None, None, None, latest)
    summary = ResponseSummary(
        patient_id=patient.pk,
        **{name: row[f"response_summary__{name}"] for name in _SUMMARY_COLUMNS},
    )
    return TrendSummary(status, summary.data, summary.computed_at, summary.data_version, latest)


def summary_status(
    *,
    summary_version: int | None,
    engine_version: str | None,
    latest_version: int,
    queued_at: dt.datetime | None,
) -> str:
    """How a stored summary stands against the diary; the one rule, also used by the roster.

    "computing" means a recompute is queued and not overdue; a summary that is behind with no
    live task is "stale" (the sweep will queue it). A summary from an older engine is behind too.
    """
    queued = queued_at is not None and queued_at >= timezone.now() - QUEUE_TIMEOUT
    if summary_version is None:
        return COMPUTING if queued else MISSING
    behind = summary_version < latest_version or engine_version != ENGINE_VERSION
    if not behind:
        return CURRENT
    return COMPUTING if queued else STALE


@dataclass(frozen=True)
class TrendDayRow:
    """One calendar day of a patient's stored trends (element i of their ``TrendSeries``)."""

    date: dt.date
    dose_ug: int | None  # None before the first recorded dose
    logged: bool
    logged_7: int
    pain_r7: float | None
    fatigue_r7: float | None
    sleep_r7: float | None
    mood_r7: float | None
    pain_pct: float | None
    fatigue_pct: float | None
    sleep_pct: float | None
    mood_pct: float | None

    def rolling(self) -> dict[str, float | None]:
        return {s: getattr(self, f"{s}_r7") for s in SYMPTOMS}

    def change_pct(self) -> dict[str, float | None]:
        return {s: getattr(self, f"{s}_pct") for s in SYMPTOMS}


# The TrendSeries fields series_values reads.
SERIES_VALUE_FIELDS = ("logged", *TOTAL7_FIELDS, "base_n", *BASE_TOTAL_FIELDS)


def series_values(series: TrendSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stored series' days logged among each day's 7 (K,), and its 7-day means and changes
    from baseline (K, 4), from the totals by the engine's own rule (``clinical.trend_values``):
    exactly the engine's values. Reads only SERIES_VALUE_FIELDS."""
    logged = np.cumsum(series.logged, dtype=np.int64)
    logged_7 = (
        logged - np.concatenate((np.zeros(ROLLING_DAYS, dtype=np.int64), logged))[: len(logged)]
    )
    totals = np.column_stack([getattr(series, name) for name in TOTAL7_FIELDS])
    base = np.array([getattr(series, name) for name in BASE_TOTAL_FIELDS])
    means, changes = trend_values(
        totals.reshape(len(logged_7), len(SYMPTOMS)),
        np.repeat(logged_7[:, None], len(SYMPTOMS), axis=1),
        np.broadcast_to(base, (len(logged_7), len(SYMPTOMS))),
        np.full((len(logged_7), len(SYMPTOMS)), series.base_n),
    )
    return logged_7, means, changes


def _or_none(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN -> None


def series_days(
    series: TrendSeries, start: dt.date | None = None, end: dt.date | None = None
) -> list[TrendDayRow]:
    """The days of one stored series, oldest first, optionally limited to [start, end]."""
    lo = 0 if start is None else max((start - series.start).days, 0)
    hi = (series.end - series.start).days + 1
    if end is not None:
        hi = min(hi, (end - series.start).days + 1)
    if hi <= lo:
        return []
    logged_7, means, changes = series_values(series)
    columns = [
        *(_or_none(means[lo:hi, k]) for k in range(len(SYMPTOMS))),
        *(_or_none(changes[lo:hi, k]) for k in range(len(SYMPTOMS))),
    ]
    doses = [None if d == NO_DOSE else d for d in series.dose_ug[lo:hi].tolist()]
    return [
        TrendDayRow(series.start + dt.timedelta(days=lo + i), *row)
        for i, row in enumerate(
            zip(
                doses,
                series.logged[lo:hi].tolist(),
                logged_7[lo:hi].tolist(),
                *columns,
                strict=True,
            )
        )
    ]


def week_pain_classes(
    window_week: np.ndarray | None, symptom_class: np.ndarray | None
) -> dict[int, str | None]:
    """A stored summary's pain class in each week window, by week (WEEK_WINDOWS): None where
    the window could not be classified (too few days logged, no valid baseline) or there is no
    summary (a placeholder row's arrays are None). From the summary's ``window_week`` and
    ``symptom_class`` columns, which is all the roster and the group aggregates read of it."""
    classes: dict[int, str | None] = dict.fromkeys(WEEK_WINDOWS)
    if window_week is None or symptom_class is None:
        return classes
    pain = SYMPTOMS.index("pain")
    for i, week in enumerate(window_week.tolist()):
        if week in classes:  # a dose phase's week is 0
            classes[week] = CLASSES[int(symptom_class[i * len(SYMPTOMS) + pain])]
    return classes


def trend_days_for(
    patient: User, start: dt.date | None = None, end: dt.date | None = None
) -> list[TrendDayRow]:
    """The patient's daily trends, oldest first, optionally limited to [start, end]: one query."""
    series = TrendSeries.objects.filter(patient_id=patient.pk).first()
    return [] if series is None else series_days(series, start, end)


@dataclass(frozen=True)
class LatestTrend:
    date: dt.date
    pain_r7: float | None
    pain_pct: float | None


def latest_trend_days(patient_ids: Iterable[int]) -> dict[int, LatestTrend]:
    """Each patient's most recent trend day, for a roster, in one query of typed columns (the
    arrays stay on disk). Patients without stored trends are absent from the result."""
    return {
        pid: LatestTrend(end, pain_r7, pain_pct)
        for pid, end, pain_r7, pain_pct in TrendSeries.objects.filter(
            patient_id__in=list(patient_ids)
        ).values_list("patient_id", "end", "last_pain_r7", "last_pain_pct")
    }
