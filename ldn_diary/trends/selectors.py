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

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from ldn_diary.accounts.models import User
from ldn_diary.clinical.constants import ENGINE_VERSION

from .models import QUEUE_TIMEOUT, TrendDay

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


def trend_summary_for(patient: User) -> TrendSummary:
    """The stored summary with its status, in one query (both rows are keyed by the patient)."""
    found = (
        User.objects.filter(pk=patient.pk)
        .values(
            "trend_state__data_version",
            "trend_state__queued_at",
            "response_summary__data",
            "response_summary__computed_at",
            "response_summary__data_version",
            "response_summary__engine_version",
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
    return TrendSummary(
        status,
        row["response_summary__data"],
        row["response_summary__computed_at"],
        row["response_summary__data_version"],
        latest,
    )


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


def trend_days_for(
    patient: User, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[TrendDay]:
    """The patient's daily trend rows, oldest first, optionally limited to [start, end]."""
    days = TrendDay.objects.filter(patient_id=patient.pk)
    if start is not None:
        days = days.filter(date__gte=start)
    if end is not None:
        days = days.filter(date__lte=end)
    return days.order_by("date")


def latest_trend_days(patient_ids: Iterable[int]) -> dict[int, TrendDay]:
    """Each patient's most recent trend row, for a roster, in one query.

    The subquery is one backward scan of the (patient_id, date) primary key per patient, so
    the cost grows with the roster, not with the length of the diaries. Patients without trend
    rows are absent from the result.
    """
    latest_date = (
        TrendDay.objects.filter(patient_id=OuterRef("pk")).order_by("-date").values("date")[:1]
    )
    latest_keys = (
        User.objects.filter(pk__in=list(patient_ids))
        .annotate(latest=Subquery(latest_date))
        .values_list("pk", "latest")
    )
    # (patient_id, date) IN (...) on the composite primary key: one index probe per patient.
    return {row.patient_id: row for row in TrendDay.objects.filter(pk__in=latest_keys)}
