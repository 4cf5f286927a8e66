"""One form per part of a questionnaire: request text to typed answers.

Every question may be left unanswered (a part is saved as it is, and finished later); what may
be finished is ``rules.finish_problem``'s to say. A tampered value is refused with the question
named, and nothing of the part is saved.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ldn_diary.clinical import questionnaires as q

from . import rules
from .schedule import ACR2016, FIQR, PGIC

YES_NO = [("yes", "Yes"), ("no", "No")]


def _radio(label: str, choices: list[tuple[Any, str]], coerce: Any, what: str) -> forms.Field:
    message = f"Choose one of the listed answers for {what}."
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=coerce,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": message},
    )


def _yes(value: str) -> bool:
    return value == "yes"


def field_name(instrument: str, key: str) -> str:
    """FIQR items are numbered; a form field needs a name that is not a bare number."""
    return f"item_{key}" if instrument == FIQR else key


class PartForm(forms.Form):
    """The questions of one part; ``answers()`` gives them keyed as ``rules`` stores them."""

    def __init__(self, instrument: str, part: rules.Part, *args: Any, **kwargs: Any) -> None:
        saved: dict[str, Any] = kwargs.pop("saved", {})
        super().__init__(*args, **kwargs)
        self.instrument, self.part = instrument, part
        items = {str(item.number): item for item in q.FIQR_ITEMS}
        for key in part.fields:
            name = field_name(instrument, key)
            if instrument == FIQR:
                item = items[key]
                field = _radio(
                    f"{item.number}. {item.text}",
                    [(n, str(n)) for n in range(q.FIQR_ITEM_MIN, q.FIQR_ITEM_MAX + 1)],
                    int,
                    f"question {key}",
                )
            elif instrument == PGIC:
                field = _radio("Your change overall", list(q.PGIC_CHOICES), int, "your rating")
            elif key == "painful_areas":
                field = forms.MultipleChoiceField(
                    label=_("Where you had pain"),
                    choices=list(q.BODY_AREA_LABELS.items()),
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages={"invalid_choice": _("Tick only the areas listed.")},
                )
            elif key in rules.ACR_SEVERITY_FIELDS:
                field = _radio(
                    rules.ACR_QUESTIONS[key],
                    list(q.ACR_SEVERITY_CHOICES),
                    int,
                    rules.ACR_LABELS[key],
                )
            else:
                field = _radio(rules.ACR_QUESTIONS[key], YES_NO, _yes, rules.ACR_LABELS[key])
            self.fields[name] = field
            value = saved.get(key)
            if isinstance(value, bool):
                self.initial[name] = "yes" if value else "no"
            elif value is not None:
                self.initial[name] = value

    def answers(self) -> dict[str, Any]:
        """The part's answers from ``cleaned_data``: None for a question left unanswered."""
        out: dict[str, Any] = {}
        for key in self.part.fields:
            value = self.cleaned_data.get(field_name(self.instrument, key))
            if key == "painful_areas":
                value = list(value or [])
            out[key] = value
        return out

    def questions(self) -> list[tuple[forms.BoundField, str, str, str]]:
        """Each question's field, what its ends mean (FIQR's 0 and 10; else empty), and the
        heading of the group it opens (ACR's "over the past 7 days" and "past 6 months")."""
        items = {str(item.number): item for item in q.FIQR_ITEMS}
        out = []
        for key in self.part.fields:
            item = items.get(key) if self.instrument == FIQR else None
            low, high = (item.anchor_0, item.anchor_10) if item else ("", "")
            intro = rules.ACR_GROUP_INTROS.get(key, "") if self.instrument == ACR2016 else ""
            out.append((self[field_name(self.instrument, key)], low, high, intro))
        return out

    def area_groups(self) -> list[tuple[str, list[Any]]]:
        """The painful-area boxes grouped by the criteria's five regions (ACR 2016 part 1)."""
        if self.instrument != ACR2016 or "painful_areas" not in self.fields:
            return []
        boxes = {box.data["value"]: box for box in self["painful_areas"]}
        return [
            (q.ACR_REGION_LABELS[region], [boxes[a] for a in areas])
            for region, areas in q.ACR_REGIONS.items()
        ]
