"""Clinic pages: the clinician's roster, dashboard, brief and notes; the patient's consent actions.

Access, in one place per kind of view:
- clinician pages call ``_clinician`` (403 for any other role) and fetch a patient only through
  ``_patient_for`` -> ``selectors.get_patient_for_clinician``, so a patient who is not
  linked, or whose link was revoked a moment ago, is a 404 exactly like a made-up UUID;
- patient actions call ``_patient`` (404 for any other role) and the services scope every
  lookup to that patient, so another patient's invite or link is a 404 too.
"""

from __future__ import annotations

import hashlib
import uuid as uuid_mod

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ldn_diary import caching
from ldn_diary.accounts import audit, throttle
from ldn_diary.accounts.http import AuthenticatedRequest
from ldn_diary.accounts.models import AuditAction, User

from . import presentation, rules, selectors, services
from .charts import CompactJSONEncoder
from .forms import FollowUpForm, LinkForm, NoteForm
from .models import INVITE_VALID_DAYS

ROSTER_PAGE_SIZE = 50
# Wrong invite codes a clinician may enter per REDEEM_WINDOW seconds: with 2^40 possible codes
# guessing is hopeless anyway, but a script should not get to try.
REDEEM_MAX_FAILURES = 10
REDEEM_WINDOW = 15 * 60
# And per client address, across accounts, so that many clinician accounts behind one address
# get no more guesses between them (ldn_diary.accounts.throttle).
REDEEM_MAX_FAILURES_PER_ADDRESS = 20


def _clinician(request: AuthenticatedRequest) -> User:
    if not request.user.is_clinician:
        raise PermissionDenied("This page is for clinicians.")
    return request.user


def _patient_for(
    request: AuthenticatedRequest, patient_uuid: uuid_mod.UUID, action: AuditAction | None
) -> User:
    """The patient named in the URL, if this clinician is linked to them now; else 404.

    Non-clinicians get the same 404 (not a 403): a patient opening their own dashboard URL must
    learn nothing about whether it exists. ``action``: the read to audit (None for a write).
    """
    if not request.user.is_clinician:
        raise Http404("No such patient.")
    return selectors.get_patient_for_clinician(request.user, patient_uuid, action=action)


def _patient(request: AuthenticatedRequest) -> User:
    if not request.user.is_patient:
        raise Http404("Only patients share their diary.")
    return request.user


# --- Clinician: roster ----------------------------------------------------------------------------


@login_required
@require_GET
def roster(request: AuthenticatedRequest) -> HttpResponse:
    """The roster page, or (for htmx) just its table.

    The table is the expensive part (every linked patient's numbers, fifty rendered rows), so it
    is cached as HTML under the roster's data version plus the query (sort, filters, page): a
    reload, or twenty clinicians' tabs polling, costs three small queries until something the
    roster shows changes (see selectors.roster_version).
    """
    clinician = _clinician(request)
    sort = request.GET.get("sort", presentation.DEFAULT_SORT)
    if sort.lstrip("-") not in presentation.SORTS:
        sort = presentation.DEFAULT_SORT
    flag = request.GET.get("flag", "")
    if flag not in rules.FLAG_LABELS:
        flag = ""
    response = request.GET.get("response", "")
    if response not in presentation.RESPONSE_LABELS:
        response = ""
    search = request.GET.get("q", "")[:80]
    page_number = request.GET.get("page", "1")[:6]
    today = clinician.local_today()
    version, total = selectors.roster_version(clinician, today)
    # The table's links are built from the request's query string, so all of it is in the key.
    query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:24]
    table_key = f"{version}:table:{query}"
    # The table's HTML and the ids of the patients it shows, whose reads are audited below.
    cached = caching.get(table_key) if total else ("", [])
    table_html, shown = cached if isinstance(cached, tuple) else (None, [])
    if table_html is None:
        result = presentation.roster(
            clinician,
            today=today,
            search=search,
            flag=flag,
            response=response,
            sort=sort,
            cache_key=version,
        )
        page = Paginator(result.rows, ROSTER_PAGE_SIZE).get_page(page_number)
        table_context = {
            "roster": result,
            "page": page,
            "headers": presentation.sort_headers(sort),
            "thresholds": presentation.THRESHOLDS,
            "sort": sort,
            "flag": flag,
            "filtered": bool(flag or response or search),
            "flag_summary": [
                (code, rules.FLAG_LABELS[code], result.flag_counts[code])
                for code in rules.FLAG_ORDER
            ],
        }
        table_html = render_to_string(
            "clinic/roster.html#roster-table", table_context, request=request
        )
        shown = [row.pk for row in page.object_list]
        caching.set(table_key, (table_html, shown), presentation.CACHE_SECONDS)
    audit.record_reads(actor=clinician, patient_ids=shown, action=AuditAction.CLINIC_ROSTER)
    context = {
        "total": total,
        "table_html": mark_safe(table_html),  # noqa: S308 - our own template's output
        "flag": flag,
        "response": response,
        "q": search,
        "flag_choices": [(code, rules.FLAG_LABELS[code]) for code in rules.FLAG_ORDER],
        "response_choices": list(presentation.RESPONSE_LABELS.items()),
        "thresholds": presentation.THRESHOLDS,
    }
    # A history-restore request (back button after the cache was evicted) needs the full page.
    if request.htmx and not request.htmx.history_restore_request:
        # The table, and the two filter selects out of band so the form shows the same filter
        # (the search box is left alone: replacing it would lose the caret while typing).
        oob = {**context, "oob": True}
        response_obj = HttpResponse(
            table_html
            + render_to_string("clinic/roster.html#flag-select", oob, request=request)
            + render_to_string("clinic/roster.html#response-select", oob, request=request)
        )
    else:
        response_obj = render(request, "clinic/roster.html", context)
    patch_vary_headers(response_obj, ["HX-Request"])
    return response_obj


