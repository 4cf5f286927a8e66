"""Every error names its field: Django's built-in messages are rewritten by
accounts.fielderrors.NamedErrors, so the entry page's summary says which field each is about."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ldn_diary.accounts.fielderrors import named
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
