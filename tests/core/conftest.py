"""The main pages of every role, with real data behind them, for the header and CSP tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from ldn_diary.accounts.models import User
from ldn_diary.community import services as community
from ldn_diary.community.models import Release, SupportGroup
from tests.clinic.conftest import recompute, write_diary
from tests.community.conftest import join, members


@dataclass
class Site:
    alice: User
    carol: User
    mona: User
    group: SupportGroup
    release: Release
    # (role's username, url) for every main page, and the public release page (no login).
    pages: list[tuple[str, str]]
    public: str


@pytest.fixture
def site(alice, carol, mona) -> Site:
    """Alice 60 days into LDN and linked to Carol; Mona's group with a published release."""
    start = timezone.now().date() - dt.timedelta(days=45)
    write_diary(alice, start=start, first=-14, last=45, pain=lambda n: 7 if n < 10 else 4)
    recompute(alice)
    group = community.group_create(moderator=mona, name="Leeds LDN circle", slug="leeds")
    members(group, 20)
    join(alice, group)
    release = community.release_request(group=group, epsilon=Decimal(4), enqueue=False)
    release = community.release_compute(release_id=release.pk, random_state=7)
    release = community.release_publish(release=release)
    pages = [
        ("alice", reverse("diary:today")),
        ("alice", reverse("diary:history")),
        ("alice", reverse("diary:doses")),
        ("alice", reverse("accounts:profile")),
        ("alice", reverse("community:home")),
        ("carol", reverse("clinic:roster")),
        ("carol", reverse("clinic:patient", args=[alice.uuid])),
        ("carol", reverse("clinic:brief", args=[alice.uuid])),
        ("carol", reverse("accounts:profile")),
        ("mona", reverse("community:home")),
        ("mona", reverse("community:group", args=[group.uuid])),
        ("mona", reverse("community:release", args=[group.uuid, release.uuid])),
    ]
    public = reverse("community:public", args=[release.public_token])
    return Site(
        alice=alice,
        carol=carol,
        mona=mona,
        group=group,
        release=release,
        pages=pages,
        public=public,
    )
