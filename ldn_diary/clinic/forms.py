from __future__ import annotations

from django import forms

from ldn_diary.accounts.fielderrors import NamedErrors

from .models import INVITE_CODE_LENGTH


class LinkForm(NamedErrors, forms.Form):
    code = forms.CharField(
        label="Invite code",
        max_length=INVITE_CODE_LENGTH + 6,  # room for the dash and stray spaces people type
        help_text="The 8-character code the patient created on their profile, e.g. ABCD-2345.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class NoteForm(NamedErrors, forms.Form):
    text = forms.CharField(
        label="New note",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only you can read your notes; the patient and other clinicians cannot.",
    )


class FollowUpForm(NamedErrors, forms.Form):
    due_on = forms.DateField(
        label="Next follow-up",
        required=False,
        # A native date picker shows only an ISO value, whatever the site's locale (en-gb would
        # render 20/12/2026, which the browser drops, so a second save cleared the date).
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Today or later. Leave empty and save to clear it.",
    )
