"""Writes to the clinic app: consent (invites, links, revocation), notes and follow-up dates.

Every function here runs in one transaction and writes its row of the audit trail
(``accounts.audit.record``) in that same transaction, and for consent also the ConsentEvent the
patient sees in their sharing history. Views call these and nothing else to change clinic data.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import AuditAction, Role, User

from .models import (
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    INVITE_MAX_OPEN,
    INVITE_VALID_DAYS,
    CareLink,
    ClinicianNote,
    ConsentEvent,
    ConsentKind,
    FollowUp,
    Invite,
)


class InviteError(ValidationError):
    """A code that cannot be redeemed; ``code`` says why (unknown, expired, used, ...)."""


# Lookalike characters a person may type for the ones the alphabet keeps (Crockford base32).
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def normalise_code(text: str) -> str:
    """What a person typed, as the stored code: upper case, no spaces or dashes, I/L->1, O->0."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    return cleaned.translate(_LOOKALIKES)


def _new_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def invite_create(*, patient: User, now: dt.datetime | None = None) -> Invite:
    """A new one-time code for the patient to hand to a clinician, valid INVITE_VALID_DAYS."""
    if patient.role != Role.PATIENT:
        raise ValidationError("Only patients can invite a clinician.", code="not_patient")
    now = now or timezone.now()
    open_invites = Invite.objects.filter(
        patient=patient, used_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
    ).count()
    if open_invites >= INVITE_MAX_OPEN:
        raise ValidationError(
            f"You already have {open_invites} unused codes. Cancel one before creating another.",
            code="too_many",
        )
    # 32^8 = 2^40 codes: a clash is vanishingly rare, but the unique index decides, not luck.
    for _ in range(5):
        invite = Invite(
            patient=patient,
            code=_new_code(),
            created_at=now,
            expires_at=now + dt.timedelta(days=INVITE_VALID_DAYS),
        )
        invite.full_clean()
        try:
            with transaction.atomic():
                invite.save()
                ConsentEvent.objects.create(
                    patient=patient,
                    actor=patient,
                    kind=ConsentKind.INVITE_CREATED,
                    invite=invite,
                    at=now,
                )
                audit.record(
                    actor=patient, patient=patient, action=AuditAction.INVITE_CREATE, obj=invite
                )
        except IntegrityError:
            continue
        return invite
    raise RuntimeError("Could not find a free invite code after 5 tries.")  # pragma: no cover


@transaction.atomic
def invite_cancel(*, invite: Invite) -> Invite:
    """The patient withdraws a code before anyone used it (fetched with
    ``selectors.get_invite_for_patient``, which scopes it to them)."""
    invite = Invite.objects.select_for_update().get(pk=invite.pk)
    if invite.used_at is None and invite.cancelled_at is None:
        invite.cancelled_at = timezone.now()
        invite.save(update_fields=["cancelled_at"])
        ConsentEvent.objects.create(
            patient_id=invite.patient_id,
            actor_id=invite.patient_id,
            kind=ConsentKind.INVITE_CANCELLED,
            invite=invite,
        )
        audit.record(
            actor=invite.patient,
            patient=invite.patient_id,
            action=AuditAction.INVITE_CANCEL,
            obj=invite,
        )
    return invite


