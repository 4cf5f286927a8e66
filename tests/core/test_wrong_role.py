"""A signed-in user on another role's page gets a styled 403 page with the navigation and a
plain sentence saying whose page it is, with DEBUG off and on alike."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    ("user", "url", "needed", "own_link"),
    [
        ("mona", "clinic:roster", "clinicians", "/groups/"),
        ("carol", "diary:today", "patients", "/clinic/"),
        ("mona", "diary:history", "patients", "/groups/"),
        ("alice", "clinic:roster", "clinicians", "/diary/"),
    ],
)
def test_another_roles_page_says_whose_it_is(
    request, client, debug, user, url, needed, own_link, alice, carol, mona
):
    client.force_login(request.getfixturevalue(user))
    with override_settings(DEBUG=debug):
        response = client.get(reverse(url))
    html = response.content.decode()
    assert response.status_code == 403
    assert f"<h1>This page is for {needed}</h1>" in html
    assert '<nav aria-label="Main">' in html and "Log out" in html
    assert f'href="{own_link}">Go to your own pages</a>' in html


def test_a_named_object_is_still_not_found_alike_for_another_patient(client, alice, bob):
    # Another patient's object and a made-up one give the same 404 (not the wrong-role page).
    import uuid

    from ldn_diary.diary.services import dose_change_add

    change = dose_change_add(patient=alice, effective_date=alice.local_today(), dose_ug=1500)
    client.force_login(bob)
    theirs = client.get(reverse("diary:dose_edit", args=[change.uuid]))
    made_up = client.get(reverse("diary:dose_edit", args=[uuid.uuid4()]))
    assert theirs.status_code == made_up.status_code == 404
    for response in (theirs, made_up):
        assert "<h1>Page not found</h1>" in response.content.decode()


def test_any_other_403_is_a_plain_sentence_with_no_detail(rf, alice):
    from django.core.exceptions import PermissionDenied

    from ldn_diary.core.views import permission_denied

    request = rf.get("/somewhere/")
    request.user = alice
    response = permission_denied(request, PermissionDenied("a detail that must not be shown"))
    body = response.content.decode()
    assert response.status_code == 403 and "<h1>Not allowed</h1>" in body
    assert "a detail that must not be shown" not in body