# --- Clinician: linking ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def link(request: AuthenticatedRequest, code: str = "") -> HttpResponse:
    """Enter a patient's invite code (or open their link, which fills it in) to gain access.

    Opening the link never redeems by itself: a GET must not change anything, so the clinician
    confirms with one button.
    """
    clinician = _clinician(request)
    form = LinkForm(request.POST or None, initial={"code": code})
    if request.method == "POST" and form.is_valid():
        failures_key = f"clinic:redeem-failures:{clinician.pk}"
        address = throttle.client_address(request)
        if caching.peek(failures_key) >= REDEEM_MAX_FAILURES or throttle.over(
            "clinic-redeem", address, limit=REDEEM_MAX_FAILURES_PER_ADDRESS
        ):
            form.add_error(
                "code", "Too many codes that did not work. Wait 15 minutes, then try again."
            )
        else:
            try:
                care_link, created = services.invite_redeem(
                    clinician=clinician, code=form.cleaned_data["code"]
                )
            except ValidationError as exc:
                caching.incr(failures_key, REDEEM_WINDOW)
                throttle.count("clinic-redeem", address, window=REDEEM_WINDOW)
                form.add_error("code", exc.messages[0])
            else:
                patient = care_link.patient
                messages.success(
                    request,
                    f"You can now see {patient}'s diary."
                    if created
                    else f"You already had access to {patient}'s diary.",
                )
                return redirect("clinic:patient", patient_uuid=patient.uuid)
    return render(request, "clinic/link.html", {"form": form})


# --- Clinician: one patient ----------------------------------------------------------------------


def _figure_script(figure: dict, element_id: str) -> str:
    return json_script(figure, element_id, encoder=CompactJSONEncoder)


@login_required
@require_GET
def patient(request: AuthenticatedRequest, patient_uuid: uuid_mod.UUID) -> HttpResponse:
    person = _patient_for(request, patient_uuid, AuditAction.CLINIC_DASHBOARD)
    dash = presentation.patient_dashboard(request.user, person)
    # The chart and the tables depend only on the patient's data: cached as HTML under the
    # same data-derived key as the figure (presentation.patient_dashboard).
    body_html = caching.get_or_compute(
        f"{dash.cache_key}:html",
        lambda: render_to_string(
            "clinic/patient.html#patient-body",
            {
                "dash": dash,
                "patient": person,
                "figure_script": _figure_script(dash.figure, "timeline-figure"),
                "thresholds": presentation.THRESHOLDS,
            },
            request=request,
        ),
        presentation.CACHE_SECONDS,
    )
    context = {
        "dash": dash,
        "patient": person,
        "body_html": mark_safe(body_html),  # noqa: S308 - our own template's output
        "notes": dash.notes,
        "note_form": NoteForm(),
        "followup_form": FollowUpForm(initial={"due_on": dash.followup}),
        "thresholds": presentation.THRESHOLDS,
    }
    return render(request, "clinic/patient.html", context)


