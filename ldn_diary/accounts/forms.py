from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth.forms import UserCreationForm, UsernameField

from .models import User


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())]


class SignupForm(UserCreationForm):
    """Patients sign up themselves; clinicians and moderators are created by an administrator."""

    email = forms.EmailField(help_text="Used only to reset your password.")

    class Meta:
        model = User
        fields = ("email", "username", "display_name")
        field_classes = {"username": UsernameField}
        help_texts = {"display_name": "What the app calls you. Optional."}

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account already uses this email. Log in, or reset your password."
            )
        return email


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices,
        help_text="Your diary's 'today' follows this time zone.",
    )

    class Meta:
        model = User
        fields = ("display_name", "email", "time_zone")