def invite_redeem(
    *, clinician: User, code: str, now: dt.datetime | None = None
) -> tuple[CareLink, bool]:
    """Use a patient's code: returns (link, created). Raises InviteError saying why not.

    Already being linked to the patient is not an error: the invite is used up and the
    existing link returned with ``created`` False, so a double-submitted form is harmless.
    """
    if not clinician.is_authenticated or clinician.role != Role.CLINICIAN:
        raise InviteError(
            "Only clinician accounts can use an invite code. Ask the patient to share it with "
            "their clinician.",
            code="not_clinician",
        )
    key = normalise_code(code)
    if len(key) != INVITE_CODE_LENGTH or any(ch not in INVITE_ALPHABET for ch in key):
        raise InviteError(
            f"An invite code has {INVITE_CODE_LENGTH} letters and digits, like ABCD-2345. "
            "Check it with the patient.",
            code="malformed",
        )
    now = now or timezone.now()
    with transaction.atomic():
        # Locked, so two clinicians racing with the same code cannot both use it.
        invite = (
            Invite.objects.select_for_update().select_related("patient").filter(code=key).first()
        )
        if invite is None or not invite.patient.is_active:
            raise InviteError(
                "There is no invite with that code. Check it with the patient.", code="unknown"
            )
        if invite.used_at is not None:
            raise InviteError(
                "This code has already been used. Codes work once; ask the patient for a new one.",
                code="used",
            )
        if invite.cancelled_at is not None:
            raise InviteError(
                "The patient cancelled this code. Ask them for a new one.", code="cancelled"
            )
        if invite.expires_at <= now:
            raise InviteError(
                f"This code expired on {invite.expires_at:%d %b %Y}. Codes last "
                f"{INVITE_VALID_DAYS} days; ask the patient for a new one.",
                code="expired",
            )
        existing = CareLink.objects.filter(
            patient=invite.patient, clinician=clinician, revoked_at__isnull=True
        ).first()
        created = existing is None
        link = existing or CareLink.objects.create(patient=invite.patient, clinician=clinician)
        invite.used_at = now
        invite.used_by = clinician
        invite.link = link
        invite.save(update_fields=["used_at", "used_by", "link"])
        ConsentEvent.objects.create(
            patient=invite.patient,
            clinician=clinician,
            actor=clinician,
            kind=ConsentKind.INVITE_REDEEMED,
            invite=invite,
            link=link,
            at=now,
        )
        audit.record(
            actor=clinician, patient=invite.patient, action=AuditAction.INVITE_REDEEM, obj=link
        )
    return link, created


@transaction.atomic
def link_revoke(*, link: CareLink) -> CareLink:
    """The patient withdraws a clinician's access (``link`` fetched with
    ``selectors.get_link_for_patient``). Effective for the very next request.

    Access checks (``clinic.selectors.patients_of``) read ``revoked_at`` on every request, so
    nothing is cached that could outlive this. Revoking twice is a no-op.
    """
    link = CareLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        ConsentEvent.objects.create(
            patient_id=link.patient_id,
            clinician_id=link.clinician_id,
            actor_id=link.patient_id,
            kind=ConsentKind.LINK_REVOKED,
            link=link,
        )
        audit.record(
            actor=link.patient, patient=link.patient_id, action=AuditAction.LINK_REVOKE, obj=link
        )
    return link


def link_grant(*, patient: User, clinician: User) -> CareLink:
    """Link a pair directly, as if the patient had created and the clinician redeemed a code.

    Goes through the real invite flow so the audit trail is the same as in the app.
    """
    invite = invite_create(patient=patient)
    link, _ = invite_redeem(clinician=clinician, code=invite.code)
    return link


@transaction.atomic
def note_add(*, clinician: User, patient: User, text: str) -> ClinicianNote:
    """A note by ``clinician`` about ``patient``; the caller got the patient via the selector."""
    note = ClinicianNote(clinician=clinician, patient=patient, text=(text or "").strip())
    if not note.text:
        raise ValidationError({"text": "Write something before saving the note."})
    note.full_clean()
    note.save()
    audit.record(actor=clinician, patient=patient, action=AuditAction.NOTE_ADD, obj=note)
    return note


@transaction.atomic
def followup_set(*, clinician: User, patient: User, due_on: dt.date | None) -> FollowUp | None:
    """Set (or with ``due_on=None`` clear) this clinician's next follow-up date for the patient.

    A date before the clinician's today is refused: a follow-up is always ahead, and a past date
    is a typing slip (a wrong year) that would otherwise be kept without a word.
    """
    if due_on is not None and due_on < clinician.local_today():
        raise ValidationError(
            {
                "due_on": f"Next follow-up: {due_on:%-d %b %Y} is in the past; "
                "choose today or a later date."
            }
        )
    audit.record(actor=clinician, patient=patient, action=AuditAction.FOLLOWUP_SET)
    if due_on is None:
        FollowUp.objects.filter(clinician=clinician, patient=patient).delete()
        return None
    followup, _ = FollowUp.objects.update_or_create(
        clinician=clinician, patient=patient, defaults={"due_on": due_on}
    )
    return followup
