"""The response summary in columnar form, and the one function that turns it into the dict.

The engine (``engine.compute_cohort``) produces every patient's summary as numpy columns,
``SummaryColumns``: a value per patient, a row per window (each treated patient's
WEEK_WINDOWS week windows, then that patient's dose phases, patients in order) and a row per
window and symptom. That is what the trends app stores, column for column. ``summary_dict``
rebuilds one patient's summary dict from them (docs/clinical-rules.md §2-3 describe its keys);
it is the only place the dict's shape is written down.

Codes: days are ``date.toordinal()`` numbers with NO_DAY (0) for "none"; a missing dose is
NO_DOSE; tri-state values (True / False / not assessable) are 1 / 0 / -1; a response class is
0 for none, else 1 + its index in CLASS_LABELS; a missing float is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np

from .arrays import BoolArray, FloatArray, IntArray
from .constants import BASELINE_DAYS, CLASS_LABELS, MICROGRAMS_PER_MG, SYMPTOMS

__all__ = (
    "CLASSES",
    "NO_DAY",
    "PATIENT_FIELDS",
    "SYMPTOM_FIELDS",
    "WINDOW_FIELDS",
    "SummaryColumns",
    "concat_summaries",
    "summary_dict",
)

NO_DAY = 0  # no date (ordinals start at 1)

# A response class by its code: CLASSES[code].
CLASSES: tuple[str | None, ...] = (None, *CLASS_LABELS)
_TRISTATE: tuple[bool | None, ...] = (False, True, None)  # indexed by code: 0, 1, -1


@dataclass(frozen=True)
class SummaryColumns:
    """P patients' response summaries; W windows in all, in patient order."""

    # Per patient, (P,); baseline_mean (P, 4) in SYMPTOMS order.
    therapy_start: IntArray  # NO_DAY without a dose
    data_start: IntArray  # first diary day, NO_DAY without entries
    data_end: IntArray
    baseline_valid: BoolArray
    baseline_days: IntArray  # days logged in the baseline (0 without a therapy start)
    baseline_mean: FloatArray  # NaN: no value (or no therapy start)
    assessed: IntArray  # the assessed week window's index among the patient's windows, or -1
    window_bounds: IntArray  # (P + 1,): patient p's windows are rows bounds[p]:bounds[p + 1]
    # Per window, (W,).
    window_week: IntArray  # the week number of a week window; 0 for a dose phase
    window_start: IntArray
    window_end: IntArray
    window_assessed_start: IntArray  # a phase's settled tail (to window_end); NO_DAY: none
    window_dose_ug: IntArray  # a phase's dose; NO_DOSE for a week window
    window_days_logged: IntArray
    window_valid: BoolArray
    window_adherence: FloatArray
    window_low_adherence: IntArray  # tri-state
    window_composite: IntArray  # tri-state
    # Per window and symptom, (W, 4).
    symptom_mean: FloatArray
    symptom_change_points: FloatArray
    symptom_change_pct: FloatArray
    symptom_class: IntArray
    symptom_two_point: IntArray  # tri-state
    symptom_ci_low: FloatArray
    symptom_ci_high: FloatArray
    symptom_beyond_noise: IntArray  # tri-state
    symptom_tau_u: FloatArray
    symptom_n: IntArray

    @property
    def n_patients(self) -> int:
        return len(self.therapy_start)


PATIENT_FIELDS = tuple(
    f.name for f in fields(SummaryColumns) if not f.name.startswith(("window_", "symptom_"))
)
WINDOW_FIELDS = tuple(f.name for f in fields(SummaryColumns) if f.name.startswith("window_"))
SYMPTOM_FIELDS = tuple(f.name for f in fields(SummaryColumns) if f.name.startswith("symptom_"))


def _iso(day: int) -> str | None:
    return None if day == NO_DAY else date.fromordinal(day).isoformat()


def _float(value: float) -> float | None:
    return None if value != value else value  # NaN -> None


