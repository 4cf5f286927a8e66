"""What a reminder says and where it links, by email and by push.

Every text is a template (``templates/reminders/email/<kind>.txt`` and ``.html``,
``templates/reminders/push/<kind>.txt``), so it can be translated like any page. Links are made
from ``SITE_URL``: the tick runs outside any request. The link to the day's entry is a plain
link to the diary page: it logs nobody in, and opens the login page first for anyone not
signed in. The unsubscribe link and the ``List-Unsubscribe`` headers (RFC 2369, RFC 8058
one-click) use a signed, single-purpose token (``tokens``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from ldn_diary.accounts.models import User
from ldn_diary.diary.dosing import display_mg

from . import tokens
from .models import ReminderKind

# The kind of reminder each unsubscribe link switches off; the last message after unanswered
# days is a daily reminder's.
PURPOSE = {
    ReminderKind.DAILY: "daily",
    ReminderKind.STOPPED: "daily",
    ReminderKind.TITRATION: "titration",
}


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def entry_path(date: dt.date) -> str:
    return f"{reverse('diary:today')}?{urlencode({'date': date.isoformat()})}"


def unsubscribe_url(patient: User, kind: str) -> str:
    token = tokens.make(patient.uuid, PURPOSE[ReminderKind(kind)])
    return site_url(reverse("reminders:unsubscribe", args=[token]))


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    push: dict[str, str]
    unsubscribe_url: str


def build(*, patient: User, kind: str, date: dt.date, dose_ug: int | None) -> Message:
    # The tick runs outside any request: every word, date and number in the patient's language.
    with translation.override(patient.language):
        return _build(patient=patient, kind=kind, date=date, dose_ug=dose_ug)


def _build(*, patient: User, kind: str, date: dt.date, dose_ug: int | None) -> Message:
    unsubscribe = unsubscribe_url(patient, kind)
    context = {
        "name": patient.display_name or patient.username,
        "date": date,
        # "Tuesday 1 December", "martes 1 de diciembre": the weekday and the locale's day-month.
        "day": f"{date_format(date, 'l')} {date_format(date, 'MONTH_DAY_FORMAT')}",
        "mg": display_mg(dose_ug) if dose_ug else "",
        "entry_url": site_url(entry_path(date)),
        "settings_url": site_url(reverse("reminders:settings")),
        "unsubscribe_url": unsubscribe,
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    text = render_to_string(f"reminders/email/{kind}.txt", context)
    subject, _sep, body = text.partition("\n")
    html = render_to_string(f"reminders/email/{kind}.html", context)
    push_body = render_to_string(f"reminders/push/{kind}.txt", context).strip()
    return Message(
        subject=subject.strip(),
        text=body.lstrip(),
        html=html,
        push={
            "title": "LDN Diary",
            "body": push_body,
            # A path: the service worker opens it on this site, whatever host it was sent from.
            "url": entry_path(date),
            # One notification per day and kind: a repeat replaces it instead of stacking.
            "tag": f"ldn-{kind}-{date.isoformat()}",
        },
        unsubscribe_url=unsubscribe,
    )


def email(message: Message, to: str) -> EmailMultiAlternatives:
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "List-Unsubscribe": f"<{message.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Not a reply address: mail clients should not auto-reply to a reminder.
            "Auto-Submitted": "auto-generated",
        },
    )
    mail.attach_alternative(message.html, "text/html")
    return mail
