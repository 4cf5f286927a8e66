"""The URL layout, decided here at the top: each app's own URLs under its prefix, plus the pages
that combine apps (ldn_diary.core) mounted under the names their app would give them."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.contrib import admin
from django.urls import URLPattern, include, path
from django.views.i18n import set_language

from ldn_diary.accounts import urls as accounts_urls
from ldn_diary.core import views as pages
from ldn_diary.diary import urls as diary_urls


def _app(urls: ModuleType, *extra: URLPattern) -> Any:
    """An app's URL module with extra pages, under the app's own namespace."""
    return include(([*urls.urlpatterns, *extra], urls.app_name))


urlpatterns = [
    path("", include("ldn_diary.core.urls")),
    # The language switcher on signed-out pages (base.html); a stored profile choice wins later.
    path("i18n/setlang/", set_language, name="set_language"),
    path(
        "accounts/",
        _app(
            accounts_urls,
            path("profile/", pages.profile, name="profile"),
            path("profile/export.zip", pages.export_csv, name="export_csv"),
            path("profile/export.fhir.json", pages.export_fhir, name="export_fhir"),
            path("profile/delete/", pages.account_delete, name="delete"),
        ),
    ),
    path("diary/", _app(diary_urls, path("history/", pages.history, name="history"))),
    path("questionnaires/", include("ldn_diary.questionnaires.urls")),
    path("clinic/", include("ldn_diary.clinic.urls")),
    path("groups/", include("ldn_diary.community.urls")),
    path("reminders/", include("ldn_diary.reminders.urls")),
    path("admin/", admin.site.urls),
]
