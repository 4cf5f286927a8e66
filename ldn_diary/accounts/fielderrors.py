"""Error messages that name their field.

Django's built-in messages ("Ensure this value has at most 2000 characters (it has 2154).",
"Select a valid choice. flying is not one of the available choices.", "This field is
required.") do not say which field they are about, and the entry page lists its errors in a
summary above the form, far from the field. ``NamedErrors`` rewrites exactly those built-in
messages, wherever they come from (the form's own fields or a service's ``ValidationError``
added with ``add_error``), to start with the field's label: "Note: at most 2,000 characters (you
typed 2,154)." Our own messages already name their field and are left as they are.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, ngettext

# Django's own messages, as its catalogue has them: they are matched in the active language
# (a Spanish page gets Django's Spanish text), so each is translated where it is matched.
_TOO_LONG = (
    "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
    "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
)
_TOO_SHORT = (
    "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
    "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
)
_BAD_CHOICE = "Select a valid choice. %(value)s is not one of the available choices."
# The starts of Django's other built-in field messages, which name no field: in English, and
# (whole, as Django's catalogue has them) in the active language.
_BUILT_IN = (
    "This field is required.",
    "Enter a valid ",
    "Enter a whole number.",
    "Enter a number.",
    "Ensure this value ",
    "Ensure that there are no more than ",
    "Select a valid choice.",
    "Enter a list of values.",
    "The submitted file is empty.",
    "No file was submitted.",
)
_BUILT_IN_WHOLE = (
    "This field is required.",
    "Enter a whole number.",
    "Enter a number.",
    "Enter a valid date.",
    "Enter a valid time.",
    "Enter a valid date/time.",
    "Enter a valid duration.",
    "Enter a valid email address.",
    "Enter a valid URL.",
    "Enter a valid value.",
    "Enter a list of values.",
    "The submitted file is empty.",
    "No file was submitted.",
    "Select a valid choice. That choice is not one of the available choices.",
)
_PLACEHOLDERS = {
    r"%\(limit_value\)d": r"(?P<limit>\d+)",
    r"%\(show_value\)d": r"(?P<n>\d+)",
    r"%\(value\)s": r"(?P<value>.*)",
}


def _pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching Django's ``template`` with its values filled in."""
    escaped = re.escape(template)
    for placeholder, group in _PLACEHOLDERS.items():
        escaped = escaped.replace(placeholder, group)
    return re.compile(f"^{escaped}$", re.S)


@functools.cache
def _patterns(language: str | None) -> tuple[list[re.Pattern[str]], ...]:
    """The too-long, too-short and bad-choice patterns and the built-in starts, in
    ``language`` (the active one, passed so the cache keeps one set per language)."""
    del language  # the cache key; gettext reads the active language
    too_long = [_pattern(ngettext(*_TOO_LONG, n)) for n in (1, 2)]
    too_short = [_pattern(ngettext(*_TOO_SHORT, n)) for n in (1, 2)]
    bad_choice = [_pattern(gettext(_BAD_CHOICE))]
    return too_long, too_short, bad_choice


def _built_in_starts() -> tuple[str, ...]:
    return _BUILT_IN + tuple(gettext(message) for message in _BUILT_IN_WHOLE)


def _match(patterns: list[re.Pattern[str]], message: str) -> re.Match[str] | None:
    return next((m for p in patterns if (m := p.match(message))), None)


def field_label(form: forms.BaseForm, name: str) -> str:
    """The field's label as its errors name it: "Note (optional)" -> "Note"."""
    field = form.fields.get(name)
    label = str(field.label) if field is not None and field.label else ""
    # "(optional)" in English, or as the label's language has it ("Nota (opcional)").
    for word in {"optional", gettext("optional")}:
        label = label.removesuffix(f"({word})").strip()
    return label or name.replace("_", " ").capitalize()


def _count(n: str) -> str:
    return number_format(int(n), force_grouping=True)  # 2,000 in English, 2 000 in Spanish


def named(label: str, message: str) -> str:
    """``message`` starting with ``label`` if it is one of Django's built-in messages."""
    too_long, too_short, bad_choice = _patterns(get_language())
    if m := _match(too_long, message):
        return gettext("%(label)s: at most %(limit)s characters (you typed %(n)s).") % {
            "label": label,
            "limit": _count(m["limit"]),
            "n": _count(m["n"]),
        }
    if m := _match(too_short, message):
        return gettext("%(label)s: at least %(limit)s characters (you typed %(n)s).") % {
            "label": label,
            "limit": _count(m["limit"]),
            "n": _count(m["n"]),
        }
    if m := _match(bad_choice, message):
        return gettext(
            "%(label)s: “%(value)s” is not one of the choices; pick one of those shown."
        ) % {"label": label, "value": m["value"]}
    if message.startswith(_built_in_starts()):
        return f"{label}: {message[0].lower()}{message[1:]}"
    return message


class NamedErrors:
    """Form mixin (before ``forms.Form`` in the bases): built-in messages name their field."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        errors = self._errors  # type: ignore[attr-defined]
        for name in list(errors or {}):
            if name == NON_FIELD_ERRORS:
                continue
            label = field_label(self, name)  # type: ignore[arg-type]
            messages = [named(label, str(m)) for m in errors[name]]
            errors[name] = self.error_class(  # type: ignore[attr-defined]
                messages,
                renderer=self.renderer,  # type: ignore[attr-defined]
            )
