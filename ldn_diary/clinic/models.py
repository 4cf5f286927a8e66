from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Invites: how long a code stays redeemable, and how many a patient may have open at once (a
# cap, so a stuck "create" button cannot fill the table). Read by services.invite_create and the
# consent partial's help text.
INVITE_VALID_DAYS = 7
INVITE_MAX_OPEN = 5
# Crockford's base32 alphabet: digits and capitals without I, L, O and U, so a code read out
# over the phone cannot be mistyped as a lookalike. services.normalise_code maps I/L->1, O->0.
INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INVITE_CODE_LENGTH = 8


class CareLink(models.Model):
    """A patient's consent for one clinician to see their diary. Revoking ends access at once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_links"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one live link per pair; revoked links stay as the consent record.
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_link_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} -> {self.clinician_id}{'' if self.active else ' (revoked)'}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Invite(models.Model):
    """A one-time code a patient gives to one clinician; redeeming it creates the CareLink.

    The code is single use (``used_at``) and expires ``INVITE_VALID_DAYS`` after creation.
    ``created_at`` is an ordinary field, not ``auto_now_add``, so that tests can create an invite
    "eight days ago" through ``invite_create(now=...)`` instead of mocking the clock.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_invites"
    )
    code = models.CharField(max_length=INVITE_CODE_LENGTH, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="redeemed_invites",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    link = models.ForeignKey(
        CareLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="invites"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="invite_expires_after"
            ),
            # A used invite always says who used it (unless that account was later deleted,
            # which sets used_by to NULL but keeps used_at).
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, used_by__isnull=True) | Q(used_at__isnull=False),
                name="invite_used_by_only_when_used",
            ),
        ]

    def __str__(self) -> str:
        return f"invite {self.code} from {self.patient_id}"

    @property
    def display_code(self) -> str:
        """ABCD-EFGH: two groups of four are easier to read out and type."""
        half = INVITE_CODE_LENGTH // 2
        return f"{self.code[:half]}-{self.code[half:]}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.used_at is not None:
            return "used"
        if self.cancelled_at is not None:
            return "cancelled"
        if self.expires_at <= now:
            return "expired"
        return "open"


class ConsentKind(models.TextChoices):
    INVITE_CREATED = "invite_created", "Invite created"
    INVITE_CANCELLED = "invite_cancelled", "Invite cancelled"
    INVITE_REDEEMED = "invite_redeemed", "Invite used, access granted"
    LINK_REVOKED = "link_revoked", "Access revoked"


class ConsentEvent(models.Model):
    """The audit trail of consent: who gave, used or withdrew access, and when.

    Written by every service in ``clinic/services.py`` in the same transaction as the change it
    records; never updated. Patients see their own trail on the profile page.
    """

    Kind = ConsentKind

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_events"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    at = models.DateTimeField(default=timezone.now)
    invite = models.ForeignKey(Invite, on_delete=models.SET_NULL, null=True, blank=True)
    link = models.ForeignKey(CareLink, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ConsentKind.values), name="consent_event_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.patient_id} at {self.at:%Y-%m-%d %H:%M}"


class ClinicianNote(models.Model):
    """A clinician's private note about a patient. Only its author ever reads it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_notes_written"
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_notes_about"
    )
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The roster's "latest note per patient" and the dashboard's list both filter on
            # (clinician, patient) and sort by time.
            models.Index(
                fields=["clinician", "patient", "-created_at"], name="clinicnote_pair_time_idx"
            )
        ]

    def __str__(self) -> str:
        return f"note by {self.clinician_id} on {self.patient_id}"


class FollowUp(models.Model):
    """The next follow-up date one clinician set for one patient (one row per pair)."""

    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_followups_set"
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_followups"
    )
    due_on = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinician", "patient"], name="one_followup_per_pair")
        ]

    def __str__(self) -> str:
        return f"follow-up of {self.patient_id} by {self.clinician_id} on {self.due_on}"
