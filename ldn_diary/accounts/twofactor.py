"""The second factor: TOTP (an authenticator app) with single-use recovery codes, via django-otp.

Clinicians, moderators and administrators see other people's health data, so they must give a
TOTP code (or a recovery code) after their password before any page but these; patients see
only their own diary and sign in with their password. Whether this session has given the second
factor is kept in the session itself (``VERIFIED_KEY``, set only by :func:`mark_verified`), so
checking it costs no query; the session key is cycled at that moment, like at login.

"Recently authenticated" (``AUTH_AT_KEY``) is the time of the last password check in this
session, at login or on the re-authentication page; 2FA changes ask for it to be recent.
"""

from __future__ import annotations

import base64
import io
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role, User

VERIFIED_KEY = "ldn_2fa_device"
AUTH_AT_KEY = "ldn_auth_at"
# The sign-in time, set once per session: the absolute session lifetime counts from it
# (ldn_diary.accounts.middleware.SessionLifetimeMiddleware).
LOGIN_AT_KEY = "ldn_login_at"
# The last request, written at most once a minute (the idle timeout counts from it).
SEEN_AT_KEY = "ldn_seen_at"
RECOVERY_CODES = 10
# Device names: one authenticator and one set of recovery codes per user.
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def requires_second_factor(user: object) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (
            getattr(user, "role", None) in (Role.CLINICIAN, Role.MODERATOR)
            or getattr(user, "is_staff", False)
            or getattr(user, "is_superuser", False)
        )
    )


def is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(VERIFIED_KEY))


def mark_verified(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    """This session has given the second factor with ``device``; a new session key."""
    request.session.cycle_key()
    request.session[VERIFIED_KEY] = device.persistent_id


def mark_authenticated(request: HttpRequest) -> None:
    request.session[AUTH_AT_KEY] = int(time.time())


def recently_authenticated(request: HttpRequest) -> bool:
    at = request.session.get(AUTH_AT_KEY)
    return isinstance(at, int) and time.time() - at <= settings.REAUTH_SECONDS


@receiver(user_logged_in)
def _remember_login(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    if request is not None and hasattr(request, "session"):
        mark_authenticated(request)
        request.session[LOGIN_AT_KEY] = request.session[SEEN_AT_KEY] = request.session[AUTH_AT_KEY]


# --- Devices ------------------------------------------------------------------------------------


def confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (a new secret unless one is pending)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The secret as typed into an authenticator app by hand."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (drawn here; no external service)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2
    )
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML declaration so the SVG can sit inside HTML.
    return svg[svg.index("<svg") :]


def normalise_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


def verify(user: User, raw: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts ``raw`` (a TOTP code, or a recovery code, used up); else None.

    django-otp throttles each device after failures (doubling delays), so codes cannot be
    guessed quickly.
    """
    code = normalise_code(raw)
    if not code or len(code) > 16:
        return None
    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if totp is not None and code.isdigit() and totp.verify_token(code):
            return totp
        static = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if static is not None and static.verify_token(code):
            return static
    return None


def totp_confirm(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm an enrolment with a first code; returns fresh recovery codes, or None."""
    code = normalise_code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not code.isdigit() or not device.verify_token(code):
            return None
        TOTPDevice.objects.filter(user=device.user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return recovery_codes_replace(user=device.user)


def recovery_codes_replace(*, user: User) -> list[str]:
    """A new set of single-use recovery codes; the old ones stop working."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_remove(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
