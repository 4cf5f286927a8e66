from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for the password again and an explicit tick."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password to confirm it is you.")},
    )
    confirm = forms.BooleanField(
        label=_("I understand that my diary and everything else about me is erased for good."),
        error_messages={"required": _("Tick the box to confirm you want everything erased.")},
    )
