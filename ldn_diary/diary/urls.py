from __future__ import annotations

from django.urls import path

from . import offline, views

# The history page (the diary with its trends) is added by the root URLconf from ldn_diary.core.
app_name = "diary"
urlpatterns = [
    path("", views.today, name="today"),
    path("entry/", views.entry_save, name="entry_save"),
    path("offline/", offline.entry_shell, name="entry_shell"),
    path("offline/sync/", offline.entry_sync, name="entry_sync"),
    path("doses/", views.doses, name="doses"),
    path("doses/add/", views.dose_add, name="dose_add"),
    path("doses/stop/", views.dose_stop, name="dose_stop"),
    path("doses/<uuid:code>/edit/", views.dose_edit, name="dose_edit"),
    path("doses/<uuid:code>/delete/", views.dose_delete, name="dose_delete"),
    path("plan/", views.plan_set, name="plan"),
    path("plan/clear/", views.plan_clear, name="plan_clear"),
    path("plan/confirm/", views.plan_confirm, name="plan_confirm"),
    path("treatments/", views.treatments, name="treatments"),
    path("treatments/add/", views.treatment_add, name="treatment_add"),
    path("treatments/<uuid:code>/edit/", views.treatment_edit, name="treatment_edit"),
    path("treatments/<uuid:code>/delete/", views.treatment_delete, name="treatment_delete"),
    path("events/add/", views.event_add, name="event_add"),
    path("events/<uuid:code>/delete/", views.event_delete, name="event_delete"),
    path("export.csv", views.export, name="export"),
    path("treatments.csv", views.treatments_export, name="treatments_export"),
    path("import/", views.import_upload, name="import"),
    path("import/preview/", views.import_preview, name="import_preview"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("import/cancel/", views.import_cancel, name="import_cancel"),
]
