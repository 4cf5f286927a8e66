"""Shared by the trends commands: find a patient by username for an administrator."""

from __future__ import annotations

from django.core.management.base import CommandError

from ldn_diary.accounts.models import Role, User


def patient_by_username(username: str) -> User:
    """The patient with this username (case-insensitive, like sign-up's uniqueness check).

    Raises CommandError, which Django turns into a message on stderr and exit status 1.
    """
    patient = (
        User.objects.filter(username__iexact=username, role=Role.PATIENT).order_by("pk").first()
    )
    if patient is None:
        raise CommandError(f"No patient with the username {username!r}.")
    return patient
