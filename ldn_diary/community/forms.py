from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import JOIN_CODE_LENGTH


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=80)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=50,
        required=False,
        help_text=_(
            "Letters, digits and dashes, for the command line. Leave empty to make one "
            "from the name."
        ),
    )


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Group code"),
        max_length=JOIN_CODE_LENGTH + 6,  # room for the dash and stray spaces people type
        help_text=_("The 8-character code your group's moderator gave you, e.g. ABCD-2345."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class ReleaseForm(forms.Form):
    epsilon = forms.DecimalField(
        label=_("ε for this release"),
        min_value=0.1,
        max_digits=7,
        decimal_places=3,
        help_text=_("Larger means less noise and a larger share of the budget spent."),
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
