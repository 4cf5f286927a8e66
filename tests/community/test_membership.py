"""Joining a group and agreeing to contribute are two separate, explicit steps; stopping and
leaving work at any time and keep their dates."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ldn_diary.community import selectors, services
from ldn_diary.community.models import Membership, MembershipEvent

from ..conftest import without_csrf_tokens
from .conftest import join


def test_joining_by_code_shares_nothing_until_the_patient_agrees(client, alice, group):
    client.force_login(alice)
    page = client.get(reverse("community:join_code", args=[group.join_code]))
    assert page.status_code == 200 and group.join_code.encode() in page.content  # link fills it in
    assert not Membership.objects.exists()  # a GET never joins
    response = client.post(reverse("community:join"), {"code": group.display_join_code.lower()})
    assert response.status_code == 302
    membership = Membership.objects.get()
    assert membership.active and not membership.contributing
    assert selectors.contributing_patient_ids(group) == []

    home = client.get(reverse("community:home")).content.decode()
    assert "Leeds LDN circle" in home and "I agree to contribute" in home
    assert "never" in home.lower() and "dose band" in home  # what is and is not shared

    client.post(reverse("community:agree", args=[membership.uuid]))
    membership.refresh_from_db()
    assert membership.contributing
    assert selectors.contributing_patient_ids(group) == [alice.pk]
    kinds = list(MembershipEvent.objects.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["joined", "agreed"]


def test_stopping_and_leaving_keep_their_dates(alice, group):
    membership = join(alice, group)
    services.membership_stop(patient=alice, membership_uuid=membership.uuid)
    membership.refresh_from_db()
    assert not membership.contributing and membership.stopped_contributing_at is not None
    assert membership.active
    services.membership_agree(patient=alice, membership_uuid=membership.uuid)
    services.membership_leave(patient=alice, membership_uuid=membership.uuid)
    membership.refresh_from_db()
    assert membership.left_at is not None and not membership.contributing
    assert selectors.contributing_patient_ids(group) == []
    kinds = list(MembershipEvent.objects.order_by("at", "id").values_list("kind", flat=True))
    assert kinds == ["joined", "agreed", "stopped", "agreed", "stopped", "left"]
    with pytest.raises(ValidationError):
        services.membership_agree(patient=alice, membership_uuid=membership.uuid)
    # Rejoining starts again without contributing.
    again, created = services.membership_join(patient=alice, code=group.join_code)
    assert created and again.pk == membership.pk and not again.contributing


@pytest.mark.parametrize("action", ["community:agree", "community:stop", "community:leave"])
def test_another_patients_membership_is_a_404(client, alice, bob, group, action):
    membership = join(alice, group, contribute=action != "community:agree")
    before = Membership.objects.values().get()
    client.force_login(bob)
    assert client.post(reverse(action, args=[membership.uuid])).status_code == 404
    assert Membership.objects.values().get() == before
    client.force_login(alice)
    assert client.post(reverse(action, args=[membership.uuid])).status_code == 302


def test_a_replaced_or_closed_code_stops_working(client, mona, alice, bob, group):
    old = group.join_code
    client.force_login(mona)
    client.post(reverse("community:code_regenerate", args=[group.uuid]))
    group.refresh_from_db()
    assert group.join_code != old
    client.force_login(alice)
    response = client.post(reverse("community:join"), {"code": old})
    assert "No group has that code" in response.content.decode()
    assert client.post(reverse("community:join"), {"code": group.join_code}).status_code == 302
    client.force_login(mona)
    client.post(reverse("community:code_close", args=[group.uuid]))
    group.refresh_from_db()
    assert group.join_code is None
    with pytest.raises(ValidationError):
        services.membership_join(patient=bob, code="ABCD2345")
    assert Membership.objects.filter(patient=alice, left_at__isnull=True).exists()


def test_only_patients_join(client, carol, mona, group):
    for user in (carol, mona):
        client.force_login(user)
        assert client.get(reverse("community:join")).status_code == 404
        with pytest.raises(ValidationError):
            services.membership_join(patient=user, code=group.join_code)


def test_a_patients_groups_page_shows_only_her_own_groups(client, alice, bob, group, other_group):
    join(alice, group)
    join(bob, other_group)
    client.force_login(alice)
    html = without_csrf_tokens(client.get(reverse("community:home")).content).decode()
    assert "Leeds LDN circle" in html and "York fibro friends" not in html
    assert "Bob" not in html  # no roster for members


def test_a_patient_reaches_her_groups_from_the_nav(client, alice):
    client.force_login(alice)
    html = client.get(reverse("diary:today")).content.decode()
    assert f'href="{reverse("community:home")}"' in html


def test_wrong_join_codes_are_also_limited_per_client_address_across_patients(client, group, db):
    from ldn_diary.accounts.models import Role
    from tests.conftest import make_user

    address = {"REMOTE_ADDR": "203.0.113.7"}
    for n in range(3):
        client.force_login(make_user(f"guesser{n}", Role.PATIENT))
        for _ in range(7):
            client.post(reverse("community:join"), {"code": "ZZZZ-ZZZZ-ZZ"}, **address)
    response = client.post(reverse("community:join"), {"code": group.join_code}, **address)
    assert "Too many codes" in response.content.decode()
    assert not Membership.objects.exists()
    response = client.post(
        reverse("community:join"), {"code": group.join_code}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302 and Membership.objects.count() == 1
