"""The entry page without a connection: the shell the service worker keeps, and the endpoint
the phone's queue sends saved-offline entries to (static/js/offline.js).

What is kept where, and why (README "Offline entry"):

- The service worker caches only the **shell** (``entry_shell``): the entry form with no
  values, no dose, no dates from the diary and no CSRF token, identical for every patient,
  plus the static files. Every real page stays ``no-store`` and is never cached; the shell is
  what the patient sees when the entry page cannot be reached.
- An entry saved without a connection waits in the browser's IndexedDB on the patient's own
  device, with its idempotency key and the version it was edited from, until ``entry_sync``
  accepts it. That is health data on the phone, outside the server's control, for as long as
  the phone is offline: the price of not losing the entry. It is deleted from the phone once
  the server has it, and it is only ever sent for the account that saved it.
- Sending reuses ``services.entry_save``: a retry with the same key is answered as saved and
  writes nothing, and an entry edited from a version older than the server's is refused
  (``StaleEntryError``) and shown to the patient with both versions, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from ldn_diary.accounts.decorators import patient_view
from ldn_diary.accounts.http import AuthenticatedRequest
from ldn_diary.accounts.models import User

from . import services
from .forms import EntryForm
from .models import DoseTaken
from .rules import day_label
from .services import StaleEntryError
from .views import _saved_summary, _unsaved_summary, save_entry_form


@require_GET
@patient_view
def entry_shell(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """The entry form with nothing of anyone's diary in it, for the service worker's cache.

    The date is filled in by static/js/offline.js from the phone's clock (or the page's
    ``?date=``) when it is shown; "Took the dose" is asked, as on any day with LDN, and the
    server stores "not applicable" for a day without (rules.check_entry).
    """
    form = EntryForm(initial={"dose_taken": DoseTaken.YES})
    context = {
        "form": form,
        "entry": None,
        "is_today": True,
        "on_ldn": True,
        "shell": True,
        # No token in a page that is kept in a cache: offline.js asks entry_sync for a fresh
        # one when it sends.
        "csrf_token": "",
    }
    return render(request, "diary/offline_shell.html", context)


def _errors(exc: ValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


@require_http_methods(["GET", "POST"])
@patient_view
def entry_sync(request: AuthenticatedRequest, patient: User) -> JsonResponse:
    """GET: who is signed in and a fresh CSRF token (the cookie is HttpOnly, so the queue asks
    here before it sends). POST: one queued entry, as the entry form's fields plus the
    ``patient`` it was saved for; answers saved, conflict, invalid or other_account as JSON.

    Each outcome is a 200 with its ``status``: a conflict or a refused value is an answer for
    the patient to act on (like the entry form's own stale and error messages), not a failed
    request for the browser's console and the server's log to report.
    """
    if request.method == "GET":
        return JsonResponse({"patient": str(patient.uuid), "csrf": get_token(request)})
    if request.POST.get("patient") != str(patient.uuid):
        # Saved on this phone under another account: never file it in this one's diary.
        return JsonResponse({"status": "other_account"})
    now = patient.local_today()
    form = EntryForm(request.POST)
    if not form.is_valid():
        messages = [str(e) for errors in form.errors.values() for e in errors]
        return JsonResponse({"status": "invalid", "errors": messages})
    data = form.cleaned_data
    date: dt.date = data["date"]
    try:
        entry, _saved = save_entry_form(patient, data, now)
    except StaleEntryError as exc:
        saved = {name: getattr(exc.entry, name) for name in services.ENTRY_FIELDS}
        if saved["dose_taken"] == DoseTaken.NOT_APPLICABLE:
            saved["dose_taken"] = ""  # not asked that day: nothing to show
        return JsonResponse(
            {
                "status": "conflict",
                "day": day_label(date),
                "at": timezone.localtime(exc.entry.updated_at, patient.tzinfo).strftime("%H:%M"),
                "server": _unsaved_summary(saved),
                "local": _unsaved_summary(data),
                # Sending again with this version replaces the server's entry: only when the
                # patient chooses to (offline.js, "Replace it with this phone's").
                "version": exc.entry.version,
            }
        )
    except ValidationError as exc:
        return JsonResponse({"status": "invalid", "errors": _errors(exc)})
    return JsonResponse(
        {
            "status": "saved",
            "date": date.isoformat(),
            "summary": _saved_summary(entry),
            "version": entry.version,
            # For the form still on the page, so its next save is neither a replay nor stale.
            "request_key": str(uuid.uuid4()),
        }
    )
