from __future__ import annotations

from django.urls import path

from . import views

app_name = "clinic"
urlpatterns = [
    # Clinicians.
    path("", views.roster, name="roster"),
    path("link/", views.link, name="link"),
    path("link/<str:code>/", views.link, name="link_code"),
    path("p/<uuid:patient_uuid>/", views.patient, name="patient"),
    path("p/<uuid:patient_uuid>/brief/", views.brief, name="brief"),
    path("p/<uuid:patient_uuid>/notes/", views.note_add, name="note_add"),
    path("p/<uuid:patient_uuid>/follow-up/", views.followup_set, name="followup"),
    # Patients: consent, from their profile page.
    path("sharing/invites/", views.invite_create, name="invite_create"),
    path("sharing/invites/<uuid:invite_uuid>/cancel/", views.invite_cancel, name="invite_cancel"),
    path("sharing/links/<uuid:link_uuid>/revoke/", views.link_revoke, name="link_revoke"),
]
