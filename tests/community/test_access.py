"""Who may open which support-group URL. Every refusal is followed by the valid request.

Mona moderates Alice's group; Otto moderates another group; Bob is a patient; Carol is Alice's
clinician. Only Mona reaches Mona's group pages, and Mona never reaches a member's data.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from ldn_diary.community import services
from ldn_diary.community.models import Release

from .conftest import join

WRONG_USERS = ("otto", "bob", "alice", "carol")


@pytest.fixture
def ready_release(group, alice):
    join(alice, group)
    release = services.release_request(group=group, enqueue=False)
    return services.release_compute(release_id=release.pk, random_state=1)


def group_urls(group, release):
    return {
        "get": [
            reverse("community:group", args=[group.uuid]),
            reverse("community:release", args=[group.uuid, release.uuid]),
        ],
        "post": [
            reverse("community:code_regenerate", args=[group.uuid]),
            reverse("community:code_close", args=[group.uuid]),
            reverse("community:release_create", args=[group.uuid]),
            reverse("community:release_publish", args=[group.uuid, release.uuid]),
            reverse("community:release_revoke", args=[group.uuid, release.uuid]),
        ],
    }


@pytest.mark.parametrize("who", WRONG_USERS)
def test_group_pages_are_404_for_anyone_but_their_moderator(
    request, client, mona, otto, carol, group, ready_release, who
):
    urls = group_urls(group, ready_release)
    client.force_login(request.getfixturevalue(who))
    for url in urls["get"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Alice" not in response.content and b"Leeds" not in response.content
    for url in urls["post"]:
        assert client.post(url, {"epsilon": "1"}).status_code == 404, url
    group.refresh_from_db()
    assert group.epsilon_spent == 1 and Release.objects.count() == 1
    assert group.join_code is not None and Release.objects.get().published_at is None
    client.force_login(mona)
    for url in urls["get"]:
        assert client.get(url).status_code == 200, url


def test_a_made_up_group_is_the_same_404(client, mona, group):
    client.force_login(mona)
    assert client.get(reverse("community:group", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("community:group", args=[group.uuid])).status_code == 200


def test_the_moderator_sees_who_joined_and_nothing_of_their_diaries(
    client, mona, alice, bob, group
):
    join(alice, group)
    join(bob, group, contribute=False)
    client.force_login(mona)
    html = client.get(reverse("community:group", args=[group.uuid])).content.decode()
    assert "Alice" in html and "Bob" in html
    assert html.count('<span class="badge ok">yes</span>') == 1
    assert html.count('<span class="badge">no</span>') == 1
    assert str(alice.uuid) not in html  # no link to any member's page


@pytest.mark.parametrize(
    "url_name",
    ["clinic:patient", "clinic:brief"],
)
def test_the_moderator_gets_404_for_a_members_dashboard(
    client, mona, alice, carol, group, url_name
):
    join(alice, group)
    client.force_login(mona)
    response = client.get(reverse(url_name, args=[alice.uuid]))
    assert response.status_code == 404 and b"Alice" not in response.content
    client.force_login(carol)
    assert client.get(reverse(url_name, args=[alice.uuid])).status_code == 200


@pytest.mark.parametrize(
    "url_name", ["diary:today", "diary:history", "diary:doses", "diary:export"]
)
def test_the_moderator_has_no_diary(client, mona, alice, group, url_name):
    join(alice, group)
    client.force_login(mona)
    assert client.get(reverse(url_name)).status_code == 403  # the wrong-role page
    client.force_login(alice)
    assert client.get(reverse(url_name)).status_code == 200


def test_the_moderator_lands_on_the_community_home(client, mona, carol):
    client.force_login(mona)
    assert client.get("/")["Location"] == reverse("community:home")
    assert client.get(reverse("community:home")).status_code == 200
    client.force_login(carol)
    assert client.get(reverse("community:home")).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, group):
    response = client.get(reverse("community:group", args=[group.uuid]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
