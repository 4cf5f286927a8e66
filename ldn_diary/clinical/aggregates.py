"""A support group's shared aggregates, from one ``MemberOutcome`` per contributing member
(docs/clinical-rules.md §5).

``ldn_diary.community.selectors.member_outcomes`` reads the stored trends and diaries into
``MemberOutcome`` values; everything here works on those alone, so it is tested with hand-made
outcomes and does not change when the storage does.

A release is a fixed list of queries. Each gets a share of the release's ε (sequential
composition, ``QUERY_WEIGHTS``) and a sensitivity Δ: how much all of its counts together can
change (L1) when one member is added or removed. A query whose counts partition the members
(each member in exactly one cell, as in a histogram) has Δ = 1 however many cells it has
(parallel composition); a query in which a member can count in several cells has Δ = the most
cells one member can count in. Every count gets Laplace noise of scale Δ / ε_query
(``privacy.noisy_counts``); totals, percentages and the median are worked out from the noisy
counts afterwards, which costs nothing more. Then small cells are suppressed on the noisy counts
(``privacy.suppress``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import privacy
from .constants import WEEK_WINDOWS

# --- What is counted --------------------------------------------------------------------------

# Current-dose bands, by whole micrograms (docs/clinical-rules.md §1 stores doses in µg). A member
# with no dose yet, or paused at 0, is "not taking LDN now", so that every member is in one band.
DOSE_BANDS: tuple[tuple[str, str], ...] = (
    ("none", "Not taking LDN now"),
    ("under_1", "< 1 mg"),
    ("1_to_3", "1 to < 3 mg"),
    ("3_to_4.5", "3 to < 4.5 mg"),
    ("4.5", "4.5 mg"),
    ("over_4.5", "> 4.5 mg"),
)
STANDARD_DOSE_UG = 4500


def dose_band(dose_ug: int | None) -> str:
    if not dose_ug:
        return "none"
    if dose_ug < 1000:
        return "under_1"
    if dose_ug < 3000:
        return "1_to_3"
    if dose_ug < STANDARD_DOSE_UG:
        return "3_to_4.5"
    if dose_ug == STANDARD_DOSE_UG:
        return "4.5"
    return "over_4.5"


# Pain response at each week window: the IMMPACT class of the window (docs/clinical-rules.md §3),
# merged to three groups, or "not assessed" when the window (or the baseline) was not valid.
RESPONSE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("substantial", "Substantial (50 % or more)"),
    ("moderate", "Moderate (30 to < 50 %)"),
    ("below", "Under 30 %"),
    ("not_assessed", "Not assessed"),
)
CLASS_TO_COLUMN = {
    "substantial": "substantial",
    "moderate": "moderate",
    "minimal": "below",
    "none": "below",
}
RATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("moderate_or_better_pct", "30 % or more less pain (% of assessed)"),
    ("substantial_pct", "50 % or more (% of assessed)"),
)

# Side effects are counted in therapy weeks 1-4 (days 0-27, when LDN's vivid dreams and insomnia
# usually show) and after.
EARLY_WEEKS = 4
DAYS_PER_WEEK = 7

# Weeks to the first moderate response: therapy weeks 1..FIRST_RESPONSE_WEEKS, then "later".
FIRST_RESPONSE_WEEKS = 16

# Adherence bands of a member's share of logged days on LDN with the dose taken (design).
ADHERENCE_BANDS: tuple[tuple[str, str], ...] = (
    ("90_plus", "90 % or more"),
    ("80_to_90", "80 to < 90 %"),
    ("under_80", "Under 80 %"),
    ("no_data", "No logged days on LDN"),
)

# Each query's share of a release's ε (design): the member count and dose bands, and the overall
# pain response, get the most, because everything else is read against them.
QUERY_WEIGHTS: dict[str, float] = {
    "dose_bands": 20,
    "pain_response": 30,
    "pain_response_by_dose_band": 10,
    "first_response_count": 7.5,
    "first_response_weeks": 7.5,
    "side_effects": 15,
    "adherence": 10,
}
# A table is not shown at all when 95 % of its noise exceeds half the noisy member count: its
# numbers would be mostly noise (design). This looks only at noisy output and public
# parameters, so it costs no privacy.
NOISE_SHARE_LIMIT = 0.5


@dataclass(frozen=True)
class MemberOutcome:
    """What one contributing member adds to a release. Nothing here names a person or a date."""

    dose_ug: int | None  # the dose in force now, in µg; None = no dose yet, 0 = paused
    pain_class: Mapping[int, str | None] = field(default_factory=dict)  # week -> class or None
    first_moderate_week: int | None = None  # therapy week (1 = days 0-6) of the first >= 30 %
    side_effects_early: frozenset[str] = frozenset()  # reported at least once in weeks 1-4
    side_effects_late: frozenset[str] = frozenset()  # reported at least once after week 4
    adherence: float | None = None  # 0..1, None without logged days on LDN


def adherence_band(share: float | None) -> str:
    if share is None:
        return "no_data"
    share = min(1.0, max(0.0, share))
    if share >= 0.9:
        return "90_plus"
    if share >= 0.8:
        return "80_to_90"
    return "under_80"


def response_column(pain_class: str | None) -> str:
    return CLASS_TO_COLUMN.get(pain_class or "", "not_assessed")


# --- The release --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One noisy query of a release: its share of ε, its sensitivity Δ and its noise scale."""

    name: str
    epsilon: float
    sensitivity: float
    scale: float

    @property
    def margin(self) -> float:
        return privacy.margin(self.scale)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "epsilon": round(self.epsilon, 6),
            "sensitivity": self.sensitivity,
            "scale": round(self.scale, 6),
            "margin_95": round(self.margin, 3),
        }


