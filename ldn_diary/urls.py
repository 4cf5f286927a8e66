from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("ldn_diary.core.urls")),
    path("accounts/", include("ldn_diary.accounts.urls")),
    path("diary/", include("ldn_diary.diary.urls")),
    path("trends/", include("ldn_diary.trends.urls")),
    path("clinic/", include("ldn_diary.clinic.urls")),
    path("groups/", include("ldn_diary.community.urls")),
    path("admin/", admin.site.urls),
]
