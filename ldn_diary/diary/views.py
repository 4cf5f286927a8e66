"""The patient's own diary pages: the day's entry, doses and plan, other treatments and life
events, CSV import and export.

Every view gets the patient through ``accounts.decorators.patient_view``, so a clinician or
moderator is answered 404 here, and every object named in a URL is looked up within that
patient's rows. Clinicians read diaries through the clinic app; the history page, which shows
the diary with its trends, is in ``ldn_diary.core`` (a layer above both).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ldn_diary.accounts.decorators import patient_view
from ldn_diary.accounts.http import AuthenticatedRequest
from ldn_diary.accounts.models import User
from ldn_diary.clinical.doses import days_at_dose, days_on

from . import selectors, services
from .csvio import decode_upload, diary_csv_lines, parse_diary_csv, treatments_csv_lines
from .dosing import display_mg, format_mg
from .forms import (
    DoseChangeForm,
    DoseStopForm,
    EntryForm,
    ImportConfirmForm,
    ImportForm,
    LifeEventForm,
    PlanConfirmForm,
    PlanForm,
    TreatmentForm,
)
from .models import DiaryEntry, DoseTaken, Dreams, Formulation, SideEffect, TimeOfDay
from .rules import BACKFILL_DAYS, backfill_window, day_label, opioid_warning
from .services import StaleEntryError

ENTRY_TEMPLATE = "diary/today.html"


def _opioid_context(
    patient: User, today: dt.date, timeline: list | None = None
) -> dict[str, object]:
    """The opioid warning, shown on the entry, doses and treatments pages while an opioid and
    LDN are both taken today (rules.opioids_with_ldn). A save that makes it true lands on one
    of those pages, so the patient sees it at once."""
    names = selectors.opioids_with_ldn_on(patient, today, timeline)
    return {"opioid_warning": opioid_warning(names) if names else ""}


# --- Daily entry --------------------------------------------------------------------------------


def _form_for(entry: DiaryEntry | None, date: dt.date, dose_taken_default: str) -> EntryForm:
    """An unbound form showing what is saved for the day, with a fresh idempotency key."""
    initial: dict[str, object] = {"date": date, "request_key": uuid.uuid4()}
    if entry is not None:
        initial.update(
            {name: getattr(entry, name) for name in services.ENTRY_FIELDS},
            version=entry.version,
        )
    if entry is None or entry.dose_taken == DoseTaken.NOT_APPLICABLE:
        # Not answered yet (or not asked on a day without LDN): propose the usual answer.
        initial["dose_taken"] = dose_taken_default
    return EntryForm(initial=initial)


def _saved_summary(entry: DiaryEntry) -> str:
    return gettext(
        "Saved for %(day)s: pain %(pain)s, fatigue %(fatigue)s, sleep %(sleep)s, mood %(mood)s."
    ) % {
        "day": day_label(entry.date),
        "pain": entry.pain,
        "fatigue": entry.fatigue,
        "sleep": entry.sleep,
        "mood": entry.mood,
    }


def _entry_context(
    patient: User,
    date: dt.date,
    today: dt.date,
    *,
    form: EntryForm | None = None,
    entry: DiaryEntry | None = None,
    **extra: Any,
) -> dict[str, object]:
    timeline = selectors.dose_timeline(patient)
    dose_that_day = selectors.dose_at(timeline, date)
    on_ldn = dose_that_day is not None and dose_that_day.dose_ug > 0
    if form is None:
        if entry is None:
            entry = selectors.entry_for_day(patient, date)
        form = _form_for(entry, date, DoseTaken.YES if on_ldn else "")
    dose_today = selectors.dose_at(timeline, today)
    status = selectors.titration_status(selectors.plan_for(patient), dose_today, today)
    earliest, _latest = backfill_window(today)
    return {
        "form": form,
        "entry": entry,
        "date": date,
        "today": today,
        "is_today": date == today,
        "prev_day": date - dt.timedelta(days=1) if date > earliest else None,
        "next_day": date + dt.timedelta(days=1) if date < today else None,
        "dose": dose_that_day,
        "on_ldn": on_ldn,
        "dose_mg": display_mg(dose_that_day.dose_ug) if dose_that_day else "",
        "status": status,
        "next_mg": display_mg(status.next_ug) if status and status.next_ug else "",
        "missed": selectors.days_to_fill_in(patient, today),
        "backfill_days": BACKFILL_DAYS,
        **_opioid_context(patient, today, timeline),
        **extra,
    }


def _requested_day(request: AuthenticatedRequest, today: dt.date) -> dt.date | None:
    raw = request.GET.get("date")
    if not raw:
        return today
    try:
        date = dt.date.fromisoformat(raw)
    except ValueError:
        messages.warning(
            request,
            gettext("%(raw)r is not a date like %(example)s; here is today.")
            % {"raw": raw, "example": today.isoformat()},
        )
        return None
    earliest, _latest = backfill_window(today)
    if not earliest <= date <= today:
        messages.info(
            request,
            gettext(
                "You can log today and fill in days back to %(earliest)s; %(day)s is outside "
                "that. Older days can be imported from a CSV file on the History page."
            )
            % {"earliest": day_label(earliest), "day": day_label(date)},
        )
        return None
    return date


@require_GET
@patient_view
def today(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """The daily entry: today, or with ?date=YYYY-MM-DD a day within the backfill window."""
    now = request.user.local_today()
    date = _requested_day(request, now)
    if date is None:
        return redirect("diary:today")
    return render(request, ENTRY_TEMPLATE, _entry_context(patient, date, now))


def save_entry_form(patient: User, data: dict[str, Any], today: dt.date) -> tuple[DiaryEntry, bool]:
    """Save a valid EntryForm's day (``services.entry_save``, whose errors it raises): the one
    call for the entry page and the offline phone's sync alike."""
    return services.entry_save(
        patient=patient,
        date=data["date"],
        pain=data["pain"],
        fatigue=data["fatigue"],
        sleep=data["sleep"],
        mood=data["mood"],
        dreams=data["dreams"],
        side_effects=data["side_effects"],
        side_effect_other=data["side_effect_other"],
        dose_taken=data["dose_taken"],
        note=data["note"],
        version=data["version"],
        request_key=data["request_key"],
        today=today,
    )


