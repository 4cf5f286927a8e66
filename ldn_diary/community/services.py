"""Writes for support groups: groups and join codes, membership and consent, releases.

Each function runs in one transaction; those that change a membership write its
``MembershipEvent`` and its row of the audit trail (``accounts.audit.record``) in the same
transaction. Spending privacy budget locks the group's row
(``select_for_update``), so two releases requested at once cannot overspend it.
"""

from __future__ import annotations

import logging
import secrets
import uuid as uuid_mod
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import slugify

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, Role, User
from ldn_diary.clinical import aggregates
from ldn_diary.clinical.privacy import RandomState
from ldn_diary.diary.models import SideEffect

from . import selectors
from .models import (
    JOIN_ALPHABET,
    JOIN_CODE_LENGTH,
    MIN_RELEASE_EPSILON,
    Membership,
    MembershipEvent,
    MembershipEventKind,
    Release,
    ReleaseStatus,
    SupportGroup,
)

log = logging.getLogger(__name__)

# Public links carry 32 random bytes (256 bits): unguessable, and revocable by the moderator.
PUBLIC_TOKEN_BYTES = 32
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


class JoinError(ValidationError):
    """A join code that does not work; the message says why."""


class BudgetError(ValidationError):
    """A release that would spend more ε than the group has left."""


def eps(value: Decimal) -> str:
    """An ε for people: 4, 0.5, 0.125 (no trailing zeros)."""
    text = f"{value.normalize():f}"
    return text


# --- Groups -------------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed, as the stored code: upper case, no spaces or dashes, I/L->1, O->0."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    return cleaned.translate(_LOOKALIKES)


def group_create(
    *,
    moderator: User,
    name: str,
    slug: str = "",
    budget_total: Decimal | None = None,
    epsilon_per_release: Decimal | None = None,
) -> SupportGroup:
    """A new group with an open join code. The slug defaults to one made from the name."""
    if not moderator.is_authenticated or moderator.role != Role.MODERATOR:
        raise ValidationError("Only moderators can create a group.", code="not_moderator")
    group = SupportGroup(
        moderator=moderator, name=(name or "").strip(), slug=slug or slugify(name)[:50]
    )
    if budget_total is not None:
        group.budget_total = budget_total
    if epsilon_per_release is not None:
        group.epsilon_per_release = epsilon_per_release
    if group.epsilon_per_release > group.budget_total:
        raise ValidationError(
            {"epsilon_per_release": "The ε of one release cannot exceed the group's budget."}
        )
    for _ in range(5):
        group.join_code = _new_code()
        group.full_clean()
        try:
            with transaction.atomic():
                group.save()
        except IntegrityError:
            continue
        return group
    raise RuntimeError("Could not find a free join code after 5 tries.")  # pragma: no cover


@transaction.atomic
def join_code_regenerate(*, group: SupportGroup) -> SupportGroup:
    """A new join code (the old one stops working); also reopens a closed group."""
    for _ in range(5):
        group.join_code = _new_code()
        try:
            with transaction.atomic():
                group.save(update_fields=["join_code"])
        except IntegrityError:
            continue
        return group
    raise RuntimeError("Could not find a free join code after 5 tries.")  # pragma: no cover


@transaction.atomic
def join_code_close(*, group: SupportGroup) -> SupportGroup:
    """Nobody new can join until a new code is made; members stay."""
    group.join_code = None
    group.save(update_fields=["join_code"])
    return group


# --- Membership and consent ----------------------------------------------------------------------


