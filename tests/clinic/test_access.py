"""Who may open which clinic URL. Every refusal is followed by the valid request (Zulip style).

Carol is Alice's clinician. Dave is a clinician with no link to Alice; Bob is another patient;
Alice herself and Mona (moderator) must not reach the clinician's pages about Alice either.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from ldn_diary.clinic.models import ClinicianNote, FollowUp
from ldn_diary.clinic.services import invite_create, invite_redeem, note_add

from ..conftest import without_csrf_tokens

PATIENT_PAGES = ("clinic:patient", "clinic:brief")
PATIENT_POSTS = {
    "clinic:note_add": {"text": "Vivid dreams settling."},
    "clinic:followup": {"due_on": "2031-01-15"},
}
WRONG_USERS = ("dave", "bob", "alice", "mona")


@pytest.mark.parametrize("name", PATIENT_PAGES)
@pytest.mark.parametrize("who", WRONG_USERS)
def test_dashboard_pages_are_404_for_anyone_but_the_linked_clinician(
    request, client, alice, carol, name, who
):
    url = reverse(name, args=[alice.uuid])
    client.force_login(request.getfixturevalue(who))
    response = client.get(url)
    assert response.status_code == 404
    assert b"Alice" not in response.content
    client.force_login(carol)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", PATIENT_POSTS)
@pytest.mark.parametrize("who", WRONG_USERS)
def test_dashboard_posts_are_404_for_anyone_but_the_linked_clinician(
    request, client, alice, carol, name, who
):
    url = reverse(name, args=[alice.uuid])
    client.force_login(request.getfixturevalue(who))
    assert client.post(url, PATIENT_POSTS[name]).status_code == 404
    assert not ClinicianNote.objects.exists() and not FollowUp.objects.exists()
    client.force_login(carol)
    assert client.post(url, PATIENT_POSTS[name]).status_code == 302
    assert ClinicianNote.objects.exists() or FollowUp.objects.exists()


@pytest.mark.parametrize("name", PATIENT_PAGES + tuple(PATIENT_POSTS))
def test_a_made_up_uuid_is_the_same_404_as_a_patient_who_is_not_yours(client, carol, bob, name):
    """Each URL gets the method it accepts, so the answer is the access rule's, never a 405."""
    import uuid

    client.force_login(carol)

    def send(patient_uuid):
        url = reverse(name, args=[patient_uuid])
        if name in PATIENT_POSTS:
            return client.post(url, PATIENT_POSTS[name])
        return client.get(url)

    made_up, not_hers = send(uuid.uuid4()), send(bob.uuid)
    assert made_up.status_code == not_hers.status_code == 404
    # The same page, but for the CSRF token of its log-out form, which is masked afresh each time.
    assert without_csrf_tokens(made_up.content) == without_csrf_tokens(not_hers.content)
    # Without the tokens: 64 random letters and digits each, which spell "Bob" about once in
    # a few thousand pages (seen once here).
    assert b"Bob" not in without_csrf_tokens(not_hers.content)
    assert not ClinicianNote.objects.exists() and not FollowUp.objects.exists()


@pytest.mark.parametrize("name", ("clinic:roster", "clinic:link"))
@pytest.mark.parametrize("who", ("alice", "bob", "mona"))
def test_clinician_pages_refuse_other_roles(request, client, carol, name, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(name)).status_code == 403
    client.force_login(carol)
    assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        lambda alice: reverse("clinic:roster"),
        lambda alice: reverse("clinic:link"),
        lambda alice: reverse("clinic:patient", args=[alice.uuid]),
        lambda alice: reverse("clinic:brief", args=[alice.uuid]),
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, alice, url):
    response = client.get(url(alice))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_unlinked_clinicians_roster_does_not_list_alice(client, alice, carol, dave):
    client.force_login(dave)
    assert "Alice" not in client.get(reverse("clinic:roster")).content.decode()
    client.force_login(carol)
    assert "Alice" in client.get(reverse("clinic:roster")).content.decode()


def test_notes_are_private_to_their_author(client, alice, carol, dave):
    note_add(clinician=carol, patient=alice, text="Carol's private thought")
    invite_redeem(clinician=dave, code=invite_create(patient=alice).code)
    client.force_login(dave)
    page = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert "private thought" not in page
    client.force_login(carol)
    page = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert "private thought" in page