@require_POST
@patient_view
def entry_save(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """Save a day. htmx gets the form fragment back with the outcome; without JavaScript a
    success redirects (POST/redirect/GET) and an error re-renders the page."""
    now = request.user.local_today()
    form = EntryForm(request.POST)
    extra: dict[str, Any] = {}
    date = now
    if form.is_valid():
        data = form.cleaned_data
        date = data["date"]
        try:
            entry, _created = save_entry_form(patient, data, now)
        except StaleEntryError as exc:
            # Show what is saved now, with a fresh version, and what they tried to save, so
            # they can re-apply it; nothing they typed is silently dropped.
            extra = {
                "stale_message": exc.message,
                "unsaved": _unsaved_summary(data),
                "entry": exc.entry,
            }
            form = _form_for(exc.entry, date, DoseTaken.YES)
        except ValidationError as exc:
            form.add_error(None, exc)
            if "date" in form.errors:
                date = now
        else:
            if request.htmx:
                context = _entry_context(
                    patient, date, now, entry=entry, saved_message=_saved_summary(entry), oob=True
                )
                return render(request, f"{ENTRY_TEMPLATE}#entry-form", context)
            messages.success(request, _saved_summary(entry))
            return redirect(_day_url(date, now))
    elif form.cleaned_data.get("date"):
        date = form.cleaned_data["date"]
        earliest, _latest = backfill_window(now)
        if not earliest <= date <= now:
            date = now
    context = _entry_context(patient, date, now, form=form, **extra)
    if request.htmx:
        return render(request, f"{ENTRY_TEMPLATE}#entry-form", context)
    return render(request, ENTRY_TEMPLATE, context)


# Short score names for the one-line summary of an entry that was not saved.
SUMMARY_NAMES = {"pain": _("pain"), "fatigue": _("fatigue"), "sleep": _("sleep"), "mood": _("mood")}


def _unsaved_summary(data: dict) -> str:
    scores = ", ".join(
        f"{SUMMARY_NAMES[name]} {data[name]}" for name in ("pain", "fatigue", "sleep", "mood")
    )
    labels = dict(SideEffect.choices)
    effects = [str(labels[c]) for c in data["side_effects"] if c != SideEffect.OTHER]
    if data["side_effect_other"]:
        effects.append(data["side_effect_other"])
    dreams, taken = dict(Dreams.choices), dict(DoseTaken.choices)
    parts = [
        scores,
        gettext("dreams %(dreams)s")
        % {"dreams": str(dreams.get(data["dreams"], data["dreams"])).lower()},
    ]
    if data["dose_taken"]:
        parts.append(
            gettext("dose taken %(answer)s")
            % {"answer": str(taken.get(data["dose_taken"], data["dose_taken"])).lower()}
        )
    if effects:
        parts.append(gettext("side effects %(effects)s") % {"effects": ", ".join(effects)})
    if data["note"]:
        parts.append(gettext("note “%(note)s”") % {"note": data["note"]})
    return "; ".join(parts)


def _day_url(date: dt.date, today: dt.date) -> str:
    url = reverse("diary:today")
    return url if date == today else f"{url}?date={date.isoformat()}"


# --- Doses and the titration plan ---------------------------------------------------------------


def _doses_page(
    request: AuthenticatedRequest,
    patient: User,
    *,
    add_form: DoseChangeForm | None = None,
    stop_form: DoseStopForm | None = None,
    plan_form: PlanForm | None = None,
    status_code: int = 200,
) -> HttpResponse:
    today = request.user.local_today()
    timeline = selectors.dose_timeline(patient)
    current = selectors.dose_at(timeline, today)
    plan = selectors.plan_for(patient)
    status = selectors.titration_status(plan, current, today)
    # Newest first, each with the day it ended, for the timeline list.
    rows = []
    for i, change in enumerate(timeline):
        following = timeline[i + 1] if i + 1 < len(timeline) else None
        until = following.effective_date - dt.timedelta(days=1) if following else None
        rows.append(
            {
                "change": change,
                "mg": display_mg(change.dose_ug),
                "until": until,
                "days": days_on(change.effective_date, until or today),
                "current": change is current,
            }
        )
    rows.reverse()
    if plan_form is None:
        initial = {}
        if plan is not None:
            initial = {
                "start_mg": format_mg(plan.start_ug),
                "step_mg": format_mg(plan.step_ug),
                "interval_days": plan.interval_days,
                "target_mg": format_mg(plan.target_ug),
            }
        plan_form = PlanForm(initial=initial)
    defaults: dict[str, object] = {"effective_date": today}
    if current is not None:
        defaults.update(time_of_day=current.time_of_day, formulation=current.formulation)
    context = {
        "today": today,
        "rows": rows,
        "current": current,
        # The same count as the clinician's dashboard (clinical.doses.days_at_dose).
        "days_at_dose": days_at_dose(selectors.steps(timeline), today),
        "current_mg": display_mg(current.dose_ug) if current else "",
        "plan": plan,
        "plan_mg": {
            "start": display_mg(plan.start_ug),
            "step": display_mg(plan.step_ug),
            "target": display_mg(plan.target_ug),
        }
        if plan
        else None,
        "status": status,
        "next_mg": display_mg(status.next_ug) if status and status.next_ug else "",
        "add_form": add_form or DoseChangeForm(initial=defaults),
        "stop_form": stop_form or DoseStopForm(initial={"effective_date": today}),
        "plan_form": plan_form,
        **_opioid_context(patient, today, timeline),
    }
    return render(request, "diary/doses.html", context, status=status_code)


@require_GET
@patient_view
def doses(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    return _doses_page(request, patient)


@require_POST
@patient_view
def dose_add(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = DoseChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            change = services.dose_change_add(
                patient=patient,
                effective_date=data["effective_date"],
                dose_ug=data["dose_mg"],
                time_of_day=data["time_of_day"],
                formulation=data["formulation"],
                note=data["note"],
                today=request.user.local_today(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                gettext("Recorded %(mg)s mg from %(day)s.")
                % {"mg": display_mg(change.dose_ug), "day": day_label(change.effective_date)},
            )
            return redirect("diary:doses")
    return _doses_page(request, patient, add_form=form)


@require_POST
@patient_view
def dose_stop(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = DoseStopForm(request.POST)
    if form.is_valid():
        # A stop keeps the time of day and form of the dose it stops.
        before = selectors.dose_on(patient, form.cleaned_data["effective_date"])
        try:
            change = services.dose_change_add(
                patient=patient,
                effective_date=form.cleaned_data["effective_date"],
                dose_ug=0,
                note=form.cleaned_data["note"],
                today=request.user.local_today(),
                time_of_day=before.time_of_day if before else TimeOfDay.BEDTIME,
                formulation=before.formulation if before else Formulation.CAPSULE,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                gettext("Recorded a stop or pause from %(day)s.")
                % {"day": day_label(change.effective_date)},
            )
            return redirect("diary:doses")
    return _doses_page(request, patient, stop_form=form)


@require_http_methods(["GET", "POST"])
@patient_view
def dose_edit(request: AuthenticatedRequest, patient: User, code: uuid.UUID) -> HttpResponse:
    change = selectors.get_dose_change(patient, code)
    # A stop/pause is edited as such (its date and note); it never silently becomes a dose.
    is_stop = change.dose_ug == 0
    form_class = DoseStopForm if is_stop else DoseChangeForm
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.dose_change_edit(
                    dose_change=change,
                    effective_date=data["effective_date"],
                    dose_ug=0 if is_stop else data["dose_mg"],
                    time_of_day=data.get("time_of_day", change.time_of_day),
                    formulation=data.get("formulation", change.formulation),
                    note=data["note"],
                    today=request.user.local_today(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Dose change updated."))
                return redirect("diary:doses")
    else:
        form = form_class(
            initial={
                "effective_date": change.effective_date,
                "dose_mg": format_mg(change.dose_ug),
                "time_of_day": change.time_of_day,
                "formulation": change.formulation,
                "note": change.note,
            }
        )
    return render(
        request,
        "diary/dose_edit.html",
        {"form": form, "change": change, "mg": display_mg(change.dose_ug), "is_stop": is_stop},
    )


@require_http_methods(["GET", "POST"])
@patient_view
def dose_delete(request: AuthenticatedRequest, patient: User, code: uuid.UUID) -> HttpResponse:
    change = selectors.get_dose_change(patient, code)
    if request.method == "POST":
        mg, date = display_mg(change.dose_ug), change.effective_date
        services.dose_change_delete(dose_change=change)
        messages.success(
            request,
            gettext("Deleted the %(mg)s mg change from %(day)s.")
            % {"mg": mg, "day": day_label(date)},
        )
        return redirect("diary:doses")
    return render(
        request, "diary/dose_delete.html", {"change": change, "mg": display_mg(change.dose_ug)}
    )


@require_POST
@patient_view
def plan_set(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = PlanForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_set(
                patient=patient,
                start_ug=data["start_mg"],
                step_ug=data["step_mg"],
                interval_days=data["interval_days"],
                target_ug=data["target_mg"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Titration plan saved."))
            return redirect(reverse("diary:doses") + "#plan")
    return _doses_page(request, patient, plan_form=form)


@require_POST
@patient_view
def plan_clear(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    services.plan_clear(patient=patient)
    messages.success(request, _("Titration plan removed. Your dose history is unchanged."))
    return redirect("diary:doses")


@require_POST
@patient_view
def plan_confirm(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = PlanConfirmForm(request.POST)
    back = "diary:today" if request.POST.get("back") == "today" else "diary:doses"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    try:
        change = services.plan_confirm_step(
            patient=patient,
            dose_ug=form.cleaned_data["dose_ug"],
            date=form.cleaned_data["date"],
            today=request.user.local_today(),
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(
            request,
            gettext("Step recorded: %(mg)s mg from %(day)s.")
            % {"mg": display_mg(change.dose_ug), "day": day_label(change.effective_date)},
        )
    return redirect(back)


# --- Other treatments and life events ------------------------------------------------------------


def _treatments_page(
    request: AuthenticatedRequest,
    patient: User,
    *,
    treatment_form: TreatmentForm | None = None,
    event_form: LifeEventForm | None = None,
    status_code: int = 200,
) -> HttpResponse:
    today = request.user.local_today()
    treatments = selectors.treatments_for(patient)
    context = {
        "today": today,
        "current": [t for t in treatments if t.stop_date is None or t.stop_date >= today],
        "past": [t for t in treatments if t.stop_date is not None and t.stop_date < today],
        "events": selectors.life_events_for(patient),
        "treatment_form": treatment_form or TreatmentForm(initial={"start_date": today}),
        "event_form": event_form or LifeEventForm(initial={"date": today}),
        **_opioid_context(patient, today),
    }
    return render(request, "diary/treatments.html", context, status=status_code)


@require_GET
@patient_view
def treatments(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    return _treatments_page(request, patient)


@require_POST
@patient_view
def treatment_add(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = TreatmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            treatment = services.treatment_add(
                patient=patient,
                name=data["name"],
                category=data["category"],
                start_date=data["start_date"],
                stop_date=data["stop_date"],
                note=data["note"],
                today=request.user.local_today(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                gettext("Recorded %(name)s (%(category)s) from %(day)s %(year)s.")
                % {
                    "name": treatment.name,
                    "category": treatment.get_category_display().lower(),
                    "day": day_label(treatment.start_date),
                    "year": treatment.start_date.year,
                },
            )
            return redirect("diary:treatments")
    return _treatments_page(request, patient, treatment_form=form)


@require_http_methods(["GET", "POST"])
@patient_view
def treatment_edit(request: AuthenticatedRequest, patient: User, code: uuid.UUID) -> HttpResponse:
    treatment = selectors.get_treatment(patient, code)
    if request.method == "POST":
        form = TreatmentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.treatment_edit(
                    treatment=treatment,
                    name=data["name"],
                    category=data["category"],
                    start_date=data["start_date"],
                    stop_date=data["stop_date"],
                    note=data["note"],
                    today=request.user.local_today(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, gettext("Saved %(name)s.") % {"name": treatment.name})
                return redirect("diary:treatments")
    else:
        form = TreatmentForm(
            initial={
                "name": treatment.name,
                "category": treatment.category,
                "start_date": treatment.start_date,
                "stop_date": treatment.stop_date,
                "note": treatment.note,
            }
        )
    return render(request, "diary/treatment_edit.html", {"form": form, "treatment": treatment})


@require_http_methods(["GET", "POST"])
@patient_view
def treatment_delete(request: AuthenticatedRequest, patient: User, code: uuid.UUID) -> HttpResponse:
    treatment = selectors.get_treatment(patient, code)
    if request.method == "POST":
        services.treatment_delete(treatment=treatment)
        messages.success(request, gettext("Deleted %(name)s.") % {"name": treatment.name})
        return redirect("diary:treatments")
    return render(request, "diary/record_delete.html", {"treatment": treatment, "event": None})


@require_POST
@patient_view
def event_add(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = LifeEventForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            event = services.life_event_add(
                patient=patient,
                date=data["date"],
                kind=data["kind"],
                text=data["text"],
                today=request.user.local_today(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                gettext("Recorded a %(kind)s on %(day)s.")
                % {"kind": event.get_kind_display().lower(), "day": day_label(event.date)},
            )
            return redirect(reverse("diary:treatments") + "#events")
    return _treatments_page(request, patient, event_form=form)


@require_http_methods(["GET", "POST"])
@patient_view
def event_delete(request: AuthenticatedRequest, patient: User, code: uuid.UUID) -> HttpResponse:
    event = selectors.get_life_event(patient, code)
    if request.method == "POST":
        services.life_event_delete(life_event=event)
        messages.success(
            request,
            gettext("Deleted the %(kind)s on %(day)s.")
            % {"kind": event.get_kind_display().lower(), "day": day_label(event.date)},
        )
        return redirect(reverse("diary:treatments") + "#events")
    return render(request, "diary/record_delete.html", {"treatment": None, "event": event})


# --- CSV export and import ----------------------------------------------------------------------


@require_GET
@patient_view
def export(request: AuthenticatedRequest, patient: User) -> StreamingHttpResponse:
    timeline = selectors.dose_timeline(patient)
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date").iterator(chunk_size=500)
    response = StreamingHttpResponse(
        diary_csv_lines(entries, timeline), content_type="text/csv; charset=utf-8"
    )
    filename = f"ldn-diary-{request.user.local_today().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response  # no-store, like every page: accounts.middleware.NoStoreMiddleware


@require_GET
@patient_view
def treatments_export(request: AuthenticatedRequest, patient: User) -> StreamingHttpResponse:
    """Other treatments, flares and life events: a CSV file of their own (csvio)."""
    response = StreamingHttpResponse(
        treatments_csv_lines(selectors.treatments_for(patient), selectors.life_events_for(patient)),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"ldn-diary-treatments-{request.user.local_today().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
@patient_view
def import_upload(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """Upload a file. A valid one is kept server-side (``ImportStash``, for an hour) and
    previewed; the preview page never sends the data back, so what is confirmed is what was
    checked here."""
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    more = 0
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = decode_upload(upload.read())
        except ValueError as exc:
            problems = [str(exc)]
        else:
            parsed = parse_diary_csv(text, today=request.user.local_today())
            problems, more = parsed.errors, parsed.more_errors
            if parsed.ok:
                # What only the whole diary can tell (a dose taken on a day without LDN).
                problems = services.import_plan(patient, parsed.rows).problems
            if not problems:
                services.import_stash_put(patient=patient, name=upload.name or "", text=text)
                return redirect("diary:import_preview")
    return render(
        request, "diary/import.html", {"form": form, "problems": problems, "more_problems": more}
    )


@require_GET
@patient_view
def import_preview(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    stash = selectors.pending_import(patient, timezone.now())
    if stash is None:
        messages.info(
            request,
            _("Choose a file to import first. (An upload waits an hour for you to confirm it.)"),
        )
        return redirect("diary:import")
    parsed = parse_diary_csv(stash.text, today=request.user.local_today())
    if not parsed.ok:
        # The day changed since the upload and a row is now... still in the future, or similar.
        return render(
            request,
            "diary/import.html",
            {"form": ImportForm(), "problems": parsed.errors, "more_problems": parsed.more_errors},
        )
    plan = services.import_plan(patient, parsed.rows)
    if plan.problems:  # the doses changed since the upload
        return render(
            request, "diary/import.html", {"form": ImportForm(), "problems": plan.problems}
        )
    return render(
        request,
        "diary/import_preview.html",
        {
            "name": stash.name,
            "expires_at": stash.expires_at,
            "plan": plan,
            "first_rows": [(r, format_mg(r.dose_ug)) for r in parsed.rows[:5]],
            "changed": [(row, entry) for row, entry in plan.changed[:30]],
            "dose_changes": [
                (date, format_mg(ug), format_mg(same.dose_ug) if same else None)
                for date, ug, same in plan.dose_changes
            ],
            "confirm_form": ImportConfirmForm(initial={"token": stash.token}),
        },
    )


@require_POST
@patient_view
def import_confirm(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    form = ImportConfirmForm(request.POST)
    token = form.cleaned_data["token"] if form.is_valid() else ""
    try:
        result = services.import_confirm(
            patient=patient, token=token, today=request.user.local_today()
        )
    except services.ImportGoneError as exc:
        messages.warning(request, exc.messages[0])
        return redirect("diary:import")
    except ValidationError:
        return redirect("diary:import_preview")  # it says what changed since the preview
    messages.success(request, gettext("Imported %(summary)s") % {"summary": result.summary()})
    return redirect("diary:history")


@require_POST
@patient_view
def import_cancel(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    services.import_stash_discard(patient=patient)
    messages.info(request, _("Import cancelled. Nothing was changed."))
    return redirect("diary:history")
