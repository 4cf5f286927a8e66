"""Pure-Python clinical maths for LDN Diary (docs/clinical-rules.md §1-3); no Django imports.

The public API is `compute_cohort` (vectorised over patients) and `compute_patient` (one patient,
same engine), with their `CohortInput` / `CohortResult` containers.  Constants live in
`ldn_diary.clinical.constants`, the statistics in `ldn_diary.clinical.stats`.
"""

from __future__ import annotations

from . import constants, stats
from .engine import CohortInput, CohortResult, compute_cohort, compute_patient

__all__ = (
    "CohortInput",
    "CohortResult",
    "compute_cohort",
    "compute_patient",
    "constants",
    "stats",
)
