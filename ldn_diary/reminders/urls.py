from __future__ import annotations

from django.urls import path

from . import views

app_name = "reminders"
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("push/", views.push_add, name="push_add"),
    path("push/<uuid:code>/remove/", views.push_remove, name="push_remove"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
