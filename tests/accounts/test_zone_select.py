"""The time zone list is drawn in Python (ZoneSelect) for speed; it must be exactly the markup
Django's own Select widget draws from its templates, for every kind of value."""

from __future__ import annotations

import re

import pytest
from django import forms

from ldn_diary.accounts.forms import SignupForm, ZoneSelect, _time_zone_choices


class BothWidgets(forms.Form):
    django = forms.ChoiceField(choices=_time_zone_choices, help_text="Help.")
    ours = forms.ChoiceField(choices=_time_zone_choices, widget=ZoneSelect, help_text="Help.")


def _tidy(html: str, name: str) -> str:
    return re.sub(r">\s+<", "><", html.strip()).replace(f"id_{name}", "ID").replace(name, "NAME")


# A common zone (listed twice: only its first option is selected), a zone listed once, one
# with an underscore, a value that is no zone, and nothing chosen.
@pytest.mark.parametrize(
    "value", ["Europe/London", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "Mars/Olympus", None]
)
def test_it_draws_what_djangos_select_draws(value):
    form = BothWidgets(initial={"django": value, "ours": value})
    ours = _tidy(str(form["ours"]), "ours")
    assert ours == _tidy(str(form["django"]), "django")
    assert ours.count(" selected") == (0 if value in (None, "Mars/Olympus") else 1)


def test_labels_and_attributes_are_escaped(monkeypatch):
    widget = ZoneSelect(attrs={"data-x": '"><script>'})
    widget.choices = [('<b>"Group"</b>', [("A/<i>", "<i>label</i>")])]
    html = widget.render("tz", "A/<i>")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert 'value="A/&lt;i&gt;" selected' in html


def test_the_signup_form_still_asks_the_browser_for_its_zone():
    html = str(SignupForm()["time_zone"])
    assert 'data-browser-time-zone="true"' in html
    assert 'aria-describedby="id_time_zone_helptext"' in html
