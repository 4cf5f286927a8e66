"""Number formats the clinic pages share, so "4.5 mg", "83 %" and "+34 %" look the same everywhere."""

from __future__ import annotations

from django import template

from ldn_diary.clinical.stats import shown_percent
from ldn_diary.diary.dosing import format_mg

register = template.Library()


@register.filter
def mg(dose_ug: int | None) -> str:
    """4500 -> "4.5" (the unit is written by the template)."""
    return format_mg(dose_ug)


@register.filter
def pct(share: float | None) -> str:
    """0.834 -> "83 %"; None -> "—"."""
    if share is None:
        return "—"
    return f"{round(100 * share)} %"


@register.filter
def signed_pct(value: float | None) -> str:
    """Change from baseline, positive = better: 34.2 -> "+34 %", -5 -> "−5 %"."""
    if value is None:
        return "—"
    shown = shown_percent(value)
    if shown == 0:
        return "0 %"
    return f"{'+' if shown > 0 else '−'}{abs(shown)} %"


@register.filter
def ci(cell) -> str:
    """A symptom cell's 95 % interval of the change in points, e.g. "+1.2 to +3.1"."""
    if cell is None or cell.ci_low is None:
        return "—"
    return f"{cell.ci_low:+.1f} to {cell.ci_high:+.1f}"


@register.filter
def lower_pct(fall: float | None) -> str:
    """A score's fall from its baseline, in % of it: 22.8 -> "22 % lower", -5 -> "5 % higher".

    Truncated toward zero like every shown percent (clinical.stats.shown_percent), so a fall
    shown as 14 % is one that meets the 14 % MCID, and 13.9 % never shows as 14 %.
    """
    if fall is None:
        return "—"
    shown = shown_percent(fall)
    if shown == 0:
        return "unchanged"
    return f"{abs(shown)} % {'lower' if shown > 0 else 'higher'}"


@register.filter
def score(value: float | None) -> str:
    """A questionnaire score to one decimal (as scored, never rounded before); None -> "—"."""
    return "—" if value is None else f"{value:.1f}"


@register.filter
def score_change(fall: float | None) -> str:
    """The same fall as a signed change of the score, for the brief: 22.8 -> "−22 %"."""
    if fall is None:
        return "—"
    shown = shown_percent(fall)
    if shown == 0:
        return "±0 %"
    return f"{'−' if shown > 0 else '+'}{abs(shown)} %"


@register.filter
def score_short(value: float | None) -> str:
    """A score in as few characters as it takes, for the brief: 21.0 -> "21", 15.33 -> "15.3"."""
    return "—" if value is None else f"{round(value, 1):g}"
