from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.core.validators import MaxLengthValidator
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from .fielderrors import NamedErrors
from .models import User, known_time_zones

# Offered first, above the regions: where most of our users are (English- and Spanish-speaking
# countries). Every zone is also in its region's group below.
COMMON_TIME_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Bogota",
    "America/Argentina/Buenos_Aires",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
)


# The regions' names as the list's groups show them, translated when the list is drawn (the
# choices are a callable, so each form asks in the request's language). The zones themselves keep
# their IANA names, the same in every language; so does "Etc" (zones like Etc/GMT+5).
REGION_NAMES = {
    "Africa": gettext_noop("Africa"),
    "America": gettext_noop("America"),
    "Antarctica": gettext_noop("Antarctica"),
    "Arctic": gettext_noop("Arctic"),
    "Asia": gettext_noop("Asia"),
    "Atlantic": gettext_noop("Atlantic"),
    "Australia": gettext_noop("Australia"),
    "Brazil": gettext_noop("Brazil"),
    "Canada": gettext_noop("Canada"),
    "Chile": gettext_noop("Chile"),
    "Europe": gettext_noop("Europe"),
    "Indian": gettext_noop("Indian"),
    "Mexico": gettext_noop("Mexico"),
    "Pacific": gettext_noop("Pacific"),
    "US": gettext_noop("US"),
    "Other": gettext_noop("Other"),
}


def _sort_key(text: str) -> str:
    """Alphabetical without accents: "Ártico" among the A's."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _zone_label(tz: str) -> str:
    return tz.replace("_", " ")


def _time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones grouped (``<optgroup>``): the common ones first, then one group per region
    (Africa, America, ...), so the list of about 600 can be scanned, and typed into: a select
    jumps to the option whose label starts with the letters typed."""
    zones = known_time_zones()
    regions: dict[str, list[tuple[str, str]]] = {}
    for tz in zones:
        region = tz.split("/", 1)[0] if "/" in tz else "Other"
        regions.setdefault(region, []).append((tz, _zone_label(tz)))
    common = [(tz, _zone_label(tz)) for tz in COMMON_TIME_ZONES if tz in zones]
    named = {region: gettext(REGION_NAMES.get(region, region)) for region in regions}
    # In the reader's alphabet order (Spanish "Ártico" among the A's), "Other" last.
    order = sorted(regions, key=lambda r: (r == "Other", _sort_key(named[r])))
    return [(gettext("Common time zones"), common)] + [
        (named[region], regions[region]) for region in order
    ]


class ZoneSelect(forms.Select):
    """The time zone list, drawn in Python: the same ``<select>`` with ``<optgroup>``s that
    Django's widget templates draw, but without a template include per option (about 600 of
    them, which took most of the profile and sign-up pages' time)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        wanted = set(self.format_value(value))
        parts = [
            format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))
        ]
        for label, options in self.choices:
            parts.append(format_html('<optgroup label="{}">', label))
            for zone, text in options:
                # Only the first option with the value is selected, as Django's Select does:
                # a common zone is listed twice, above the regions and in its region.
                chosen = zone in wanted
                wanted.discard(zone)
                parts.append(
                    format_html(
                        '<option value="{}"{}>{}</option>',
                        zone,
                        mark_safe(" selected") if chosen else "",
                        text,
                    )
                )
            parts.append(mark_safe("</optgroup>"))
        parts.append(mark_safe("</select>"))
        return format_html_join("", "{}", ((part,) for part in parts))


USERNAME_MAX = User._meta.get_field("username").max_length or 150


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length checked before anything else.

    AuthenticationForm sets the field's max_length after construction, which adds no validator,
    so a 256-character username reached authenticate() and django-axes' 255-character column.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(USERNAME_MAX))
        username.error_messages["max_length"] = f"A username has at most {USERNAME_MAX} characters."


class SignupForm(NamedErrors, forms.ModelForm):
    """Patients sign up themselves; clinicians and moderators are created by an administrator.

    Whether the username or the email is already taken is deliberately not checked here: the
    page answers the same either way, and the email says what happened (accounts.signup).
    """

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send a link to this address to activate your diary."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_time_zone_choices,
        widget=ZoneSelect,
        help_text=_("Your diary's 'today' follows this time zone."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ("email", "username", "display_name", "time_zone")
        field_classes = {"username": UsernameField}
        labels = {"display_name": _("Display name")}
        help_texts = {"display_name": _("What the app calls you. Optional.")}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].initial = settings.DEFAULT_PATIENT_TIME_ZONE
        # Filled in from the browser's own time zone by static/js/signup.js.
        self.fields["time_zone"].widget.attrs["data-browser-time-zone"] = "true"

    def validate_unique(self) -> None:
        """Taken usernames and emails are handled by the view without saying so."""

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            candidate = User(
                username=cleaned.get("username") or "",
                email=cleaned.get("email") or "",
                display_name=cleaned.get("display_name") or "",
            )
            try:
                password_validation.validate_password(str(p1), candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class ProfileForm(NamedErrors, forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_time_zone_choices,
        widget=ZoneSelect,
        help_text=_("Your diary's 'today' follows this time zone."),
    )
    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your email."),
    )

    class Meta:
        model = User
        fields = ("display_name", "email", "language", "time_zone")
        labels = {"display_name": _("Display name")}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._email_before = self.instance.email
        # Left out (an older page or client): the stored language stays (profile_update).
        self.fields["language"].required = False

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if (
            email != self._email_before.lower()
            and User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists()
        ):
            # Only a signed-in user who also knows their password gets here.
            raise forms.ValidationError(_("Another account uses this email."))
        return email

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        email = cleaned.get("email")
        # Re-authentication: whoever changes the address password resets go to must know the
        # password now, not only hold a session.
        if (
            email is not None
            and email != self._email_before.lower()
            and not self.instance.check_password(str(cleaned.get("password") or ""))
        ):
            self.add_error("password", _("Enter your current password to change your email."))
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending each email in its account's own language (User.language)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        with translation.override(context["user"].language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )
