"""Support-group test helpers. Mona moderates "Leeds LDN circle"; Otto moderates another group.
Members are patients with real diaries (through the diary's import service), trends computed
by the trends service, and consent given through the community services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ldn_diary.accounts.models import Role, User
from ldn_diary.community import services
from ldn_diary.community.models import Membership, SupportGroup
from tests.clinic.conftest import recompute, write_diary
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def _empty_cache():
    """Join-code failures are counted in the cache; every test starts from an empty one."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def group(mona) -> SupportGroup:
    return services.group_create(moderator=mona, name="Leeds LDN circle", slug="leeds")


@pytest.fixture
def otto(db) -> User:
    return make_user("otto", Role.MODERATOR, display_name="Otto")


@pytest.fixture
def other_group(otto) -> SupportGroup:
    return services.group_create(moderator=otto, name="York fibro friends", slug="york")


def join(patient: User, group: SupportGroup, *, contribute: bool = True) -> Membership:
    membership, _ = services.membership_join(patient=patient, code=group.join_code or "")
    if contribute:
        services.membership_agree(patient=patient, membership_uuid=membership.uuid)
    return membership


def diary_patient(username: str, display_name: str, *, dose_ug: int = 4500, pain_after: int = 3):
    """A patient 100 days into LDN: baseline pain 7, then ``pain_after`` from day 10."""
    patient = make_user(username, Role.PATIENT, display_name=display_name)
    start = timezone.now().date() - dt.timedelta(days=100)
    write_diary(
        patient,
        start=start,
        last=99,
        pain=lambda n: 7 if n < 10 else pain_after,
        side_effects=lambda n: ("vivid_dreams",) if 0 <= n < 10 else (),
        dose_ug=dose_ug,
    )
    return patient


def members(group: SupportGroup, n: int, *, prefix: str = "member", **kwargs) -> list[User]:
    """``n`` contributing members with diaries and computed trends."""
    patients = [
        diary_patient(f"{prefix}{i:02d}", f"{prefix.title()} {i:02d}", **kwargs) for i in range(n)
    ]
    recompute(*patients)
    for patient in patients:
        join(patient, group)
    return patients