def summary_dict(columns: SummaryColumns, p: int) -> dict[str, Any]:
    """Patient p's summary as the JSON-ready dict pages and reports read."""
    c = columns
    lo, hi = int(c.window_bounds[p]), int(c.window_bounds[p + 1])
    therapy = int(c.therapy_start[p])
    means = c.baseline_mean[p].tolist()
    baseline = {
        "valid": bool(c.baseline_valid[p]),
        "days_logged": int(c.baseline_days[p]),
        "start": _iso(therapy - BASELINE_DAYS if therapy != NO_DAY else NO_DAY),
        "end": _iso(therapy - 1 if therapy != NO_DAY else NO_DAY),
        **{symptom: _float(m) for symptom, m in zip(SYMPTOMS, means, strict=True)},
    }
    win = {name: getattr(c, name)[lo:hi].tolist() for name in WINDOW_FIELDS}
    sym = {name: getattr(c, name)[lo:hi].tolist() for name in SYMPTOM_FIELDS}
    windows: list[dict[str, Any]] = []
    phases: list[dict[str, Any]] = []
    for i in range(hi - lo):
        symptoms = {
            symptom: {
                "mean": _float(sym["symptom_mean"][i][k]),
                "change_points": _float(sym["symptom_change_points"][i][k]),
                "change_pct": _float(sym["symptom_change_pct"][i][k]),
                "class": CLASSES[sym["symptom_class"][i][k]],
                "two_point": _TRISTATE[sym["symptom_two_point"][i][k]],
                "ci_low": _float(sym["symptom_ci_low"][i][k]),
                "ci_high": _float(sym["symptom_ci_high"][i][k]),
                "beyond_noise": _TRISTATE[sym["symptom_beyond_noise"][i][k]],
                "tau_u": _float(sym["symptom_tau_u"][i][k]),
                "n": sym["symptom_n"][i][k],
            }
            for k, symptom in enumerate(SYMPTOMS)
        }
        tail: dict[str, Any] = {
            "days_logged": win["window_days_logged"][i],
            "valid": win["window_valid"][i],
            "adherence": _float(win["window_adherence"][i]),
            "low_adherence": _TRISTATE[win["window_low_adherence"][i]],
            "composite_responder": _TRISTATE[win["window_composite"][i]],
            "symptoms": symptoms,
        }
        start, end, week = win["window_start"][i], win["window_end"][i], win["window_week"][i]
        if week:
            head: dict[str, Any] = {"label": f"week_{week}", "week": week}
            windows.append({**head, "start": _iso(start), "end": _iso(end), **tail})
        else:
            dose, assessed_start = win["window_dose_ug"][i], win["window_assessed_start"][i]
            phases.append(
                {
                    "dose_ug": dose,
                    "dose_mg": dose / MICROGRAMS_PER_MG,
                    "start": _iso(start),
                    "end": _iso(end),
                    "phase_days": end - start + 1,
                    "window_start": _iso(assessed_start),
                    "window_end": None if assessed_start == NO_DAY else _iso(end),
                    **tail,
                }
            )
    k = int(c.assessed[p])
    return {
        "therapy_start": _iso(therapy),
        "data_start": _iso(int(c.data_start[p])),
        "data_end": _iso(int(c.data_end[p])),
        "baseline": baseline,
        "windows": windows,
        "phases": phases,
        "assessed_window": None if k < 0 else windows[k]["label"],
        "composite_responder": None if k < 0 else windows[k]["composite_responder"],
    }


def concat_summaries(parts: Sequence[SummaryColumns]) -> SummaryColumns:
    """The summaries of consecutive parts of a cohort as one."""
    merged: dict[str, Any] = {}
    for name in (*PATIENT_FIELDS, *WINDOW_FIELDS, *SYMPTOM_FIELDS):
        if name == "window_bounds":
            offsets = np.cumsum([0] + [int(part.window_bounds[-1]) for part in parts[:-1]])
            merged[name] = np.concatenate(
                [[0]]
                + [part.window_bounds[1:] + off for part, off in zip(parts, offsets, strict=True)]
            ).astype(np.int64)
        else:
            merged[name] = np.concatenate([getattr(part, name) for part in parts])
    return SummaryColumns(**merged)
