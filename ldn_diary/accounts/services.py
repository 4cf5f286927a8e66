"""Writes to accounts: creating users, changing their details, erasing a patient's account.

Each writes its row of the audit trail (``audit.record``) in its own transaction.
"""

from __future__ import annotations

import secrets

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from . import audit
from .models import AuditAction, Role, User


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
        audit_account_created(user=user)
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
    language: str | None = None,
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
    if language:
        # The language of the page signed up on: the activation email and, later, reminders.
        user.language = language
    user.set_password(password)
    user.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            user.save()
            audit_account_created(user=user, actor=user)
    except IntegrityError:  # the same username, signed up a moment ago
        return SignupOutcome.USERNAME_TAKEN, None
    return SignupOutcome.CREATED, user


def signup_activate(*, user: User) -> User:
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def audit_account_created(*, user: User, actor: User | None = None) -> None:
    """The audit row of a new account: by the system (``user_create``, run by an administrator's
    command) or by the person themselves (the signup page passes ``actor=user``)."""
    audit.record(
        actor=actor,
        patient=user if user.role == Role.PATIENT else None,
        action=AuditAction.ACCOUNT_CREATE,
        obj=user,
    )


# The account details a person may change on their profile page.
PROFILE_FIELDS = ("display_name", "email", "time_zone", "language")


@transaction.atomic
def profile_update(
    *, user: User, display_name: str, email: str, time_zone: str, language: str | None = None
) -> User:
    """Change the signed-in user's own details; the audit row says that, not what to.

    ``language`` None keeps the stored one.
    """
    user.display_name, user.email, user.time_zone = display_name, email, time_zone
    if language is not None:
        user.language = language
    user.full_clean(exclude=["password", "username"], validate_unique=False)
    user.save(update_fields=PROFILE_FIELDS)
    audit.record(
        actor=user,
        patient=user if user.role == Role.PATIENT else None,
        action=AuditAction.ACCOUNT_UPDATE,
        obj=user,
    )
    return user


def account_delete(*, user: User, password: str) -> None:
    """Erase a patient's account and everything held about them, in one transaction.

    The password is asked again, so an unattended session cannot do this. Deleting the user
    deletes, through the database's foreign keys, their diary, doses, plan, pending imports,
    stored trends, consent links (their clinicians lose access with the very next request),
    invites and consent history, clinicians' notes and follow-ups about them, and their group
    memberships (so no later release counts them; releases already made are aggregates that
    name nobody, and stay). Login-throttling records naming the username go too. What remains
    is the audit trail, which holds no health data and names people by id only, with one more
    row: this deletion.
    """
    if user.role != Role.PATIENT or not user.is_active:
        raise ValidationError(
            _("Only a patient account can be deleted here. Ask an administrator."), code="role"
        )
    if not user.check_password(password or ""):
        raise ValidationError(
            {"password": "That is not your password. Nothing was deleted."}, code="password"
        )
    with transaction.atomic():
        audit.record(actor=user, patient=user, action=AuditAction.ACCOUNT_DELETE, obj=user)
        _forget_login_records(user.username)
        user.delete()


def _forget_login_records(username: str) -> None:
    """Rows of the login-throttling app (django-axes) that name the username."""
    if not apps.is_installed("axes"):
        return
    for model in apps.get_app_config("axes").get_models():
        if any(f.name == "username" for f in model._meta.get_fields()):
            model._default_manager.filter(username=username).delete()
