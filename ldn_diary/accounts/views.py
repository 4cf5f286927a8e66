"""Signing in and out, signing up, password resets, and the second factor."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from . import mail, services, throttle, twofactor
from .forms import CodeForm, LoginForm, ReauthForm, SignupForm
from .http import AuthenticatedRequest
from .models import User

# Sign-ups and reset requests one client address may make per hour, and reset mails one
# address may receive per hour (the reset page still answers as usual past that).
SIGNUPS_PER_ADDRESS = 10
RESETS_PER_ADDRESS = 10
RESET_MAILS_PER_EMAIL = 3
HOUR = 60 * 60
# Wrong passwords on the re-authentication page before the session is ended.
REAUTH_FAILURES = 5


def _too_many(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "registration/throttled.html", {"what": what}, status=429)


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True
    authentication_form = LoginForm


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, limited per client address (429) and per email (silently: the page must
    not tell whether the address has an account)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if throttle.hit(
            "reset", throttle.client_address(request), limit=RESETS_PER_ADDRESS, window=HOUR
        ):
            return _too_many(request, "password reset requests")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        # The cache key holds a digest, not the address itself.
        email = hashlib.sha256(form.cleaned_data["email"].strip().lower().encode()).hexdigest()
        if throttle.hit("reset-mail", email, limit=RESET_MAILS_PER_EMAIL, window=HOUR):
            return redirect(self.get_success_url())
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """The answer never says whether the username or the email is taken: every valid form
    leads to the same "check your email" page, and the email says what happened."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if throttle.hit(
            "signup", throttle.client_address(request), limit=SIGNUPS_PER_ADDRESS, window=HOUR
        ):
            return _too_many(request, "sign-ups")
        if form.is_valid():
            data = form.cleaned_data
            outcome, user = services.signup_start(
                email=data["email"],
                username=data["username"],
                password=data["password1"],
                display_name=data.get("display_name") or "",
                time_zone=data["time_zone"],
                language=translation.get_supported_language_variant(translation.get_language()),
            )
            if outcome in (services.SignupOutcome.CREATED, services.SignupOutcome.PENDING):
                assert user is not None  # noqa: S101 - both outcomes name the account
                mail.send_activation(request, user)
            elif outcome == services.SignupOutcome.EXISTS:
                assert user is not None  # noqa: S101
                mail.send_already_registered(request, user)
            else:
                mail.send_username_taken(request, data["email"], data["username"])
            return redirect("accounts:signup_sent")
    return render(request, "registration/signup.html", {"form": form})


@require_GET
def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/signup_sent.html")


def _activation_user(uidb64: str, token: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=False).first()
    if user is None or not mail.activation_tokens.check_token(user, token):
        return None
    return user


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the activation email. A GET only shows a button (mail scanners follow
    links); the POST activates the account and signs the patient in."""
    user = _activation_user(uidb64, token)
    if user is None:
        return render(request, "registration/activate.html", {"invalid": True}, status=400)
    if request.method == "POST":
        services.signup_activate(user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome. Add your LDN dose, then log your first day."))
        return redirect("home")
    return render(request, "registration/activate.html", {"invalid": False})


# --- The second factor ----------------------------------------------------------------------------


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _second_factor_user(request: AuthenticatedRequest) -> User:
    if not twofactor.requires_second_factor(request.user):
        raise Http404("Two-factor sign-in is for clinicians, moderators and administrators.")
    return request.user


def _reauth_first(request: HttpRequest, then: str = "") -> HttpResponse | None:
    """A redirect to the password page unless the password was checked in the last minutes."""
    if twofactor.recently_authenticated(request):
        return None
    return redirect(
        reverse("accounts:reauth") + "?" + urlencode({"next": then or request.get_full_path()})
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: AuthenticatedRequest) -> HttpResponse:
    """Verify a code after the password; a user without an authenticator sets one up first."""
    user = _second_factor_user(request)
    if twofactor.confirmed_totp(user) is None:
        return redirect(
            reverse("accounts:two_factor_setup") + "?" + urlencode({"next": _next(request)})
        )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(user, form.cleaned_data["code"])
        if device is not None:
            twofactor.mark_verified(request, device)
            if device.name == twofactor.RECOVERY_NAME:
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones on your profile.",
                )
            return redirect(_next(request))
        form.add_error(
            "code",
            _(
                "That code did not work. Check your authenticator app's clock, wait for the next "
                "code and try again; after several wrong codes each try waits longer."
            ),
        )
    return render(request, "registration/two_factor.html", {"form": form, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthenticatedRequest) -> HttpResponse:
    """Set up (or replace) the authenticator: a QR code, then a first code to confirm."""
    user = _second_factor_user(request)
    replacing = twofactor.confirmed_totp(user) is not None
    if replacing and not twofactor.is_verified(request):
        return redirect("accounts:two_factor")
    if (needed := _reauth_first(request)) is not None:
        return needed
    device = twofactor.pending_totp(user)
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text = "The 6 digits the app shows now for LDN Diary."
    if request.method == "POST" and form.is_valid():
        codes = twofactor.totp_confirm(device=device, code=form.cleaned_data["code"])
        if codes is not None:
            twofactor.mark_verified(request, device)
            return render(
                request,
                "registration/recovery_codes.html",
                {"codes": codes, "next": _next(request), "new_authenticator": True},
            )
        form.add_error("code", _("That code did not match. Enter the code the app shows now."))
    context = {
        "form": form,
        "qr_svg": twofactor.qr_svg(device),
        "secret": twofactor.secret_base32(device),
        "replacing": replacing,
        "next": _next(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@login_required
@require_http_methods(["POST"])
def recovery_codes(request: AuthenticatedRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once.

    Only after the second factor: this page is reachable before it (it is under 2fa/), and new
    codes would otherwise let a stolen password alone stand in for the authenticator.
    """
    user = _second_factor_user(request)
    if not twofactor.is_verified(request):
        return redirect("accounts:two_factor")
    if (needed := _reauth_first(request, reverse("accounts:profile") + "#two-factor")) is not None:
        return needed
    codes = twofactor.recovery_codes_replace(user=user)
    return render(
        request,
        "registration/recovery_codes.html",
        {"codes": codes, "next": reverse("accounts:profile"), "new_authenticator": False},
    )


@login_required
@require_http_methods(["GET", "POST"])
def reauth(request: AuthenticatedRequest) -> HttpResponse:
    """Ask for the password again before a change to the second factor."""
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if throttle.over("reauth", str(request.user.pk), limit=REAUTH_FAILURES):
            # Whoever holds this session does not know the password: end it.
            logout(request)
            return redirect(settings.LOGIN_URL)
        if request.user.check_password(form.cleaned_data["password"]):
            twofactor.mark_authenticated(request)
            return redirect(_next(request))
        throttle.count("reauth", str(request.user.pk), window=15 * 60)
        form.add_error("password", _("That is not your password."))
    return render(request, "registration/reauth.html", {"form": form, "next": _next(request)})