def membership_join(*, patient: User, code: str) -> tuple[Membership, bool]:
    """Join the group whose code this is: (membership, created). Joining shares nothing; agreeing
    to contribute is a separate step (``membership_agree``). Rejoining after leaving starts
    again without contributing."""
    if not patient.is_authenticated or patient.role != Role.PATIENT:
        raise JoinError("Only patient accounts can join a support group.", code="not_patient")
    key = normalise_code(code)
    if len(key) != JOIN_CODE_LENGTH or any(ch not in JOIN_ALPHABET for ch in key):
        raise JoinError(
            f"A group code has {JOIN_CODE_LENGTH} letters and digits, like ABCD-2345. "
            "Check it with your group's moderator.",
            code="malformed",
        )
    with transaction.atomic():
        group = SupportGroup.objects.filter(join_code=key).first()
        if group is None:
            raise JoinError(
                "No group has that code. It may have been replaced; ask your group's moderator.",
                code="unknown",
            )
        membership = (
            Membership.objects.select_for_update().filter(group=group, patient=patient).first()
        )
        now = timezone.now()
        if membership is not None and membership.active:
            return membership, False
        if membership is None:
            membership = Membership(group=group, patient=patient, joined_at=now)
        else:
            membership.joined_at, membership.left_at = now, None
            membership.contributing_since = None
        membership.full_clean(validate_unique=False)
        membership.save()
        MembershipEvent.objects.create(membership=membership, kind=MembershipEventKind.JOINED)
        audit.record(actor=patient, patient=patient, action=AuditAction.GROUP_JOIN, obj=membership)
    return membership, True


def _locked(patient: User, membership_uuid: uuid_mod.UUID | str) -> Membership:
    membership = selectors.get_membership_for_patient(patient, membership_uuid)
    return Membership.objects.select_for_update().get(pk=membership.pk)


@transaction.atomic
def membership_agree(*, patient: User, membership_uuid: uuid_mod.UUID | str) -> Membership:
    """The member agrees that later releases count them. Idempotent."""
    membership = _locked(patient, membership_uuid)
    if not membership.active:
        raise ValidationError("Join the group again before agreeing to contribute.", code="left")
    if membership.contributing_since is None:
        membership.contributing_since = timezone.now()
        membership.save(update_fields=["contributing_since"])
        MembershipEvent.objects.create(membership=membership, kind=MembershipEventKind.AGREED)
        audit.record(actor=patient, patient=patient, action=AuditAction.GROUP_AGREE, obj=membership)
    return membership


@transaction.atomic
def membership_stop(*, patient: User, membership_uuid: uuid_mod.UUID | str) -> Membership:
    """The member stops contributing: no release computed from now on counts them; releases
    already computed are snapshots and keep them. Idempotent."""
    membership = _locked(patient, membership_uuid)
    if membership.contributing_since is not None:
        membership.contributing_since = None
        membership.stopped_contributing_at = timezone.now()
        membership.save(update_fields=["contributing_since", "stopped_contributing_at"])
        MembershipEvent.objects.create(membership=membership, kind=MembershipEventKind.STOPPED)
        audit.record(actor=patient, patient=patient, action=AuditAction.GROUP_STOP, obj=membership)
    return membership


@transaction.atomic
def membership_leave(*, patient: User, membership_uuid: uuid_mod.UUID | str) -> Membership:
    """The member leaves (and so stops contributing). Idempotent."""
    membership = _locked(patient, membership_uuid)
    if membership.left_at is None:
        now = timezone.now()
        if membership.contributing_since is not None:
            membership.contributing_since = None
            membership.stopped_contributing_at = now
            MembershipEvent.objects.create(
                membership=membership, kind=MembershipEventKind.STOPPED, at=now
            )
        membership.left_at = now
        membership.save(update_fields=["contributing_since", "stopped_contributing_at", "left_at"])
        MembershipEvent.objects.create(membership=membership, kind=MembershipEventKind.LEFT, at=now)
        audit.record(actor=patient, patient=patient, action=AuditAction.GROUP_LEAVE, obj=membership)
    return membership


# --- Releases -------------------------------------------------------------------------------------


def parse_epsilon(value: object) -> Decimal:
    """ε as typed (a form, the command line); a ValidationError says what is wrong."""
    try:
        epsilon = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValidationError(f"ε must be a number, like 1 or 0.5; got {value!r}.") from exc
    if not epsilon.is_finite() or epsilon < MIN_RELEASE_EPSILON:
        raise ValidationError(f"ε must be at least {eps(MIN_RELEASE_EPSILON)}.", code="too_small")
    return epsilon.quantize(Decimal("0.001"))


