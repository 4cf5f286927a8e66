"""Reads for support groups: access-checked fetches, the roster, and the one read of members'
diaries and trends (``member_outcomes``).

Every fetch that takes something from a URL takes the requesting user too and raises 404 when
the object is missing or not theirs, alike, so a URL never confirms that a group exists.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid as uuid_mod
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from ldn_diary.accounts.models import User
from ldn_diary.clinical import doses, stats
from ldn_diary.clinical.aggregates import EARLY_WEEKS, MemberOutcome
from ldn_diary.clinical.constants import IMMPACT_MODERATE_PCT, SYMPTOMS
from ldn_diary.diary.models import DiaryEntry, DoseChange
from ldn_diary.trends.models import ResponseSummary, TrendSeries
from ldn_diary.trends.selectors import SERIES_VALUE_FIELDS, series_values, week_pain_classes

from .models import Membership, MembershipEvent, Release, SupportGroup


def _key(value: uuid_mod.UUID | str) -> uuid_mod.UUID:
    try:
        return uuid_mod.UUID(str(value))
    except ValueError as exc:
        raise Http404("Not found.") from exc


# --- Access-checked fetches -----------------------------------------------------------------


def get_group_for_moderator(user: User, group_uuid: uuid_mod.UUID | str) -> SupportGroup:
    """The group named in a URL, if ``user`` moderates it; else 404 (patients, clinicians, other
    moderators and made-up UUIDs alike)."""
    if not user.is_authenticated or not user.is_moderator:
        raise Http404("No such group.")
    group = SupportGroup.objects.filter(moderator=user, uuid=_key(group_uuid)).first()
    if group is None:
        raise Http404("No such group.")
    return group


def get_release_for_moderator(
    user: User, group_uuid: uuid_mod.UUID | str, release_uuid: uuid_mod.UUID | str
) -> Release:
    group = get_group_for_moderator(user, group_uuid)
    release = Release.objects.filter(group=group, uuid=_key(release_uuid)).first()
    if release is None:
        raise Http404("No such release.")
    release.group = group
    return release


def get_membership_for_patient(user: User, membership_uuid: uuid_mod.UUID | str) -> Membership:
    if not user.is_authenticated or not user.is_patient:
        raise Http404("No such membership.")
    membership = (
        Membership.objects.select_related("group")
        .filter(patient=user, uuid=_key(membership_uuid))
        .first()
    )
    if membership is None:
        raise Http404("No such membership.")
    return membership


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def get_public_release(token: str) -> Release:
    """A published, unrevoked release by its public token; anything else is a 404."""
    # Only what secrets.token_urlsafe makes is looked up: other text (a NUL, which PostgreSQL
    # refuses in a query) is a plain 404 without touching the database.
    if not _TOKEN.fullmatch(token or ""):
        raise Http404("No such release.")
    release = (
        Release.objects.select_related("group")
        .filter(
            public_token=token,
            published_at__isnull=False,
            revoked_at__isnull=True,
            status=Release.Status.READY,
        )
        .first()
    )
    if release is None:
        raise Http404("No such release.")
    return release


# --- Lists ------------------------------------------------------------------------------------


def groups_for_moderator(user: User) -> QuerySet[SupportGroup]:
    return SupportGroup.objects.filter(moderator=user).annotate(
        members=Count("memberships", filter=Q(memberships__left_at__isnull=True)),
        contributors=Count(
            "memberships",
            filter=Q(
                memberships__left_at__isnull=True, memberships__contributing_since__isnull=False
            ),
        ),
    )


def roster(group: SupportGroup) -> QuerySet[Membership]:
    """Who joined: the moderator sees names, join dates and whether each contributes, nothing
    else about a member."""
    return (
        Membership.objects.filter(group=group, left_at__isnull=True)
        .select_related("patient")
        .only(
            "uuid",
            "joined_at",
            "contributing_since",
            "left_at",
            "patient__username",
            "patient__display_name",
        )
        .order_by("joined_at", "id")
    )


def releases_of(group: SupportGroup) -> QuerySet[Release]:
    return Release.objects.filter(group=group).defer("results").order_by("-requested_at", "-id")


def memberships_for_patient(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(patient=user)
        .select_related("group")
        .prefetch_related(Prefetch("events", queryset=MembershipEvent.objects.order_by("-at")))
        .order_by("left_at", "-joined_at")
    )


def contributing_patient_ids(group: SupportGroup) -> list[int]:
    """The members counted by a release computed now: in the group, agreeing, account active."""
    return list(
        Membership.objects.filter(
            group=group,
            left_at__isnull=True,
            contributing_since__isnull=False,
            patient__is_active=True,
        )
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
    )


# --- The one read of diaries and trends ---------------------------------------------------------


def member_outcomes(patient_ids: Sequence[int], *, today: dt.date) -> list[MemberOutcome]:
    """One ``MemberOutcome`` per patient, from the stored response summaries and trend rows and
    the diary: the only place the community app reads them (four queries, whatever the group's
    size).

    - ``dose_ug``: the latest dose change on or before ``today``.
    - ``pain_class``: the stored class of pain in the week-4/8/12 windows; None when the window
      is not valid or has no class (docs/clinical-rules.md §2-3).
    - ``first_moderate_week``: the therapy week (1 = days 0-6) of the first day whose stored
      7-day pain mean is 30 % or more below baseline (from the stored series,
      ``trends.selectors.series_values``).
    - side effects reported at least once in therapy weeks 1-4 (days 0-27) and after.
    - ``adherence``: over logged days with a non-zero dose in force, the share with the dose
      taken, a partly taken dose counting half.
    Therapy start is the stored summary's, or the first non-zero dose when there is no summary.
    """
    ids = sorted(set(patient_ids))
    if not ids:
        return []
    # The few summary columns read here; the arrays are None only on a placeholder row.
    summaries = {
        pid: _StoredSummary(therapy_start, weeks, classes)
        for pid, therapy_start, weeks, classes in ResponseSummary.objects.filter(
            patient_id__in=ids
        ).values_list("patient_id", "therapy_start", "window_week", "symptom_class")
        if weeks is not None and classes is not None
    }
    dose_changes: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for pid, day, ug in (
        DoseChange.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "effective_date")
        .values_list("patient_id", "effective_date", "dose_ug")
    ):
        dose_changes[pid].append((day, ug))
    improved: dict[int, list[dt.date]] = defaultdict(list)
    for series in TrendSeries.objects.filter(patient_id__in=ids).only(
        "patient_id", "start", *SERIES_VALUE_FIELDS
    ):
        pain_pct = series_values(series)[2][:, SYMPTOMS.index("pain")]
        with np.errstate(invalid="ignore"):  # NaN (no change) is never an improvement
            days = np.flatnonzero(pain_pct >= IMMPACT_MODERATE_PCT).tolist()
        improved[series.patient_id] = [series.start + dt.timedelta(days=n) for n in days]
    entries: dict[int, list[tuple[dt.date, list[str], str]]] = defaultdict(list)
    for pid, day, effects, taken in (
        DiaryEntry.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "date")
        .values_list("patient_id", "date", "side_effects", "dose_taken")
    ):
        entries[pid].append((day, effects or [], taken))

    out = []
    for pid in ids:
        summary = summaries.get(pid)
        changes = dose_changes.get(pid, [])
        start = _therapy_start(summary, changes)
        out.append(
            MemberOutcome(
                dose_ug=_dose_on(changes, today),
                pain_class=week_pain_classes(
                    summary.window_week if summary else None,
                    summary.symptom_class if summary else None,
                ),
                first_moderate_week=_first_week(start, improved.get(pid, [])),
                side_effects_early=_effects(start, entries.get(pid, []), early=True),
                side_effects_late=_effects(start, entries.get(pid, []), early=False),
                adherence=_adherence(changes, entries.get(pid, [])),
            )
        )
    return out


@dataclass(frozen=True)
class _StoredSummary:
    therapy_start: dt.date | None
    window_week: np.ndarray
    symptom_class: np.ndarray


def _therapy_start(
    summary: _StoredSummary | None, changes: list[tuple[dt.date, int]]
) -> dt.date | None:
    if summary is not None and summary.therapy_start is not None:
        return summary.therapy_start
    return doses.therapy_start(changes)


def _dose_on(changes: list[tuple[dt.date, int]], day: dt.date) -> int | None:
    index = doses.dose_in_force(changes, day)
    return None if index is None else changes[index][1]


def _first_week(start: dt.date | None, improved: list[dt.date]) -> int | None:
    if start is None:
        return None
    day = next((d for d in improved if d >= start), None)
    return None if day is None else (day - start).days // 7 + 1


def _effects(
    start: dt.date | None, entries: list[tuple[dt.date, list[str], str]], *, early: bool
) -> frozenset[str]:
    if start is None:
        return frozenset()
    cut = start + dt.timedelta(days=7 * EARLY_WEEKS)
    return frozenset(
        code
        for day, effects, _ in entries
        if day >= start and (day < cut) == early
        for code in effects
    )


def _adherence(
    changes: list[tuple[dt.date, int]], entries: list[tuple[dt.date, list[str], str]]
) -> float | None:
    """The engine's adherence rule (clinical.stats.dose_adherence) over logged days with a
    non-zero dose in force."""
    if not changes or not entries:
        return None
    change_days = np.array([d.toordinal() for d, _ in changes], dtype=np.int64)
    entry_days = np.array([d.toordinal() for d, _, _ in entries], dtype=np.int64)
    index = doses.dose_index_on(
        np.zeros(len(changes), dtype=np.int64),
        change_days,
        np.zeros(len(entries), dtype=np.int64),
        entry_days,
    )
    ug = np.array([u for _, u in changes], dtype=np.int64)
    on_ldn = (index >= 0) & (ug[np.maximum(index, 0)] > 0)
    taken = np.array([t for _, _, t in entries])[on_ldn]
    if not len(taken):
        return None
    yes, partly = int((taken == "yes").sum()), int((taken == "partly").sum())
    return float(stats.dose_adherence(yes, partly, len(taken)))  # type: ignore[arg-type]
