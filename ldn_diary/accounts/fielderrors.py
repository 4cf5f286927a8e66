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

import re
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

_TOO_LONG = re.compile(
    r"^Ensure this value has at most (?P<limit>\d+) characters? \(it has (?P<n>\d+)\)\.$"
)
_TOO_SHORT = re.compile(
    r"^Ensure this value has at least (?P<limit>\d+) characters? \(it has (?P<n>\d+)\)\.$"
)
_BAD_CHOICE = re.compile(
    r"^Select a valid choice\. (?P<value>.*) is not one of the available choices\.$", re.S
)
# The starts of Django's other built-in field messages, which name no field.
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
_OPTIONAL = re.compile(r"\s*\(optional\)\s*$")


def field_label(form: forms.BaseForm, name: str) -> str:
    """The field's label as its errors name it: "Note (optional)" -> "Note"."""
    field = form.fields.get(name)
    label = str(field.label) if field is not None and field.label else ""
    return _OPTIONAL.sub("", label) or name.replace("_", " ").capitalize()


def named(label: str, message: str) -> str:
    """``message`` starting with ``label`` if it is one of Django's built-in messages."""
    if m := _TOO_LONG.match(message):
        return f"{label}: at most {int(m['limit']):,} characters (you typed {int(m['n']):,})."
    if m := _TOO_SHORT.match(message):
        return f"{label}: at least {int(m['limit']):,} characters (you typed {int(m['n']):,})."
    if m := _BAD_CHOICE.match(message):
        return f"{label}: “{m['value']}” is not one of the choices; pick one of those shown."
    if message.startswith(_BUILT_IN):
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
