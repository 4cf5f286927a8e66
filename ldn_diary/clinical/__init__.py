"""Pure-Python clinical maths for LDN Diary (docs/clinical-rules.md §1-3); no Django imports.

The public API is `compute_cohort` (vectorised over patients) and `compute_patient` (one patient,
same engine), with their `CohortInput` / `CohortResult` containers, and `compare_windows` (is one
patient's change beyond day-to-day variation?) with its vectorised form `compare_windows_batch`.
Constants live in `ldn_diary.clinical.constants`, the statistics in `ldn_diary.clinical.stats` and
`ldn_diary.clinical.compare`.
"""

from __future__ import annotations

from . import compare, constants, stats
from .compare import Comparison, WindowComparisons, compare_windows, compare_windows_batch
from .engine import CohortInput, CohortResult, compute_cohort, compute_patient

__all__ = (
    "CohortInput",
    "CohortResult",
    "Comparison",
    "WindowComparisons",
    "compare",
    "compare_windows",
    "compare_windows_batch",
    "compute_cohort",
    "compute_patient",
    "constants",
    "stats",
)
