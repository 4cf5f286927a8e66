"""The demo support group for a newcomer's first look (``manage.py seed_demo``).

``demo-moderator`` runs ``demo-group``. Most demo patients joined and contribute; three joined
without agreeing to contribute, one agreed and then stopped, one never joined. One release is
computed and published, so the public page can be opened straight away.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ldn_diary.accounts.models import User

from . import services
from .display import public_url
from .models import Release, SupportGroup

GROUP_SLUG = "demo-group"
GROUP_NAME = "Fibro & LDN support circle (demo)"
# Positions in the demo cohort (0-based): members who joined but do not contribute, the one who
# stopped, and the one who never joined.
JOINED_ONLY = (26, 27, 28)
# A larger budget than a new group's default (4, with ε = 1 a release), and one release that
# spends half of it: with 25 contributors, ε = 1 shows little more than the member count and the
# dose bands (the rest would be mostly noise), and a first look should show what a release can be.
BUDGET = Decimal("8")
RELEASE_EPSILON = Decimal("4")
STOPPED = (25,)
NOT_JOINED = (29,)


def seed_demo_group(*, moderator: User, patients: Sequence[User]) -> Release:
    """Create the group, its members' consent and one published release (reads stored trends,
    so run it after the demo patients' trends are computed)."""
    group = services.group_create(
        moderator=moderator,
        name=GROUP_NAME,
        slug=GROUP_SLUG,
        budget_total=BUDGET,
        epsilon_per_release=RELEASE_EPSILON,
    )
    assert group.join_code is not None  # noqa: S101 - group_create always makes one
    for i, patient in enumerate(patients):
        if i in NOT_JOINED:
            continue
        membership, _ = services.membership_join(patient=patient, code=group.join_code)
        if i in JOINED_ONLY:
            continue
        services.membership_agree(patient=patient, membership_uuid=membership.uuid)
        if i in STOPPED:
            services.membership_stop(patient=patient, membership_uuid=membership.uuid)
    release = services.release_request(group=group, enqueue=False)
    services.release_compute(release_id=release.pk)
    return services.release_publish(release=release)


def demo_public_url() -> str:
    """The demo group's published link, or an empty string when there is none."""
    release = (
        Release.objects.filter(
            group__in=SupportGroup.objects.filter(slug=GROUP_SLUG),
            published_at__isnull=False,
            revoked_at__isnull=True,
        )
        .order_by("-published_at")
        .first()
    )
    return public_url(release) if release else ""
