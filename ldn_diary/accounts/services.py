"""Writes to accounts: creating users."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Role, User


def user_create(
    *,
    username: str,
    role: str,
    email: str = "",
    password: str | None = None,
    display_name: str = "",
    time_zone: str | None = None,
) -> tuple[User, str | None]:
    """Create a user. Returns the user and the generated password if none was given."""
    if role not in Role.values:
        raise ValidationError(
            f"Unknown role {role!r}: choose one of {', '.join(Role.values)}.", code="role"
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"The username {username!r} is already taken.", code="taken")
    user = User(username=username, email=email, role=role, display_name=display_name)
    if time_zone:
        user.time_zone = time_zone
    user.full_clean(exclude=["password"])
    generated = None
    if password:
        validate_password(password, user)
    else:
        generated = password = secrets.token_urlsafe(12)
    user.set_password(password)
    with transaction.atomic():
        user.save()
    return user, generated
