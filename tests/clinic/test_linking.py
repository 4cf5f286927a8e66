"""Consent: invite codes, redeeming them, expiry, single use, revocation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ldn_diary.clinic.models import INVITE_ALPHABET, CareLink, ConsentEvent, ConsentKind, Invite
from ldn_diary.clinic.selectors import get_invite_for_patient, get_link_for_patient
from ldn_diary.clinic.selectors import patients_of as patients_visible_to
from ldn_diary.clinic.services import (
    InviteError,
    invite_cancel,
    invite_create,
    invite_redeem,
    link_revoke,
    normalise_code,
)


def error_code(excinfo) -> str:
    return excinfo.value.code


# --- Services ------------------------------------------------------------------------------------


def test_a_code_is_eight_unambiguous_characters_valid_for_seven_days(alice):
    invite = invite_create(patient=alice)
    assert len(invite.code) == 8 and set(invite.code) <= set(INVITE_ALPHABET)
    assert not set(invite.code) & set("ILOU")
    assert invite.expires_at - invite.created_at == dt.timedelta(days=7)
    assert invite.display_code == f"{invite.code[:4]}-{invite.code[4:]}"
    assert ConsentEvent.objects.filter(patient=alice, kind=ConsentKind.INVITE_CREATED).count() == 1


def test_redeeming_links_the_clinician_and_uses_the_code_up(alice, dave):
    invite = invite_create(patient=alice)
    link, created = invite_redeem(clinician=dave, code=invite.display_code.lower())
    assert created and link.patient == alice and link.clinician == dave and link.active
    assert alice in patients_visible_to(dave)
    invite.refresh_from_db()
    assert invite.used_by == dave and invite.used_at is not None and invite.link == link
    event = ConsentEvent.objects.get(kind=ConsentKind.INVITE_REDEEMED)
    assert (event.patient, event.clinician, event.actor) == (alice, dave, dave)


def test_typed_lookalikes_and_dashes_are_forgiven():
    assert normalise_code(" abcd-efgh ") == "ABCDEFGH"
    assert normalise_code("IO1L-0000") == "1011" + "0000"


def test_a_code_works_once(alice, dave, carol):
    invite = invite_create(patient=alice)
    invite_redeem(clinician=dave, code=invite.code)
    with pytest.raises(InviteError) as excinfo:
        invite_redeem(clinician=carol, code=invite.code)
    assert error_code(excinfo) == "used"
    assert "already been used" in excinfo.value.messages[0]


def test_a_code_expires_after_seven_days(alice, dave):
    # Time travel through the service's own clock argument, not a mock.
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    invite = invite_create(patient=alice, now=eight_days_ago)
    with pytest.raises(InviteError) as excinfo:
        invite_redeem(clinician=dave, code=invite.code)
    assert error_code(excinfo) == "expired"
    assert "expired" in excinfo.value.messages[0]
    assert alice not in patients_visible_to(dave)


def test_a_code_still_works_just_before_it_expires(alice, dave):
    created = timezone.now() - dt.timedelta(days=7) + dt.timedelta(minutes=1)
    invite = invite_create(patient=alice, now=created)
    link, _ = invite_redeem(clinician=dave, code=invite.code)
    assert link.active
    # ... and not a moment after.
    invite2 = invite_create(patient=alice, now=created)
    with pytest.raises(InviteError):
        invite_redeem(clinician=dave, code=invite2.code, now=invite2.expires_at)


def test_unknown_and_malformed_codes_are_refused_with_a_reason(alice, dave):
    with pytest.raises(InviteError) as excinfo:
        invite_redeem(clinician=dave, code="ZZZZ-ZZZZ")
    assert error_code(excinfo) == "unknown"
    with pytest.raises(InviteError) as excinfo:
        invite_redeem(clinician=dave, code="abc")
    assert error_code(excinfo) == "malformed"


@pytest.mark.parametrize("who", ["bob", "mona"])
def test_only_a_clinician_can_redeem(request, alice, who):
    invite = invite_create(patient=alice)
    with pytest.raises(InviteError) as excinfo:
        invite_redeem(clinician=request.getfixturevalue(who), code=invite.code)
    assert error_code(excinfo) == "not_clinician"
    invite.refresh_from_db()
    assert invite.used_at is None


def test_only_a_patient_can_create_a_code(dave):
    with pytest.raises(ValidationError):
        invite_create(patient=dave)


def test_a_cancelled_code_cannot_be_used(alice, dave):
    invite = invite_create(patient=alice)
    invite_cancel(invite=invite)
    with pytest.raises(InviteError) as excinfo:
        invite_redeem(clinician=dave, code=invite.code)
    assert error_code(excinfo) == "cancelled"


def test_redeeming_when_already_linked_keeps_the_one_link(alice, carol):
    invite = invite_create(patient=alice)
    link, created = invite_redeem(clinician=carol, code=invite.code)
    assert not created
    assert (
        CareLink.objects.filter(patient=alice, clinician=carol, revoked_at__isnull=True).count()
        == 1
    )


def test_revoking_ends_access_at_once_and_a_new_code_restores_it(alice, carol):
    link = CareLink.objects.get(patient=alice, clinician=carol)
    link_revoke(link=link)
    assert alice not in patients_visible_to(carol)
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert ConsentEvent.objects.filter(kind=ConsentKind.LINK_REVOKED, clinician=carol).exists()
    # Consent can be given again: a new link, the old one stays as the record.
    invite_redeem(clinician=carol, code=invite_create(patient=alice).code)
    assert alice in patients_visible_to(carol)
    assert CareLink.objects.filter(patient=alice, clinician=carol).count() == 2


def test_a_patient_cannot_revoke_or_cancel_someone_elses(alice, bob, carol):
    from django.http import Http404

    link = CareLink.objects.get(patient=alice, clinician=carol)
    invite = invite_create(patient=alice)
    with pytest.raises(Http404):
        get_link_for_patient(bob, link.uuid)
    with pytest.raises(Http404):
        get_invite_for_patient(bob, invite.uuid)
    assert alice in patients_visible_to(carol)
    assert Invite.objects.get(pk=invite.pk).state() == "open"


# --- Views ---------------------------------------------------------------------------------------


def test_patient_creates_a_code_on_the_profile_and_sees_it(client, alice):
    client.force_login(alice)
    response = client.post(reverse("clinic:invite_create"), follow=True)
    invite = Invite.objects.get(patient=alice)
    html = response.content.decode()
    assert invite.display_code in html
    assert reverse("clinic:link_code", args=[invite.code]) in html
    assert "Nobody. Your diary is private to you." in html


def test_clinician_redeems_by_form_and_lands_on_the_dashboard(client, alice, dave):
    invite = invite_create(patient=alice)
    client.force_login(dave)
    # The link pre-fills the code but changes nothing by itself.
    page = client.get(reverse("clinic:link_code", args=[invite.code]))
    assert invite.code in page.content.decode()
    assert alice not in patients_visible_to(dave)
    response = client.post(reverse("clinic:link"), {"code": invite.display_code})
    assert response.status_code == 302
    assert response["Location"] == reverse("clinic:patient", args=[alice.uuid])
    assert client.get(response["Location"]).status_code == 200


def test_redeem_form_shows_why_a_code_failed(client, alice, dave):
    invite = invite_create(patient=alice, now=timezone.now() - dt.timedelta(days=10))
    client.force_login(dave)
    response = client.post(reverse("clinic:link"), {"code": invite.code})
    assert response.status_code == 200
    assert "expired" in response.content.decode()


def test_repeated_wrong_codes_are_throttled(client, dave, alice):
    from django.core.cache import cache

    cache.clear()
    client.force_login(dave)
    for _ in range(10):
        client.post(reverse("clinic:link"), {"code": "ZZZZ-ZZZZ"})
    good = invite_create(patient=alice)
    response = client.post(reverse("clinic:link"), {"code": good.code})
    assert "Too many codes" in response.content.decode()
    assert alice not in patients_visible_to(dave)
    cache.clear()


def test_wrong_codes_are_also_limited_per_client_address_across_clinicians(client, alice, db):
    from ldn_diary.accounts.models import Role
    from tests.conftest import make_user

    # Three clinician accounts behind one address, each under its own limit of 10...
    for n in range(3):
        client.force_login(make_user(f"doc{n}", Role.CLINICIAN))
        for _ in range(7):
            client.post(reverse("clinic:link"), {"code": "ZZZZ-ZZZZ"}, REMOTE_ADDR="203.0.113.5")
    # ...share 20 wrong codes between them: after 21 the next try is refused, even a good code.
    good = invite_create(patient=alice)
    response = client.post(reverse("clinic:link"), {"code": good.code}, REMOTE_ADDR="203.0.113.5")
    assert "Too many codes" in response.content.decode()
    # From another address the same clinician still can.
    response = client.post(reverse("clinic:link"), {"code": good.code}, REMOTE_ADDR="198.51.100.5")
    assert response.status_code == 302


def test_patient_revokes_from_the_profile_and_the_clinician_is_locked_out(client, alice, carol):
    link = CareLink.objects.get(patient=alice, clinician=carol)
    dashboard = reverse("clinic:patient", args=[alice.uuid])
    client.force_login(carol)
    assert client.get(dashboard).status_code == 200
    assert "Alice" in client.get(reverse("clinic:roster")).content.decode()

    client.force_login(alice)
    profile = client.get(reverse("accounts:profile")).content.decode()
    assert "Dr Carol" in profile and reverse("clinic:link_revoke", args=[link.uuid]) in profile
    client.post(reverse("clinic:link_revoke", args=[link.uuid]))

    client.force_login(carol)
    assert client.get(dashboard).status_code == 404
    assert client.get(reverse("clinic:brief", args=[alice.uuid])).status_code == 404
    roster = client.get(reverse("clinic:roster")).content.decode()
    assert "Alice" not in roster and alice.uuid.hex not in roster.replace("-", "")


def test_patient_actions_need_post_and_a_patient(client, alice, carol):
    link = CareLink.objects.get(patient=alice, clinician=carol)
    client.force_login(alice)
    assert client.get(reverse("clinic:link_revoke", args=[link.uuid])).status_code == 405
    client.force_login(carol)
    # A clinician on a patient's action: the wrong-role page (403).
    assert client.post(reverse("clinic:link_revoke", args=[link.uuid])).status_code == 403
    assert client.post(reverse("clinic:invite_create")).status_code == 403
    # The refused requests changed nothing; the valid one still works.
    client.force_login(alice)
    client.post(reverse("clinic:link_revoke", args=[link.uuid]))
    link.refresh_from_db()
    assert link.revoked_at is not None
