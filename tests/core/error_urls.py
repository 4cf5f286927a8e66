"""The project's URLs plus views that fail on purpose, for the error-page tests."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from ldn_diary.urls import urlpatterns as project_urls


def boom(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(1 / 0))


def boom_sql(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_column FROM no_such_table")
    return HttpResponse("unreachable")


def bad(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a detail that must not be shown")


urlpatterns = [
    *project_urls,
    path("boom/", boom),
    path("boom-sql/", boom_sql),
    path("bad/", bad),
]