@dataclass(frozen=True)
class ReleaseResult:
    """What a release publishes: tables (JSON-ready) and the accounting of its noise."""

    epsilon: float
    members: int | str | None  # the noisy member count, "<11", or None when withheld
    tables: list[dict[str, Any]]
    queries: list[Query]

    @property
    def count_scale(self) -> float:
        """The noise scale of the member count (the dose-band histogram, Δ = 1)."""
        return next(q.scale for q in self.queries if q.name == "dose_bands")

    def mechanism(self) -> dict[str, Any]:
        return {
            "name": "laplace",
            "library": privacy.library_version(),
            "count_scale": round(self.count_scale, 6),
            "queries": [q.as_dict() for q in self.queries],
        }


def plan_queries(epsilon: float, n_side_effects: int) -> dict[str, Query]:
    """The release's queries with their ε shares, sensitivities and scales."""
    sensitivity = {
        "dose_bands": 1.0,  # a histogram: each member in one band
        # One cell per week window for each member: a partition per week, three weeks.
        "pain_response": float(len(WEEK_WINDOWS)),
        "pain_response_by_dose_band": float(len(WEEK_WINDOWS)),
        "first_response_count": 1.0,  # reached / not reached
        "first_response_weeks": 1.0,  # a histogram of the week reached
        # A member can count once for every side effect in each of the two periods.
        "side_effects": float(2 * n_side_effects),
        "adherence": 1.0,  # a histogram of adherence bands
    }
    shares = privacy.split_epsilon(epsilon, QUERY_WEIGHTS)
    return {
        name: Query(
            name,
            shares[name],
            sensitivity[name],
            privacy.noise_scale(sensitivity=sensitivity[name], epsilon=shares[name]),
        )
        for name in QUERY_WEIGHTS
    }