def release_request(
    *,
    group: SupportGroup,
    epsilon: Decimal | None = None,
    enqueue: bool = True,
) -> Release:
    """Spend ε from the group's budget and start computing a release.

    The budget is spent here, before anything is computed, so that it is spent whether or not
    the release is ever published, and so that it is checked under a lock on the group: two
    requests at once are serialised and the second sees what the first spent. With
    ``enqueue`` the computation is queued (``tasks.compute_release``) once this commits.
    """
    with transaction.atomic():
        locked = SupportGroup.objects.select_for_update().get(pk=group.pk)
        need = parse_epsilon(locked.epsilon_per_release if epsilon is None else epsilon)
        left = locked.epsilon_left
        if need > left:
            raise BudgetError(
                f"This release needs ε = {eps(need)} but only {eps(left)} of the group's budget "
                f"of {eps(locked.budget_total)} is left. Every computed release spends its ε for "
                "good, published or not; choose a smaller ε or create a new group.",
                code="budget",
            )
        locked.epsilon_spent += need
        locked.full_clean()
        locked.save(update_fields=["epsilon_spent"])
        release = Release(group=locked, epsilon=need)
        release.full_clean()
        release.save()
        if enqueue:
            from .tasks import compute_release

            transaction.on_commit(lambda: compute_release.delay(release.pk))
    group.epsilon_spent = locked.epsilon_spent
    return release


def release_compute(*, release_id: int, random_state: RandomState = None) -> Release:
    """Compute a requested release over the members contributing now, and store it for good.

    Idempotent: a release that is no longer computing is returned as it is. ``random_state``
    is for tests only; None draws the noise from the operating system's secure generator, and
    no seed is ever stored.
    """
    with transaction.atomic():
        release = Release.objects.select_for_update().select_related("group").get(pk=release_id)
        if release.status != ReleaseStatus.COMPUTING:
            return release
        now = timezone.now()
        outcomes = selectors.member_outcomes(
            selectors.contributing_patient_ids(release.group), today=now.date()
        )
        result = aggregates.compute_release(
            outcomes,
            epsilon=float(release.epsilon),
            # A release is stored and published in the site's language, whoever computes it.
            side_effects=_side_effect_names(),
            random_state=random_state,
        )
        release.results = {
            "members": result.members,
            "tables": result.tables,
            "mechanism": result.mechanism(),
        }
        release.status = ReleaseStatus.READY
        release.computed_at = now
        release.save(update_fields=["results", "status", "computed_at"])
    return release


@transaction.atomic
def release_fail(*, release_id: int) -> None:
    """Mark a release whose computation gave up. Its ε stays spent: the task may have got as
    far as drawing noise, and a refund could only be justified by proving it had not."""
    Release.objects.filter(pk=release_id, status=ReleaseStatus.COMPUTING).update(
        status=ReleaseStatus.FAILED
    )


@transaction.atomic
def release_publish(*, release: Release) -> Release:
    """Give a ready release a fresh public link (also after a revocation: the old link stays
    dead)."""
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.status != ReleaseStatus.READY:
        raise ValidationError("Only a computed release can be published.", code="not_ready")
    if not locked.is_public:
        locked.published_at = timezone.now()
        locked.public_token = secrets.token_urlsafe(PUBLIC_TOKEN_BYTES)
        locked.revoked_at = None
        locked.save(update_fields=["published_at", "public_token", "revoked_at"])
    return locked


@transaction.atomic
def release_revoke(*, release: Release) -> Release:
    """The public link stops working at once (its page and CSV become 404)."""
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.is_public:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    return locked


def _side_effect_names() -> list[tuple[str, str]]:
    with translation.override(settings.LANGUAGE_CODE):
        return [(code, str(label)) for code, label in SideEffect.choices]
