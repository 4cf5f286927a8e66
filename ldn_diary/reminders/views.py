"""The patient's reminder settings and devices, and the unsubscribe link from a reminder.

The settings pages go through ``accounts.decorators.patient_view`` (a clinician or moderator is
answered 404). The unsubscribe page needs no login: the signed token in its URL is the whole
authority, and it can only switch one kind of reminder off (``tokens``).
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ldn_diary.accounts.decorators import patient_view
from ldn_diary.accounts.http import AuthenticatedRequest
from ldn_diary.accounts.models import User

from . import push, rules, selectors, services, tokens
from .forms import PushDeviceForm, ReminderSettingsForm, device_label


def _settings_page(
    request: AuthenticatedRequest, patient: User, form: ReminderSettingsForm, status: int = 200
) -> HttpResponse:
    row = selectors.settings_for(patient)
    context = {
        "form": form,
        "reminders": row,
        "pause": selectors.pause_state(patient, row) if row and row.enabled else None,
        "devices": list(selectors.push_devices(patient)),
        "push_key": settings.VAPID_PUBLIC_KEY if push.configured() else "",
        "time_zone": patient.time_zone,
        "unanswered_limit": rules.UNANSWERED_LIMIT,
    }
    return render(request, "reminders/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@patient_view
def settings_page(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    if request.method == "POST":
        form = ReminderSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            row = services.reminder_settings_save(
                patient=patient,
                remind_at=data["remind_at"],
                daily=data["daily"],
                titration=data["titration"],
            )
            if row.enabled:
                messages.success(
                    request,
                    gettext("Reminders saved: at %(time)s each day.")
                    % {"time": f"{row.remind_at:%H:%M}"},
                )
            else:
                messages.success(request, _("Reminders are off."))
            return redirect("reminders:settings")
        return _settings_page(request, patient, form)
    saved = selectors.settings_for(patient)
    initial = (
        {"remind_at": saved.remind_at, "daily": saved.daily, "titration": saved.titration}
        if saved
        else {"daily": True, "titration": True}
    )
    return _settings_page(request, patient, ReminderSettingsForm(initial=initial))


@require_POST
@patient_view
def push_add(request: AuthenticatedRequest, patient: User) -> JsonResponse:
    """The browser's push subscription (PushSubscription.toJSON()), sent by js/reminders.js."""
    try:
        body = json.loads(request.body or b"{}")
        keys = body.get("keys") or {}
        data = {
            "endpoint": body.get("endpoint"),
            "p256dh": keys.get("p256dh"),
            "auth": keys.get("auth"),
        }
    except (ValueError, AttributeError):
        return JsonResponse({"error": "Send the subscription as JSON."}, status=400)
    form = PushDeviceForm(data)
    if not form.is_valid():
        return JsonResponse({"error": "That is not a push subscription."}, status=400)
    device = services.push_device_add(
        patient=patient,
        label=device_label(request.headers.get("User-Agent", "")),
        **form.cleaned_data,
    )
    return JsonResponse({"device": str(device.uuid), "label": device.label}, status=201)


@require_POST
@patient_view
def push_remove(request: AuthenticatedRequest, patient: User, code: uuid.UUID) -> HttpResponse:
    device = selectors.get_push_device(patient, code)
    services.push_device_remove(device=device)
    messages.success(
        request,
        gettext("%(device)s will get no more notifications.") % {"device": device.label}
        if device.label
        else gettext("That device will get no more notifications."),
    )
    return redirect("reminders:settings")


def _unlogged(response: HttpResponse) -> HttpResponse:
    # django.request logs every 4xx with its path, which here holds the token: mark this one
    # as logged already, so no signed link lands in a log (README "Security").
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@csrf_exempt  # the token is the authority; RFC 8058 one-click POSTs come without a cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button (link scanners prefetch GETs, so a GET changes nothing).
    POST: switch that kind of reminder off; also what mail clients send for one-click."""
    try:
        link = tokens.read(token)
    except tokens.TokenDamaged:
        return _unlogged(render(request, "reminders/unsubscribe_bad.html", status=400))
    except tokens.TokenNotForThis:
        link = None
    patient = selectors.patient_by_uuid(link.patient_uuid) if link else None
    if link is None or patient is None:
        return _unlogged(
            render(request, "reminders/unsubscribe_bad.html", {"unknown": True}, status=404)
        )
    context: dict[str, object] = {"purpose": link.purpose}
    if request.method == "POST":
        result = services.reminders_unsubscribe(patient=patient, purpose=link.purpose)
        context["done"] = True
        context["changed"] = result.changed
    return render(request, "reminders/unsubscribe.html", context)
