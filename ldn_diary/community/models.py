"""Support groups: a moderator's group, its members' consent, and its releases of aggregates.

The privacy rules these models serve are in docs/clinical-rules.md §5. Nothing here links a
release to the members it counted: a release stores only its tables (noisy, suppressed counts)
and the accounting of its noise.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A group's privacy budget (total ε over all its releases) and the ε of one release unless the
# moderator picks another (docs/clinical-rules.md §5, design).
DEFAULT_BUDGET = Decimal("4")
DEFAULT_RELEASE_EPSILON = Decimal("1")
# The smallest ε a release may spend: below it the noise drowns any group.
MIN_RELEASE_EPSILON = Decimal("0.1")
# Join codes: Crockford's base32 like the clinic's invite codes (no I, L, O, U; the services
# map lookalikes), 8 characters = 40 bits, and a join code only lets a patient ask to join.
JOIN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
JOIN_CODE_LENGTH = 8


def _epsilon_field(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=7, decimal_places=3, **kwargs)  # type: ignore[arg-type]


class SupportGroup(models.Model):
    """A support group run by one moderator, with its privacy budget."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=50, unique=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderated_groups"
    )
    budget_total = _epsilon_field(default=DEFAULT_BUDGET)
    epsilon_per_release = _epsilon_field(default=DEFAULT_RELEASE_EPSILON)
    # What computed releases have spent; raised only by services.release_request, which locks
    # the row first so two requests cannot both spend the last of the budget.
    epsilon_spent = _epsilon_field(default=Decimal("0"))
    # None while the moderator has closed joining.
    join_code = models.CharField(max_length=JOIN_CODE_LENGTH, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(budget_total__gt=0), name="group_budget_positive"),
            models.CheckConstraint(
                condition=Q(epsilon_per_release__gt=0, epsilon_per_release__lte=F("budget_total")),
                name="group_release_epsilon_within_budget",
            ),
            models.CheckConstraint(
                condition=Q(epsilon_spent__gte=0, epsilon_spent__lte=F("budget_total")),
                name="group_never_overspent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def epsilon_left(self) -> Decimal:
        return self.budget_total - self.epsilon_spent

    @property
    def display_join_code(self) -> str:
        code = self.join_code or ""
        half = JOIN_CODE_LENGTH // 2
        return f"{code[:half]}-{code[half:]}" if code else ""


class Membership(models.Model):
    """A patient in a group. Joining and agreeing to contribute are separate decisions.

    ``contributing_since`` is set while the member agrees to be counted; stopping clears it and
    stamps ``stopped_contributing_at``; leaving also stamps ``left_at``. The full history is
    in ``MembershipEvent``.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="memberships")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    contributing_since = models.DateTimeField(null=True, blank=True)
    stopped_contributing_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "patient"], name="one_membership_per_group"),
            # Someone who left is not counted.
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(contributing_since__isnull=True),
                name="membership_left_not_contributing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} in {self.group_id}"

    @property
    def active(self) -> bool:
        return self.left_at is None

    @property
    def contributing(self) -> bool:
        return self.active and self.contributing_since is not None


class MembershipEventKind(models.TextChoices):
    JOINED = "joined", _("Joined the group")
    AGREED = "agreed", _("Agreed to contribute to the group's aggregates")
    STOPPED = "stopped", _("Stopped contributing")
    LEFT = "left", _("Left the group")


class MembershipEvent(models.Model):
    """The audit trail of a membership: written by every service that changes one, in the same
    transaction, never updated. The patient sees their own on their groups page."""

    Kind = MembershipEventKind

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=MembershipEventKind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=MembershipEventKind.values), name="membership_event_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class ReleaseStatus(models.TextChoices):
    COMPUTING = "computing", "Computing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Release(models.Model):
    """One computed set of aggregates: an immutable snapshot once ready.

    Its ε was spent when it was requested, published or not (the moderator sees the preview).
    ``public_token`` (256 bits, URL-safe) is the only key to the public page; revoking keeps the
    row and turns the page into a 404.
    """

    Status = ReleaseStatus

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="releases")
    epsilon = _epsilon_field()
    status = models.CharField(
        max_length=10, choices=ReleaseStatus.choices, default=ReleaseStatus.COMPUTING
    )
    requested_at = models.DateTimeField(default=timezone.now)
    computed_at = models.DateTimeField(null=True, blank=True)
    # The published content: {"members", "tables", "mechanism"} from
    # ldn_diary.clinical.aggregates.ReleaseResult. Written once, by services.release_compute.
    results = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    public_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(epsilon__gt=0), name="release_epsilon_positive"),
            models.CheckConstraint(
                condition=Q(status__in=ReleaseStatus.values), name="release_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status=ReleaseStatus.READY),
                name="release_published_only_when_ready",
            ),
        ]

    def __str__(self) -> str:
        return f"release {self.uuid} of {self.group_id} ({self.status})"

    @property
    def is_public(self) -> bool:
        return self.published_at is not None and self.revoked_at is None
