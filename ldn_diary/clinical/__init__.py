"""Pure-Python clinical maths for LDN Diary (docs/clinical-rules.md §1-4); no Django imports.

The public API is `compute_cohort` (vectorised over patients) and `compute_patient` (one patient,
same engine), with their `CohortInput` / `CohortResult` containers and `trend_values` (7-day
means and changes from stored 7-day totals) (the response summaries as
`SummaryColumns`, one patient's as a dict by `summary_dict`); `compare_windows` (is one
patient's change beyond day-to-day variation?) with its vectorised form `compare_windows_batch`;
the dose-history rules in `ldn_diary.clinical.doses`; and the questionnaire scores `fiqr_score`,
`fiqr_mcid_met`, `pgic_responder` and `acr2016` with their item lists. Constants live in
`ldn_diary.clinical.constants` (the questionnaires' own in `ldn_diary.clinical.questionnaires`),
the statistics in `ldn_diary.clinical.stats` and `ldn_diary.clinical.compare`.
"""

from __future__ import annotations

from . import compare, constants, doses, questionnaires, stats, summary
from .compare import Comparison, WindowComparisons, compare_windows, compare_windows_batch
from .engine import CohortInput, CohortResult, compute_cohort, compute_patient, trend_values
from .questionnaires import (
    ACR_EXCLUDED_FROM_REGIONS,
    ACR_MIN_MONTHS,
    ACR_MIN_REGIONS,
    ACR_REGION_LABELS,
    ACR_REGIONS,
    ACR_SEVERITY_CHOICES,
    BODY_AREA_LABELS,
    BODY_AREAS,
    FIQR_DOMAIN_DIVISORS,
    FIQR_DOMAIN_SIZES,
    FIQR_DOMAINS,
    FIQR_ITEM_MAX,
    FIQR_ITEM_MIN,
    FIQR_ITEMS,
    FIQR_MAX_MISSING_PER_DOMAIN,
    FIQR_MCID_PCT,
    PGIC_CHOICES,
    PGIC_RESPONDER_MAX,
    Acr2016Result,
    FiqrItem,
    FiqrScore,
    acr2016,
    fiqr_mcid_met,
    fiqr_score,
    pgic_responder,
)
from .summary import SummaryColumns, summary_dict

__all__ = (
    "ACR_EXCLUDED_FROM_REGIONS",
    "ACR_MIN_MONTHS",
    "ACR_MIN_REGIONS",
    "ACR_REGIONS",
    "ACR_REGION_LABELS",
    "ACR_SEVERITY_CHOICES",
    "BODY_AREAS",
    "BODY_AREA_LABELS",
    "FIQR_DOMAINS",
    "FIQR_DOMAIN_DIVISORS",
    "FIQR_DOMAIN_SIZES",
    "FIQR_ITEMS",
    "FIQR_ITEM_MAX",
    "FIQR_ITEM_MIN",
    "FIQR_MAX_MISSING_PER_DOMAIN",
    "FIQR_MCID_PCT",
    "PGIC_CHOICES",
    "PGIC_RESPONDER_MAX",
    "Acr2016Result",
    "CohortInput",
    "CohortResult",
    "Comparison",
    "FiqrItem",
    "FiqrScore",
    "SummaryColumns",
    "WindowComparisons",
    "acr2016",
    "compare",
    "compare_windows",
    "compare_windows_batch",
    "compute_cohort",
    "compute_patient",
    "constants",
    "doses",
    "fiqr_mcid_met",
    "fiqr_score",
    "pgic_responder",
    "questionnaires",
    "stats",
    "summary",
    "summary_dict",
    "trend_values",
)
