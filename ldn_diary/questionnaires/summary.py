"""Scores of a patient's finished questionnaires, for the clinician (docs/clinical-rules.md §4).

Pure functions of the stored answers: the scoring is ``ldn_diary.clinical``'s, the change of the
FIQR total is measured from the baseline (week 0), and a fall of at least ``FIQR_MCID_PCT`` %
is marked as the minimal clinically important difference (Bennett et al. 2009). Nothing is
rounded here; the pages round for display and ``response_report --json`` gives the numbers as
they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ldn_diary.clinical import questionnaires as q

from . import rules
from .schedule import ACR2016, FIQR, PGIC

PGIC_LABELS = dict(q.PGIC_CHOICES)


@dataclass(frozen=True)
class Completed:
    """One finished response as stored: what ``summarise`` takes."""

    instrument: str
    week: int
    answers: Mapping[str, Any]
    completed_on: dt.date


@dataclass(frozen=True)
class FiqrRow:
    week: int
    completed_on: dt.date
    function: float | None
    overall: float | None
    symptoms: float | None
    total: float | None
    answered: int
    # Fall of the total from the week-0 total, in % of it (positive = lower = better).
    fall_pct: float | None
    mcid_met: bool | None


@dataclass(frozen=True)
class PgicRow:
    week: int
    completed_on: dt.date
    answer: int
    label: str
    responder: bool


@dataclass(frozen=True)
class AcrRow:
    week: int
    completed_on: dt.date
    wpi: int
    sss: int
    fs: int
    generalized: bool
    met: bool


@dataclass(frozen=True)
class QuestionnaireSummary:
    fiqr: list[FiqrRow] = field(default_factory=list)
    pgic: list[PgicRow] = field(default_factory=list)
    acr: list[AcrRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.fiqr or self.pgic or self.acr)

    @property
    def latest_fiqr(self) -> FiqrRow | None:
        return self.fiqr[-1] if self.fiqr else None

    @property
    def acr_met_weeks(self) -> list[int]:
        return [r.week for r in self.acr if r.met]

    @property
    def acr_unmet_weeks(self) -> list[int]:
        return [r.week for r in self.acr if not r.met]

    def as_json(self) -> dict[str, Any]:
        """The ``questionnaires`` key of ``manage.py response_report --json``."""

        def rows(items: list[Any]) -> list[dict[str, Any]]:
            out = []
            for item in items:
                row = dict(item.__dict__)
                row["completed_on"] = item.completed_on.isoformat()
                if "fall_pct" in row:
                    row["fall_from_baseline_pct"] = row.pop("fall_pct")
                out.append(row)
            return out

        return {
            "fiqr_mcid_pct": q.FIQR_MCID_PCT,
            "fiqr": rows(self.fiqr),
            "pgic": rows(self.pgic),
            "acr2016": rows(self.acr),
        }


def fall_pct(baseline: float | None, later: float | None) -> float | None:
    """100 × (baseline − later) ÷ baseline; None without both or with a baseline of 0."""
    if baseline is None or later is None or baseline == 0:
        return None
    return 100.0 * (baseline - later) / baseline


def summarise(completed: Iterable[Completed]) -> QuestionnaireSummary:
    """Each instrument's rows by week, scored; the FIQR's change from week 0 and its MCID."""
    ordered = sorted(completed, key=lambda c: c.week)
    fiqr: list[FiqrRow] = []
    pgic: list[PgicRow] = []
    acr: list[AcrRow] = []
    baseline_total: float | None = None
    for c in ordered:
        if c.instrument == FIQR:
            score = q.fiqr_score(rules.fiqr_answers(c.answers))
            if c.week == 0:
                baseline_total = score.total
            later = c.week > 0
            fiqr.append(
                FiqrRow(
                    week=c.week,
                    completed_on=c.completed_on,
                    function=score.function,
                    overall=score.overall,
                    symptoms=score.symptoms,
                    total=score.total,
                    answered=rules.answered_count(FIQR, c.answers),
                    fall_pct=fall_pct(baseline_total, score.total) if later else None,
                    mcid_met=q.fiqr_mcid_met(baseline_total, score.total) if later else None,
                )
            )
        elif c.instrument == PGIC:
            answer = c.answers.get("answer")
            if isinstance(answer, int):
                pgic.append(
                    PgicRow(
                        week=c.week,
                        completed_on=c.completed_on,
                        answer=answer,
                        label=PGIC_LABELS[answer],
                        responder=q.pgic_responder(answer),
                    )
                )
        elif c.instrument == ACR2016:
            result = rules.acr_result(c.answers)
            if result is not None:
                acr.append(
                    AcrRow(
                        week=c.week,
                        completed_on=c.completed_on,
                        wpi=result.wpi,
                        sss=result.sss,
                        fs=result.fs,
                        generalized=result.generalized,
                        met=result.met,
                    )
                )
    return QuestionnaireSummary(fiqr=fiqr, pgic=pgic, acr=acr)
