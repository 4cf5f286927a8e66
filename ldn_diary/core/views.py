"""Pages that combine apps, at the top of the layers: the landing page, the patient's history
(diary with trends) and profile (account with the clinic's consent section, who viewed their
data, their data to download, and deleting the account), and the health check. The apps below
never import this module; the root URLconf mounts these pages under the apps' own URL names
(``diary:history``, ``accounts:profile``, ``accounts:export_csv`` ...).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ldn_diary import caching
from ldn_diary.accounts import audit, twofactor
from ldn_diary.accounts import services as accounts
from ldn_diary.accounts.decorators import patient_view
from ldn_diary.accounts.forms import ProfileForm
from ldn_diary.accounts.http import AuthenticatedRequest
from ldn_diary.accounts.models import AuditAction, Role, User
from ldn_diary.accounts.selectors import WrongRole, access_by_others
from ldn_diary.accounts.throttle import client_address
from ldn_diary.clinic.selectors import consent_context
from ldn_diary.clinical.constants import ENGINE_VERSION, ROLLING_DAYS, ROLLING_MIN_DAYS, SYMPTOMS
from ldn_diary.clinical.doses import therapy_start
from ldn_diary.diary import selectors as diary
from ldn_diary.diary.calendar import month_weeks
from ldn_diary.diary.choices import TreatmentCategory
from ldn_diary.diary.rules import BACKFILL_DAYS
from ldn_diary.reminders.selectors import profile_card as reminders_card
from ldn_diary.trends.charts import CHART_DAYS, EventMark, TreatmentMark, history_figure
from ldn_diary.trends.selectors import trend_days_for, trend_summary_for

from . import datarights
from .forms import AccountDeleteForm

# Where each role starts. Named URLs, resolved lazily so an app can be added later.
ROLE_HOME: dict[str, str] = {
    Role.PATIENT: "diary:today",
    Role.CLINICIAN: "clinic:roster",
    Role.MODERATOR: "community:home",
}


WRONG_ROLE_TITLES = {
    "patients": gettext_lazy("This page is for patients"),
    "clinicians": gettext_lazy("This page is for clinicians"),
}


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 403 page (``handler403``), with the navigation. For a user on another role's page
    (``WrongRole``) it says whose page it is and where theirs are; otherwise a plain sentence.
    Used with DEBUG on as well, so what a developer sees is what a user sees."""
    context: dict[str, object] = {}
    if isinstance(exception, WrongRole) and request.user.is_authenticated:
        context = {
            # Whole sentences per role, so a translation never has to inflect a word put in.
            "needed": WRONG_ROLE_TITLES.get(exception.needed, exception.needed),
            "role": request.user.get_role_display(),
            "home_url": ROLE_HOME.get(request.user.role),
        }
    return render(request, "403.html", context, status=403)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The landing page: anonymous visitors learn what this is; users go to their role's home."""
    user = request.user
    if user.is_authenticated:
        if user.is_superuser:
            return redirect("admin:index")
        target = ROLE_HOME.get(user.role)
        if target:
            return redirect(target)
    return render(request, "core/home.html")


def _broker_status() -> dict[str, object]:
    url = settings.CELERY_BROKER_URL
    if not url:
        return {"status": "not_configured", "detail": "tasks run in-process"}
    from ldn_diary.celery import app

    try:
        # A fresh connection to the configured URL, not one from the pool: the check must see
        # the broker as it is now.
        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception as exc:  # any failure to reach the broker is a degraded, not dead, app
        return {"status": "error", "detail": type(exc).__name__}
    return {"status": "ok"}


