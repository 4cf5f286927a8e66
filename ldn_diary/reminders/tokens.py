"""Signed unsubscribe links: a reminder email switches its own kind of reminder off without a
login.

A token names the patient (by UUID) and one purpose, and is signed with ``SECRET_KEY`` under a
salt used for nothing else, so it cannot be made from, or used as, any other signed value in
the app (a password-reset or activation token, a session): it can only switch one kind of
reminder off. It does not expire: a reminder read weeks later must still be able to stop the
next one (RFC 8058 asks for a link that keeps working), and all a leaked link can do is silence
reminders, which the patient sees on their reminders page and can switch back on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core import signing

SALT = "ldn_diary.reminders.unsubscribe"
# What a token may switch off: a ReminderSettings boolean each.
PURPOSES = ("daily", "titration")


class TokenDamaged(Exception):
    """The signature does not match: a link cut short, mangled or forged."""


class TokenNotForThis(Exception):
    """Signed by us but not an unsubscribe link we make (unknown purpose or shape)."""


@dataclass(frozen=True)
class Unsubscribe:
    patient_uuid: uuid.UUID
    purpose: str


def make(patient_uuid: uuid.UUID, purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    return signing.Signer(salt=SALT).sign_object({"p": str(patient_uuid), "k": purpose})


def read(token: str) -> Unsubscribe:
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature as exc:
        raise TokenDamaged from exc
    if not isinstance(data, dict) or data.get("k") not in PURPOSES:
        raise TokenNotForThis
    try:
        return Unsubscribe(uuid.UUID(str(data.get("p"))), data["k"])
    except ValueError as exc:
        raise TokenNotForThis from exc
