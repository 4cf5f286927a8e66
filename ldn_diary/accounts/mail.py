"""The account emails: activation, "you already have an account", "that username is taken".

Each carries at most one one-time link, made here from the request's own host; the settings send
them only by SMTP when DEBUG is off, so no link is ever written to a log.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """One-time activation tokens: they stop working once the account is active (the hash
    covers ``is_active``) and after PASSWORD_RESET_TIMEOUT, like reset links."""

    key_salt = "ldn_diary.accounts.mail.ActivationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


activation_tokens = ActivationTokenGenerator()


def _send(request: HttpRequest, to: str, template: str, context: dict[str, object]) -> None:
    context = {
        **context,
        "site": request.build_absolute_uri("/").rstrip("/"),
        "login_url": request.build_absolute_uri(reverse("accounts:login")),
        "reset_url": request.build_absolute_uri(reverse("accounts:password_reset")),
        "signup_url": request.build_absolute_uri(reverse("accounts:signup")),
    }
    text = str(render_to_string(f"registration/{template}.txt", context))
    subject, _sep, body = text.partition("\n")
    send_mail(subject.strip(), body.lstrip(), settings.DEFAULT_FROM_EMAIL, [to])


def activation_url(request: HttpRequest, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = activation_tokens.make_token(user)
    return request.build_absolute_uri(reverse("accounts:activate", args=[uid, token]))


def send_activation(request: HttpRequest, user: User) -> None:
    # In the account's own language, whatever the page that asked for it was in.
    with translation.override(user.language):
        _send(
            request,
            user.email,
            "signup_activate_email",
            {"user": user, "activate_url": activation_url(request, user)},
        )


def send_already_registered(request: HttpRequest, user: User) -> None:
    with translation.override(user.language):
        _send(request, user.email, "signup_exists_email", {"user": user})


def send_username_taken(request: HttpRequest, email: str, username: str) -> None:
    _send(request, email, "signup_username_taken_email", {"username": username})
