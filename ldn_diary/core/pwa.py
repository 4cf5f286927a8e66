"""The installable web app: its manifest and its service worker, both served from the site's
root so the worker's scope is the whole site.

The worker (templates/core/sw.js) keeps the entry page's empty shell
(``diary:entry_shell``) and the static files it needs, so the entry page opens offline; it never
caches a page with health data (every page is ``no-store``, ldn_diary/diary/offline.py says what
is kept where). It also shows the reminders' push notifications (ldn_diary/reminders/push.py).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

# Blue of the site's header and buttons (static/css/app.css), for the phone's title bar.
THEME_COLOUR = "#1f5fa8"
BACKGROUND_COLOUR = "#ffffff"

# What the shell needs besides itself; every name is hashed in a deployment (whitenoise), so a
# changed file is a new URL and, through the version below, a new cache.
SHELL_ASSETS = (
    "css/app.css",
    "css/diary.css",
    "vendor/htmx-2.0.11.min.js",
    "js/offline.js",
    "icons/icon-192.png",
)


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("icons/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
        {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
    ]
    body = {
        "name": "LDN Diary",
        "short_name": "LDN Diary",
        "description": "A daily symptom diary for Low-Dose Naltrexone.",
        "id": "/",
        "start_url": reverse("diary:today"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "lang": settings.LANGUAGE_CODE,
        "icons": icons,
    }
    return JsonResponse(body, content_type="application/manifest+json")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    assets = [static(name) for name in SHELL_ASSETS]
    config = {
        "shell": reverse("diary:entry_shell"),
        "entry": reverse("diary:today"),
        "assets": assets,
    }
    source = render_to_string("core/sw.js", {"config": json.dumps(config), "version": "{version}"})
    # The cache's name changes with anything the worker keeps, so a deployment that changes the
    # shell or an asset makes browsers fetch them anew and drop the old cache.
    version = hashlib.sha256(source.encode()).hexdigest()[:12]
    response = HttpResponse(
        source.replace("{version}", version), content_type="text/javascript; charset=utf-8"
    )
    # The worker controls the whole site from here; browsers check it for updates on every
    # navigation, and the no-store added to every response makes them always get the latest.
    response["Service-Worker-Allowed"] = "/"
    return response
