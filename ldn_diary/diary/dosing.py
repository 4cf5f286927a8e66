"""Doses: their bounds, as people write them (milligrams, up to 3 decimals) and as we store them
(micrograms). docs/clinical-rules.md §1.

Pure functions with no database access: the dose forms, the services, the CSV import and the
charts all use them, so "4.5" means exactly 4 500 µg everywhere and a float never touches a dose.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Doses in micrograms: 1 µg (ultra-low) to 50 mg; 0 means stopped or paused. The database's
# dose_ug_in_range and plan_*_in_range constraints hold the same bounds.
MIN_DOSE_UG = 1
MAX_DOSE_UG = 50_000
DOSE_HELP = _("Enter a dose between 0.001 mg (1 µg) and 50 mg, with at most 3 decimals, e.g. 4.5.")

# Plain decimals only: "1e3", "Infinity" and "-1" are refused rather than guessed at.
_PLAIN_DECIMAL = re.compile(r"\d+(\.\d*)?|\.\d+")
_UG_PER_MG = Decimal(1000)


def parse_dose_mg(text: str, *, allow_zero: bool = False) -> int:
    """Turn "4.5" (mg) into 4500 (µg), or raise a ValidationError that says how to fix it.

    A comma is accepted as the decimal mark (phones in many locales offer only a comma), and a
    trailing "mg" is ignored. Zero is accepted only where the caller allows it: the form's explicit
    "stopped/paused" action and the CSV column, never the ordinary dose field.
    """
    shown = (text or "").strip()
    cleaned = shown.lower().removesuffix("mg").strip().replace(",", ".")
    if not _PLAIN_DECIMAL.fullmatch(cleaned):
        prefix = gettext("%(text)r is not a dose in mg. ") % {"text": shown} if shown else ""
        raise ValidationError(prefix + str(DOSE_HELP), code="dose_format")
    try:
        micrograms = Decimal(cleaned) * _UG_PER_MG
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already excludes it
        raise ValidationError(DOSE_HELP, code="dose_format") from exc
    if micrograms != micrograms.to_integral_value():
        raise ValidationError(
            gettext("%(mg)s mg has more than 3 decimals. %(help)s")
            % {"mg": cleaned, "help": DOSE_HELP},
            code="dose_decimals",
        )
    dose_ug = int(micrograms)
    if dose_ug == 0 and allow_zero:
        return 0
    if dose_ug == 0:
        raise ValidationError(
            gettext(
                "0 mg is not a dose (to record a stop or pause, use “Stopped or paused?” on the "
                "Doses page). %(help)s"
            )
            % {"help": DOSE_HELP},
            code="dose_range",
        )
    if dose_ug > MAX_DOSE_UG:
        raise ValidationError(
            gettext("%(mg)s mg is more than 50 mg. %(help)s") % {"mg": cleaned, "help": DOSE_HELP},
            code="dose_range",
        )
    return dose_ug


def is_dose_ug(value: object, *, allow_zero: bool) -> bool:
    """A dose in micrograms within the bounds (0 only where a stop or pause is allowed)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return (allow_zero and value == 0) or MIN_DOSE_UG <= value <= MAX_DOSE_UG


def format_mg(dose_ug: int | None) -> str:
    """4500 -> "4.5", 1 -> "0.001", 12000 -> "12", 0 -> "0", None -> "" (no LDN yet).

    The CSV export writes exactly this, and the import reads it back, so it must stay canonical:
    no trailing zeros, no exponent.
    """
    if dose_ug is None:
        return ""
    value = (Decimal(dose_ug) / _UG_PER_MG).normalize()
    return f"{value:f}"


def display_mg(dose_ug: int | None) -> str:
    """format_mg for reading, in the active language's number format: "4.5" in English, "4,5" in
    Spanish. Only for pages and messages; the CSV and form fields keep format_mg's canonical text
    (parse_dose_mg reads either decimal mark back)."""
    canonical = format_mg(dose_ug)
    return formats.number_format(Decimal(canonical)) if canonical else ""
