"""Forms turn request text into typed values; the services decide what may be saved.

Limits are not repeated here: a form only offers the choices ``rules`` allows and leaves
lengths and ranges to the service, whose messages name the field. Text inputs still carry the
limit as ``maxlength`` so a browser stops typing there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from ldn_diary.accounts.fielderrors import NamedErrors

from .choices import DOSE_ANSWERS, TREATMENT_EXAMPLES, LifeEventKind, TreatmentCategory
from .csvio import MAX_IMPORT_BYTES
from .dosing import DOSE_HELP, parse_dose_mg
from .models import Dreams, Formulation, SideEffect, TimeOfDay
from .rules import (
    CATEGORY_HELP,
    DOSE_NOTE_MAX,
    DOSE_TAKEN_HELP,
    DREAMS_HELP,
    EVENT_TEXT_MAX,
    INTERVAL_HELP,
    KIND_HELP,
    NOTE_MAX,
    OTHER_TEXT_MAX,
    PLAN_INTERVAL_DAYS,
    SCORE_VALUES,
    TREATMENT_NAME_MAX,
    TREATMENT_NOTE_MAX,
    score_prompt,
)

# A native date picker only accepts ISO dates as its value, whatever the site's locale.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SCORE_CHOICES = [(n, str(n)) for n in SCORE_VALUES]
# (field, title, what 0 means, what 10 means). Pain and fatigue: higher is worse; sleep and mood:
# higher is better (docs/clinical-rules.md §1). The ends are printed under each scale, so 0 and 10
# are never guesses.
SCALES = (
    ("pain", _("Pain"), _("no pain"), _("worst imaginable")),
    ("fatigue", _("Fatigue"), _("no fatigue"), _("exhausted")),
    ("sleep", _("Sleep quality"), _("very poor"), _("excellent")),
    ("mood", _("Mood"), _("very low"), _("very good")),
)


def _score_field(title: StrOrPromise) -> forms.TypedChoiceField:
    message = score_prompt(title)  # lazy: the language of the request that shows it
    return forms.TypedChoiceField(
        label=title,
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": message, "invalid_choice": message},
    )


class EntryForm(NamedErrors, forms.Form):
    date = forms.DateField(widget=forms.HiddenInput)
    pain = _score_field(_("Pain"))
    fatigue = _score_field(_("Fatigue"))
    sleep = _score_field(_("Sleep quality"))
    mood = _score_field(_("Mood"))
    dreams = forms.ChoiceField(
        choices=Dreams.choices,
        widget=forms.RadioSelect,
        error_messages={"required": DREAMS_HELP, "invalid_choice": DREAMS_HELP},
    )
    side_effects = forms.MultipleChoiceField(
        label=_("Side effects"),
        choices=SideEffect.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    side_effect_other = forms.CharField(
        label=_("Other side effect"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": OTHER_TEXT_MAX}),
    )
    # Asked only on days with LDN (the page leaves it out otherwise): the service decides,
    # from the dose history, whether an answer is needed (rules.check_entry).
    dose_taken = forms.ChoiceField(
        label=_("Dose taken"),
        choices=[(c.value, c.label) for c in DOSE_ANSWERS],
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": DOSE_TAKEN_HELP},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    request_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def scales(self) -> list[tuple[forms.BoundField, StrOrPromise, StrOrPromise, StrOrPromise]]:
        return [(self[name], title, low, high) for name, title, low, high in SCALES]


class DoseMgField(forms.CharField):
    """A dose in mg typed as text (Decimal semantics, never float), cleaned to micrograms."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", _("In mg, up to 3 decimals, e.g. 4.5 or 0.75."))
        kwargs.setdefault("error_messages", {"required": DOSE_HELP})
        super().__init__(max_length=12, **kwargs)
        # inputmode gives phones a number pad that still has a decimal mark.
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: str) -> int:
        text = super().clean(value)
        return parse_dose_mg(text)


class DoseChangeForm(NamedErrors, forms.Form):
    effective_date = forms.DateField(
        label=_("From"),
        widget=DATE_WIDGET,
        error_messages={
            "required": _("Enter the day you start this dose."),
            "invalid": _("Enter a date like 2026-11-24."),
        },
    )
    dose_mg = DoseMgField(label=_("Dose (mg)"))
    time_of_day = forms.ChoiceField(
        label=_("When"),
        choices=TimeOfDay.choices,
        widget=forms.RadioSelect,
        initial=TimeOfDay.BEDTIME,
    )
    formulation = forms.ChoiceField(
        label=_("Form"),
        choices=Formulation.choices,
        widget=forms.RadioSelect,
        initial=Formulation.CAPSULE,
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": DOSE_NOTE_MAX}),
    )