def compute_release(
    outcomes: Sequence[MemberOutcome],
    *,
    epsilon: float,
    side_effects: Sequence[tuple[str, str]],
    random_state: privacy.RandomState = None,
) -> ReleaseResult:
    """Every table of a release, noisy and suppressed.

    ``side_effects`` are the (code, label) pairs to count. ``random_state`` None draws from the
    operating system's secure generator; an int seeds one generator for the whole release (each
    query then draws from the same stream rather than repeating it).
    """
    rng: privacy.RandomState = (
        np.random.RandomState(random_state) if isinstance(random_state, int) else random_state
    )
    queries = plan_queries(epsilon, len(side_effects))

    def noisy(name: str, counts: Sequence[int]) -> list[int]:
        q = queries[name]
        return privacy.noisy_counts(
            counts, epsilon=q.epsilon, sensitivity=q.sensitivity, random_state=rng
        )

    # Draw every query's noise first, in a fixed order, so a seed gives the same release.
    bands = [key for key, _ in DOSE_BANDS]
    columns = [key for key, _ in RESPONSE_COLUMNS]
    weeks = list(WEEK_WINDOWS)
    band_counts = noisy("dose_bands", _histogram(outcomes, bands, lambda o: dose_band(o.dose_ug)))
    overall = noisy(
        "pain_response",
        [n for w in weeks for n in _histogram(outcomes, columns, _response_at(w))],
    )
    cross_keys = [(b, w, c) for b in bands for w in weeks for c in columns]
    cross_true: dict[tuple[str, int, str], int] = dict.fromkeys(cross_keys, 0)
    for o in outcomes:
        for w in weeks:
            cross_true[(dose_band(o.dose_ug), w, _response(o, w))] += 1
    cross = dict(
        zip(
            cross_keys,
            noisy("pain_response_by_dose_band", [cross_true[k] for k in cross_keys]),
            strict=True,
        )
    )
    reached, not_reached = noisy(
        "first_response_count",
        _histogram(
            outcomes,
            ["yes", "no"],
            lambda o: "no" if o.first_moderate_week is None else "yes",
        ),
    )
    week_bins = [str(k) for k in range(1, FIRST_RESPONSE_WEEKS + 1)] + ["later"]
    week_counts = noisy(
        "first_response_weeks",
        _histogram(
            [o for o in outcomes if o.first_moderate_week is not None],
            week_bins,
            lambda o: (
                str(o.first_moderate_week)
                if (o.first_moderate_week or 0) <= FIRST_RESPONSE_WEEKS
                else "later"
            ),
        ),
    )
    codes = [code for code, _ in side_effects]
    effect_true = [sum(code in o.side_effects_early for o in outcomes) for code in codes] + [
        sum(code in o.side_effects_late for o in outcomes) for code in codes
    ]
    effect_counts = noisy("side_effects", effect_true)
    adherence = noisy(
        "adherence",
        _histogram(
            outcomes, [k for k, _ in ADHERENCE_BANDS], lambda o: adherence_band(o.adherence)
        ),
    )

    # Then the tables, from the noisy counts only.
    members = sum(band_counts)
    tables = [
        _partition_table(
            "members_by_dose_band",
            "Members by current dose",
            "dose_bands",
            DOSE_BANDS,
            band_counts,
            "All contributing members",
        ),
        _response_table(
            "pain_response",
            "Pain response at weeks 4, 8 and 12, all members",
            "pain_response",
            [
                (f"Week {w}", overall[i * len(columns) : (i + 1) * len(columns)])
                for i, w in enumerate(weeks)
            ],
        ),
        _response_table(
            "pain_response_by_dose_band",
            "Pain response by current dose",
            "pain_response_by_dose_band",
            [
                (f"{label}, week {w}", [cross[(b, w, c)] for c in columns])
                for b, label in DOSE_BANDS
                for w in weeks
            ],
        ),
        _first_response_table(reached, not_reached, week_bins, week_counts),
        _side_effect_table(side_effects, effect_counts, members),
        _partition_table(
            "adherence",
            "Members by share of days on LDN with the dose taken",
            "adherence",
            ADHERENCE_BANDS,
            adherence,
            "All members counted",
        ),
    ]
    _guard(tables, queries, members)
    member_cell = tables[0]["rows"][-1]["cells"].get("members")
    return ReleaseResult(epsilon, member_cell, tables, list(queries.values()))


def _histogram(
    outcomes: Iterable[MemberOutcome], keys: Sequence[str], key_of: Callable[[MemberOutcome], str]
) -> list[int]:
    counts = dict.fromkeys(keys, 0)
    for o in outcomes:
        counts[key_of(o)] += 1
    return [counts[k] for k in keys]


def _response(outcome: MemberOutcome, week: int) -> str:
    return response_column(outcome.pain_class.get(week))


def _response_at(week: int) -> Callable[[MemberOutcome], str]:
    return lambda outcome: _response(outcome, week)


def _pct(numerator: int, denominator: int) -> int:
    return min(100, max(0, math.floor(100 * numerator / denominator + 0.5)))


def _published(value: int, cell: privacy.Cell) -> int | str | None:
    if cell is privacy.Cell.SHOWN:
        return value
    if cell is privacy.Cell.SMALL:
        return privacy.SMALL_MARK
    return None


def _cells(pairs: Iterable[tuple[str, int | str | None]]) -> dict[str, int | str]:
    """A row's cells; a withheld cell is left out (JSON: absent; pages: a dash)."""
    return {key: value for key, value in pairs if value is not None}


def _partition_table(
    name: str,
    title: str,
    query: str,
    rows: Sequence[tuple[str, str]],
    counts: Sequence[int],
    total_label: str,
) -> dict[str, Any]:
    """A histogram with its total row and each row's percentage of the total."""
    total = sum(counts)
    values = {key: n for (key, _), n in zip(rows, counts, strict=True)} | {"total": total}
    states = privacy.suppress(values, [privacy.Sum("total", tuple(k for k, _ in rows))])
    out_rows = []
    for key, label in [*rows, ("total", total_label)]:
        shown = states[key] is privacy.Cell.SHOWN and states["total"] is privacy.Cell.SHOWN
        percent = _pct(values[key], total) if shown and total and key != "total" else None
        out_rows.append(
            {
                "label": label,
                "cells": _cells(
                    (("members", _published(values[key], states[key])), ("percent", percent))
                ),
            }
        )
    return {
        "name": name,
        "title": title,
        "query": query,
        "columns": [_column("members", "Members"), _column("percent", "% of all", "percent")],
        "rows": out_rows,
        "withheld": None,
    }