def _may_see_health_detail(request: HttpRequest) -> bool:
    """The health check's detail is for this machine (compose's health checks run inside the
    container) or for holders of HEALTHZ_TOKEN; everyone else learns only ok or error."""
    token = settings.HEALTHZ_TOKEN
    given = request.headers.get("X-Healthz-Token") or request.GET.get("token") or ""
    if token and given and secrets.compare_digest(given.encode(), token.encode()):
        return True
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker status for load balancers and compose health checks.

    503 when the database is unreachable (nothing works without it). A broker outage is reported
    but stays 200: diary entries still save, and trends catch up via the outbox sweep.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = {"status": "ok", "vendor": connection.vendor}
    except Exception as exc:  # report, don't crash, whatever the driver raises
        database = {"status": "error", "detail": type(exc).__name__}
    ok = database["status"] == "ok"
    body: dict[str, object] = {"status": "ok" if ok else "error"}
    if _may_see_health_detail(request):
        body.update(database=database, broker=_broker_status())
    return JsonResponse(body, status=200 if ok else 503)


# --- The patient's history: calendar, streak and the 12-week chart --------------------------------


def _valid_baseline(data: dict | None) -> dict[str, float] | None:
    """Each symptom's baseline mean from a stored summary, when the baseline is valid (§2)."""
    baseline = (data or {}).get("baseline") or {}
    if not baseline.get("valid"):
        return None
    return {s: baseline[s] for s in SYMPTOMS if isinstance(baseline.get(s), int | float)}


def _month_from(raw: str | None, today: dt.date) -> dt.date:
    if raw:
        try:
            month = dt.date.fromisoformat(f"{raw}-01")
        except ValueError:
            month = None
        # Bounded both ways, so month arithmetic never leaves the calendar (year 0, year 10000).
        if month is not None and dt.date(1970, 1, 1) <= month <= today:
            return month
    return today.replace(day=1)


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


# How long a built history figure is kept (its key changes with the data, see history()).
HISTORY_CACHE_SECONDS = 300


