"""Every error names its field: Django's built-in messages are rewritten by
accounts.fielderrors.NamedErrors, so the entry page's summary says which field each is about."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from ldn_diary.accounts.fielderrors import NamedErrors, named
from ldn_diary.accounts.services import profile_update
from ldn_diary.diary.models import DiaryEntry

from .conftest import entry_post, save_entry


def summary(html: str) -> list[str]:
    block = re.search(r'<ul class="error-summary">(.*?)</ul>', html, re.S)
    return [li.strip() for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def test_an_unknown_side_effect_is_named_and_nothing_saved_is_lost(alice_client, alice, today):
    save_entry(alice, today, note="kept")
    url = reverse("diary:entry_save")
    html = alice_client.post(url, entry_post(today, side_effects="flying")).content.decode()
    assert summary(html) == [
        "Side effects: “flying” is not one of the choices; pick one of those shown."
    ]
    assert DiaryEntry.objects.get(patient=alice, date=today).note == "kept"


def test_a_note_too_long_says_which_field_and_by_how_much(alice_client, today):
    html = alice_client.post(
        reverse("diary:entry_save"), entry_post(today, note="x" * 2154)
    ).content.decode()
    (message,) = summary(html)
    assert message.lower().startswith("note") or "the note" in message.lower()
    assert "2000" in message.replace(",", "") and "2154" in message.replace(",", "")


def test_a_dose_form_choice_error_names_the_field(alice_client, today):
    html = alice_client.post(
        reverse("diary:dose_add"),
        {"effective_date": today.isoformat(), "dose_mg": "1.5", "time_of_day": "flying"},
    ).content.decode()
    assert "When: “flying” is not one of the choices" in html
    assert "Select a valid choice" not in html


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Ensure this value has at most 2000 characters (it has 2154).",
            "Note: at most 2,000 characters (you typed 2,154).",
        ),
        (
            "Select a valid choice. flying is not one of the available choices.",
            "Note: “flying” is not one of the choices; pick one of those shown.",
        ),
        ("This field is required.", "Note: this field is required."),
        ("Enter a valid date.", "Note: enter a valid date."),
        ("Keep the note to 2000 characters (it has 2154).", None),  # ours: left as it is
    ],
)
def test_built_in_messages_get_the_label(message, expected):
    assert named("Note", message) == (expected or message)


def _spanish(user) -> None:
    profile_update(
        user=user,
        display_name=user.display_name,
        email=user.email,
        time_zone=user.time_zone,
        language="es",
    )


def test_a_spanish_patient_gets_the_field_named_in_spanish(alice_client, alice, today):
    # Django's own messages come in Spanish on her pages; they are matched in Spanish too.
    _spanish(alice)
    save_entry(alice, today, note="kept")
    url = reverse("diary:entry_save")
    html = alice_client.post(url, entry_post(today, side_effects="flying")).content.decode()
    assert summary(html) == [
        "Efectos secundarios: “flying” no es una de las opciones; elija una de las que se muestran."
    ]
    html = alice_client.post(url, entry_post(today, note="x" * 2154)).content.decode()
    (message,) = summary(html)
    assert message == "Deje la nota en 2000 caracteres como máximo (tiene 2154)."
    assert DiaryEntry.objects.get(patient=alice, date=today).note == "kept"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            forms.CharField(max_length=5),
            "x" * 2154,
            "Nota: como máximo 5 caracteres (escribió 2\xa0154).",
        ),
        (forms.CharField(min_length=5), "x", "Nota: al menos 5 caracteres (escribió 1)."),
        (forms.CharField(), "", "Nota: este campo es obligatorio."),
        (forms.DateField(), "zz", "Nota: introduzca una fecha válida."),
        (forms.CharField(max_length=5), "x", None),
    ],
)
def test_djangos_spanish_messages_get_the_label(field, value, expected):
    class NoteForm(NamedErrors, forms.Form):
        note = forms.CharField(label="Nota")

    with translation.override("es"):
        form = NoteForm({"note": value})
        form.fields["note"] = field
        field.label = "Nota"
        form.is_valid()
        assert form.errors.get("note", [None]) == [expected]