def _response_table(
    name: str, title: str, query: str, rows: Sequence[tuple[str, Sequence[int]]]
) -> dict[str, Any]:
    """Members by response class per row; the rates only where all three assessed classes
    are shown (a rate beside a hidden count would give it away)."""
    columns = [key for key, _ in RESPONSE_COLUMNS]
    out_rows = []
    for label, counts in rows:
        values = dict(zip(columns, counts, strict=True))
        states = privacy.suppress(values)
        assessed = values["substantial"] + values["moderate"] + values["below"]
        rates_shown = assessed > 0 and all(
            states[c] is privacy.Cell.SHOWN for c in ("substantial", "moderate", "below")
        )
        rates = (
            {
                "moderate_or_better_pct": _pct(
                    values["substantial"] + values["moderate"], assessed
                ),
                "substantial_pct": _pct(values["substantial"], assessed),
            }
            if rates_shown
            else {}
        )
        out_rows.append(
            {
                "label": label,
                "cells": _cells((c, _published(values[c], states[c])) for c in columns) | rates,
            }
        )
    return {
        "name": name,
        "title": title,
        "query": query,
        "columns": [_column(k, label) for k, label in RESPONSE_COLUMNS]
        + [_column(k, label, "percent") for k, label in RATE_COLUMNS],
        "rows": out_rows,
        "withheld": None,
    }


def _first_response_table(
    reached: int, not_reached: int, week_bins: Sequence[str], week_counts: Sequence[int]
) -> dict[str, Any]:
    states = privacy.suppress({"reached": reached, "not_reached": not_reached})
    median = _median_week(week_bins, week_counts)
    reached_cells = _cells(
        (
            ("members", _published(reached, states["reached"])),
            ("median_week", median if states["reached"] is privacy.Cell.SHOWN else None),
        )
    )
    return {
        "name": "first_moderate_response",
        "title": "Weeks to the first moderate pain response (7-day mean 30 % or more below baseline)",
        "query": "first_response_count",
        "columns": [_column("members", "Members"), _column("median_week", "Median week", "week")],
        "rows": [
            {"label": "Reached a moderate response", "cells": reached_cells},
            {
                "label": "Not (yet) reached",
                "cells": _cells((("members", _published(not_reached, states["not_reached"])),)),
            },
        ],
        "withheld": None,
    }


def _median_week(week_bins: Sequence[str], counts: Sequence[int]) -> int | None:
    """The therapy week by which half the (noisy) count had reached a moderate response."""
    total = sum(counts)
    if total == 0:
        return None
    running = 0
    for label, n in zip(week_bins, counts, strict=True):
        running += n
        if 2 * running >= total:
            return None if label == "later" else int(label)
    return None  # pragma: no cover - the loop always reaches the total


def _side_effect_table(
    side_effects: Sequence[tuple[str, str]], counts: Sequence[int], members: int
) -> dict[str, Any]:
    """Members reporting each side effect at least once, in weeks 1-4 and after, with the share
    of the member count (itself shown in the dose table)."""
    n = len(side_effects)
    member_shown = privacy.primary(members) is privacy.Cell.SHOWN
    rows = []
    for i, (_, label) in enumerate(side_effects):
        pairs: list[tuple[str, int | str | None]] = []
        for period, value in (("weeks_1_4", counts[i]), ("after_week_4", counts[n + i])):
            state = privacy.primary(value)
            pairs.append((period, _published(value, state)))
            shown = state is privacy.Cell.SHOWN and member_shown and members > 0
            pairs.append((f"{period}_pct", _pct(value, members) if shown else None))
        rows.append({"label": label, "cells": _cells(pairs)})
    return {
        "name": "side_effects",
        "title": "Members reporting each side effect at least once",
        "query": "side_effects",
        "columns": [
            _column("weeks_1_4", "Weeks 1-4"),
            _column("weeks_1_4_pct", "% of members", "percent"),
            _column("after_week_4", "After week 4"),
            _column("after_week_4_pct", "% of members", "percent"),
        ],
        "rows": rows,
        "withheld": None,
    }


def _column(key: str, label: str, kind: str = "count") -> dict[str, str]:
    return {"key": key, "label": label, "kind": kind}


def _guard(tables: list[dict[str, Any]], queries: Mapping[str, Query], members: int) -> None:
    """Withhold whole tables whose numbers would be mostly noise (see NOISE_SHARE_LIMIT), and
    all but the dose table when the member count itself is not shown."""
    too_few = not isinstance(tables[0]["rows"][-1]["cells"].get("members"), int) or members == 0
    for table in tables:
        noisy_query = queries[table["query"]].margin > NOISE_SHARE_LIMIT * members
        if table["name"] == "first_moderate_response":
            noisy_query = noisy_query or (
                queries["first_response_weeks"].margin > NOISE_SHARE_LIMIT * members
            )
        reason = None
        if too_few and table["name"] != "members_by_dose_band":
            reason = "too_few_members"
        elif noisy_query:
            reason = "too_noisy"
        if reason:
            table["withheld"] = reason
            for row in table["rows"]:
                row["cells"] = {}