@login_required
@require_GET
def brief(request: AuthenticatedRequest, patient_uuid: uuid_mod.UUID) -> HttpResponse:
    person = _patient_for(request, patient_uuid, AuditAction.CLINIC_BRIEF)
    dash = presentation.patient_dashboard(request.user, person, compact=True)
    context = {
        "dash": dash,
        "patient": person,
        "figure_script": _figure_script(dash.figure, "brief-figure"),
        "phases": dash.phases[-presentation.BRIEF_MAX_PHASES :],
        "hidden_phases": max(0, len(dash.phases) - presentation.BRIEF_MAX_PHASES),
        "latest_note": dash.notes[0] if dash.notes else None,
        "thresholds": presentation.THRESHOLDS,
    }
    return render(request, "clinic/brief.html", context)


@login_required
@require_POST
def note_add(request: AuthenticatedRequest, patient_uuid: uuid_mod.UUID) -> HttpResponse:
    person = _patient_for(request, patient_uuid, None)  # services.note_add records the write
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(
                clinician=request.user, patient=person, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            form.add_error("text", exc.messages[0])
    if request.htmx:
        notes = selectors.notes_for(request.user, person)
        fresh = NoteForm() if not form.errors else form
        return render(
            request,
            "clinic/patient.html#notes",
            {"patient": person, "notes": notes, "note_form": fresh},
        )
    if form.errors:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, "Note saved.")
    return redirect(reverse("clinic:patient", args=[person.uuid]) + "#notes")


@login_required
@require_POST
def followup_set(request: AuthenticatedRequest, patient_uuid: uuid_mod.UUID) -> HttpResponse:
    person = _patient_for(request, patient_uuid, None)  # services.followup_set records it
    form = FollowUpForm(request.POST)
    if form.is_valid():
        due_on = form.cleaned_data["due_on"]
        services.followup_set(clinician=request.user, patient=person, due_on=due_on)
        messages.success(
            request,
            f"Next follow-up set for {due_on:%d %b %Y}." if due_on else "Follow-up date cleared.",
        )
    else:
        messages.error(request, "Enter the follow-up date as a date, e.g. 2026-03-14.")
    return redirect(reverse("clinic:patient", args=[person.uuid]) + "#notes")


# --- Patient: consent -----------------------------------------------------------------------------


@login_required
@require_POST
def invite_create(request: AuthenticatedRequest) -> HttpResponse:
    me = _patient(request)
    try:
        invite = services.invite_create(patient=me)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            gettext(
                "Your code is %(code)s. Give it to your clinician; it works once, for %(days)s days."
            )
            % {"code": invite.display_code, "days": INVITE_VALID_DAYS},
        )
    return redirect(reverse("accounts:profile") + "#sharing")


@login_required
@require_POST
def invite_cancel(request: AuthenticatedRequest, invite_uuid: uuid_mod.UUID) -> HttpResponse:
    me = _patient(request)
    invite = services.invite_cancel(invite=selectors.get_invite_for_patient(me, invite_uuid))
    messages.success(
        request,
        gettext("Code %(code)s cancelled; nobody can use it now.") % {"code": invite.display_code},
    )
    return redirect(reverse("accounts:profile") + "#sharing")


@login_required
@require_POST
def link_revoke(request: AuthenticatedRequest, link_uuid: uuid_mod.UUID) -> HttpResponse:
    me = _patient(request)
    care_link = services.link_revoke(link=selectors.get_link_for_patient(me, link_uuid))
    messages.success(
        request,
        gettext("%(clinician)s can no longer see your diary. This took effect now.")
        % {"clinician": care_link.clinician},
    )
    return redirect(reverse("accounts:profile") + "#sharing")
