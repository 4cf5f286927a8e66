from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ldn_diary.accounts.models import Role

# Where each role starts. Named URLs, resolved lazily so an app can be added later.
ROLE_HOME: dict[str, str] = {
    Role.PATIENT: "diary:today",
    Role.CLINICIAN: "clinic:roster",
    Role.MODERATOR: "community:home",
}


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
    broker = _broker_status()
    ok = database["status"] == "ok"
    body = {"status": "ok" if ok else "error", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if ok else 503)
