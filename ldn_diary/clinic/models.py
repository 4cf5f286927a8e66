from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


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

    @property
    def active(self) -> bool:
        return self.revoked_at is None
