from __future__ import annotations

from django.urls import path

from . import views

app_name = "community"
urlpatterns = [
    path("", views.home, name="home"),
    # Moderators.
    path("new/", views.group_create, name="group_create"),
    path("g/<uuid:group_uuid>/", views.group, name="group"),
    path("g/<uuid:group_uuid>/code/", views.join_code_regenerate, name="code_regenerate"),
    path("g/<uuid:group_uuid>/code/close/", views.join_code_close, name="code_close"),
    path("g/<uuid:group_uuid>/releases/", views.release_create, name="release_create"),
    path("g/<uuid:group_uuid>/releases/<uuid:release_uuid>/", views.release, name="release"),
    path(
        "g/<uuid:group_uuid>/releases/<uuid:release_uuid>/publish/",
        views.release_publish,
        name="release_publish",
    ),
    path(
        "g/<uuid:group_uuid>/releases/<uuid:release_uuid>/revoke/",
        views.release_revoke,
        name="release_revoke",
    ),
    # Patients.
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join_code"),
    path("m/<uuid:membership_uuid>/contribute/", views.membership_agree, name="agree"),
    path("m/<uuid:membership_uuid>/stop/", views.membership_stop, name="stop"),
    path("m/<uuid:membership_uuid>/leave/", views.membership_leave, name="leave"),
    # Anyone with the link: a published release.
    path("r/<str:token>/", views.public_release, name="public"),
    path("r/<str:token>/data.csv", views.public_release_csv, name="public_csv"),
]
