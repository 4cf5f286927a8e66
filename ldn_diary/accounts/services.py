"""Writes to accounts: creating users."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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


class SignupOutcome:
    """What a sign-up did; the page says the same for each, the email says which."""

    CREATED = "created"  # a new, inactive account waiting for its activation link
    PENDING = "pending"  # the email's account was never activated: send its link again
    EXISTS = "exists"  # the email already has an account
    USERNAME_TAKEN = "username_taken"  # a new email, but somebody has the username


def signup_start(
    *,
    email: str,
    username: str,
    password: str,
    display_name: str = "",
    time_zone: str | None = None,
) -> tuple[str, User | None]:
    """Start a patient's sign-up. Returns (SignupOutcome, the account concerned or None).

    The account is created inactive: it becomes usable from the link sent to its email
    (``signup_activate``), so nobody can hold an account in another person's name.
    """
    existing = User.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is not None:
        if not existing.is_active and existing.last_login is None:
            return SignupOutcome.PENDING, existing
        return SignupOutcome.EXISTS, existing
    if User.objects.filter(username__iexact=username).exists():
        # Hash anyway, so this answer takes as long as a real sign-up.
        User(username=username).set_password(password)
        return SignupOutcome.USERNAME_TAKEN, None
    user = User(
        username=username,
        email=email,
        role=Role.PATIENT,
        display_name=display_name,
        is_active=False,
    )
    if time_zone:
        user.time_zone = time_zone
    user.set_password(password)
    user.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same username, signed up a moment ago
        return SignupOutcome.USERNAME_TAKEN, None
    return SignupOutcome.CREATED, user


def signup_activate(*, user: User) -> User:
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user
