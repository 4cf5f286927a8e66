"""Forms for the reminder settings and a browser's push subscription."""

from __future__ import annotations

import base64
import binascii

from django import forms
from django.utils.translation import gettext_lazy as _

TIME_HELP = "Enter a time like 20:00, or leave it empty for no reminders."


class ReminderSettingsForm(forms.Form):
    remind_at = forms.TimeField(
        label=_("Remind me at"),
        required=False,
        input_formats=["%H:%M", "%H:%M:%S"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Your own time, in the time zone on your profile. Empty: no reminders."),
        error_messages={"invalid": TIME_HELP},
    )
    daily = forms.BooleanField(label=_("if I have not logged the day by then"), required=False)
    titration = forms.BooleanField(
        label=_("on the day my titration plan says the next dose step is due"), required=False
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("remind_at") and not (data.get("daily") or data.get("titration")):
            raise forms.ValidationError(
                _(
                    "Choose at least one kind of reminder, or clear the time to switch reminders off."
                )
            )
        return data


def _b64url(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise forms.ValidationError(_("This is not base64url.")) from exc


class PushDeviceForm(forms.Form):
    """A ``PushSubscription.toJSON()`` from the browser, flattened."""

    endpoint = forms.URLField(max_length=1000, assume_scheme="https")
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)

    def clean_endpoint(self) -> str:
        endpoint = self.cleaned_data["endpoint"]
        # Push services speak HTTPS only; anything else is not a browser's subscription.
        if not endpoint.startswith("https://"):
            raise forms.ValidationError(_("A push endpoint is an https:// address."))
        return endpoint

    def clean_p256dh(self) -> str:
        value = self.cleaned_data["p256dh"]
        key = _b64url(value)
        if len(key) != 65 or key[0] != 4:
            raise forms.ValidationError(_("Not an uncompressed P-256 public key."))
        return value

    def clean_auth(self) -> str:
        value = self.cleaned_data["auth"]
        if len(_b64url(value)) != 16:
            raise forms.ValidationError(_("The auth secret must be 16 bytes."))
        return value


def device_label(user_agent: str) -> str:
    """What the patient sees in their list of devices, from the browser's User-Agent."""
    browsers = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                ("Safari/", "Safari"))  # fmt: skip
    systems = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
               ("Windows", "Windows"), ("Mac OS X", "Mac"), ("Linux", "Linux"))  # fmt: skip
    browser = next((name for key, name in browsers if key in user_agent), "A browser")
    system = next((name for key, name in systems if key in user_agent), "")
    return f"{browser} on {system}" if system else browser
