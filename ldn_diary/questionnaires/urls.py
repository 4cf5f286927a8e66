from __future__ import annotations

from django.urls import path

from . import views

app_name = "questionnaires"
urlpatterns = [
    path("", views.index, name="index"),
    path("due/", views.due, name="due"),
    path("<slug:instrument>/week-<int:week>/", views.fill, name="fill"),
    path("<slug:instrument>/week-<int:week>/dismiss/", views.dismiss, name="dismiss"),
]