class DoseStopForm(NamedErrors, forms.Form):
    effective_date = forms.DateField(
        label=_("Stopped or paused from"),
        widget=DATE_WIDGET,
        error_messages={
            "required": _("Enter the day you stopped."),
            "invalid": _("Enter a date like 2026-11-24."),
        },
    )
    note = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": DOSE_NOTE_MAX}),
    )


class PlanForm(NamedErrors, forms.Form):
    start_mg = DoseMgField(label=_("Start dose (mg)"), help_text="e.g. 1.5")
    step_mg = DoseMgField(label=_("Step up by (mg)"), help_text="e.g. 1.5")
    interval_days = forms.IntegerField(
        label=_("Every (days)"),
        help_text=format_lazy(
            _("Days between steps, {start} to {stop}, e.g. 14."),
            start=PLAN_INTERVAL_DAYS.start,
            stop=PLAN_INTERVAL_DAYS.stop - 1,
        ),
        error_messages={"required": INTERVAL_HELP, "invalid": INTERVAL_HELP},
    )
    target_mg = DoseMgField(label=_("Target dose (mg)"), help_text="e.g. 4.5")


class PlanConfirmForm(NamedErrors, forms.Form):
    dose_ug = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    date = forms.DateField(
        widget=DATE_WIDGET,
        required=False,
        label=_("Taken from"),
        error_messages={"invalid": _("Enter a date like 2026-11-24.")},
    )


def _date_field(
    label: StrOrPromise, required_message: StrOrPromise, *, required: bool = True
) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=DATE_WIDGET,
        required=required,
        error_messages={
            "required": required_message,
            "invalid": _("Enter a date like 2026-11-24."),
        },
    )


# Each category with examples, so that "tramadol" is found under opioids.
CATEGORY_CHOICES = [("", _("Choose…"))] + [
    (c.value, format_lazy("{} ({})", c.label, TREATMENT_EXAMPLES[c])) for c in TreatmentCategory
]


class TreatmentForm(NamedErrors, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        help_text=_("The medicine or therapy, e.g. pregabalin 75 mg or physiotherapy."),
        widget=forms.TextInput(attrs={"maxlength": TREATMENT_NAME_MAX, "autocomplete": "off"}),
        error_messages={"required": _("Enter the name.")},
    )
    category = forms.ChoiceField(
        label=_("Kind"),
        choices=CATEGORY_CHOICES,
        error_messages={"required": CATEGORY_HELP, "invalid_choice": CATEGORY_HELP},
    )
    start_date = _date_field(_("Started"), _("Enter the day you started (roughly is fine)."))
    stop_date = _date_field(_("Stopped (leave empty if you still take it)"), "", required=False)
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": TREATMENT_NOTE_MAX}),
    )


class LifeEventForm(NamedErrors, forms.Form):
    date = _date_field(_("Date"), _("Enter the day it happened."))
    kind = forms.ChoiceField(
        label=_("What"),
        choices=LifeEventKind.choices,
        widget=forms.RadioSelect,
        initial=LifeEventKind.FLARE,
        error_messages={"required": KIND_HELP, "invalid_choice": KIND_HELP},
    )
    text = forms.CharField(
        label=_("A few words (optional)"),
        required=False,
        help_text=_("e.g. “flare after a long drive”, “moved house”."),
        widget=forms.TextInput(attrs={"maxlength": EVENT_TEXT_MAX}),
    )


class ImportForm(NamedErrors, forms.Form):
    file = forms.FileField(
        label=_("Diary CSV file"),
        help_text=_(
            "The same columns as the export: date,pain,fatigue,sleep,mood,dreams,"
            "side_effects,dose_taken,dose_mg,note."
        ),
        error_messages={
            "required": _("Choose a CSV file to upload."),
            "empty": _("That file is empty."),
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                gettext(
                    "That file is %(size).1f MB; the limit is %(limit)s MB. "
                    "Split it into several files by date."
                )
                % {"size": upload.size / 1_000_000, "limit": MAX_IMPORT_BYTES // 1_000_000}
            )
        return upload


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