@require_GET
@patient_view
def history(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    today = patient.local_today()
    month = _month_from(request.GET.get("month"), today)
    logged = diary.logged_days(patient)
    timeline = diary.dose_timeline(patient)
    # Days before the patient started are not "missing"; they are shown as blank.
    joined = timezone.localtime(patient.date_joined, patient.tzinfo).date()
    first_logged = next(iter(logged), None)  # logged_days is ordered by date
    started = min(joined, first_logged) if first_logged else joined
    earliest_data = min(started, timeline[0].effective_date) if timeline else started
    window_start = today - dt.timedelta(days=CHART_DAYS - 1)
    # The 7-day lines are the trend engine's stored results; the page says when they lag.
    trends = trend_summary_for(patient)

    def figure_for_page() -> dict:
        recent = diary.entries_between(patient, window_start, today).only(
            "date", "pain", "fatigue", "sleep", "mood"
        )
        labels = dict(TreatmentCategory.choices)
        return history_figure(
            recent,
            trend_days_for(patient, window_start, today),
            timeline,
            window_start,
            today,
            treatments=[
                TreatmentMark(
                    t.name, str(labels.get(t.category, t.category)), t.start_date, t.stop_date
                )
                for t in diary.treatments_for(patient)
            ],
            events=[EventMark(e.date, e.kind) for e in diary.life_events_for(patient)],
            # The same baseline and windows as the clinician's chart, from the stored summary.
            baseline=_valid_baseline(trends.data),
            therapy_start=therapy_start(diary.steps(timeline)),
        )

    # Building the figure is most of the page's work (plotly checks every property). Every
    # write to the diary, doses, treatments or events moves latest_version, every recompute
    # moves data_version and computed_at, and the window moves with the patient's day; the
    # words follow the language.
    figure = caching.get_or_compute(
        f"diary:history:{patient.pk}:{trends.latest_version}:{trends.data_version}:"
        f"{trends.computed_at and trends.computed_at.timestamp()}:{ENGINE_VERSION}:{today}:"
        f"{translation.get_language()}",
        figure_for_page,
        HISTORY_CACHE_SECONDS,
    )
    weeks = month_weeks(month, today, logged, started)
    recent_logged = sum(1 for d in logged if d >= window_start)
    prev_month = _add_months(month, -1)
    context = {
        "month": month,
        "weeks": weeks,
        # The current month's view starts in the previous month when the backfill window does.
        "earlier_month": next(
            (c.date for w in weeks for c in w if c.state != "outside" and c.date < month), None
        ),
        "backfill_days": BACKFILL_DAYS,
        "today": today,
        "prev_month": prev_month if prev_month >= earliest_data.replace(day=1) else None,
        "next_month": _add_months(month, 1) if month < today.replace(day=1) else None,
        "streak": diary.current_streak(logged, today),
        "last_logged": max(logged) if logged else None,
        "recent_logged": recent_logged,
        "chart_days": CHART_DAYS,
        "chart_weeks": CHART_DAYS // 7,
        "rolling_days": ROLLING_DAYS,
        "rolling_min_days": ROLLING_MIN_DAYS,
        "has_entries": bool(logged),
        "figure": figure,
        "trends": trends,
        "month_logged": sum(1 for d in logged if (d.year, d.month) == (month.year, month.month)),
    }
    return render(request, "core/history.html", context)


# --- Profile: the account, and for a patient who may see their diary ----------------------------


ACCESS_PAGE_SIZE = 20


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accounts.profile_update(
            user=user,
            display_name=data["display_name"],
            email=data["email"],
            time_zone=data["time_zone"],
            language=data.get("language") or None,
        )
        # The new language at once, for this very message and the page it redirects to.
        translation.activate(user.language)
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    context: dict[str, object] = {"form": form}
    if twofactor.requires_second_factor(user):
        context["two_factor"] = {
            "recovery_codes_left": twofactor.recovery_codes_left(user),
        }
    if user.is_patient:
        # The consent section (who may see the diary, invite codes): clinic/_consent.html.
        context.update(consent_context(user))
        page = Paginator(access_by_others(user), ACCESS_PAGE_SIZE).get_page(
            request.GET.get("access_page", "1")[:6]
        )
        context["access_page"] = page
        context["access_rows"] = [
            {
                "at": event.at,
                "who": audit.who(event),
                # "LDN Diary (a scheduled job ...)" needs no role after it.
                "role": ""
                if event.actor_role == "system"
                else audit.ROLE_LABELS.get(event.actor_role, event.actor_role),
                "what": audit.what(event),
            }
            for event in page.object_list
        ]
        # The reminders card, linking to their own page: reminders/_profile_card.html.
        context.update(reminders_card(user))
    return render(request, "core/profile.html", context)


# --- Data rights: the patient's own copy, and erasure ---------------------------------------------


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response  # no-store, like every page: accounts.middleware.NoStoreMiddleware


@require_GET
@patient_view
def export_csv(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """Everything held about the patient, as CSV files in one zip (core.datarights)."""
    now = timezone.now()
    body = datarights.export_zip(patient, now)
    audit.record(actor=patient, patient=patient, action=AuditAction.ACCOUNT_EXPORT)
    return _download(body, "application/zip", f"ldn-diary-{now.date().isoformat()}.zip")


@require_GET
@patient_view
def export_fhir(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """The diary, doses, other treatments and events, and questionnaires as a FHIR R4 Bundle
    (diary.fhir, questionnaires.fhir; assembled in core.datarights)."""
    now = timezone.now()
    body = datarights.fhir_export(patient, now)
    audit.record(actor=patient, patient=patient, action=AuditAction.ACCOUNT_EXPORT)
    return _download(body, "application/fhir+json", f"ldn-diary-fhir-{now.date().isoformat()}.json")


@require_http_methods(["GET", "POST"])
@patient_view
def account_delete(request: AuthenticatedRequest, patient: User) -> HttpResponse:
    """Erase the account and its data, after the password and an explicit tick."""
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.account_delete(user=patient, password=form.cleaned_data["password"])
        except ValidationError as exc:
            form.add_error(None, exc)  # {"password": ...} lands on that field
        else:
            # The session ends without the log-out signal: its receivers (login auditing)
            # would write about the account just erased.
            request.session.flush()
            request.user = AnonymousUser()  # type: ignore[assignment]
            messages.success(
                request, _("Your account and your diary have been deleted. Thank you for using it.")
            )
            return redirect("home")
    return render(request, "core/account_delete.html", {"form": form})
