"""The one door to patient data.

Every view that shows a patient's diary, doses or trends gets the patient through
``get_patient_for_viewer`` (or lists them through ``patients_visible_to``). Missing and
not-yours give the same 404, so a URL never confirms that a patient exists. A later read-audit
hooks in here, in one place.
"""

from __future__ import annotations

import uuid as uuid_mod

from django.db.models import QuerySet
from django.http import Http404

from .models import Role, User


def patients_visible_to(user: User) -> QuerySet[User]:
    """Patients whose data ``user`` may read: themselves, or those linked to them as clinician."""
    patients = User.objects.filter(role=Role.PATIENT, is_active=True)
    if not user.is_authenticated:
        return patients.none()
    if user.role == Role.PATIENT:
        return patients.filter(pk=user.pk)
    if user.role == Role.CLINICIAN:
        return patients.filter(
            care_links__clinician=user, care_links__revoked_at__isnull=True
        ).distinct()
    # Moderators see aggregates only, never a single patient; superusers use the admin.
    return patients.none()


def get_patient_for_viewer(user: User, patient_uuid: uuid_mod.UUID | str) -> User:
    try:
        key = uuid_mod.UUID(str(patient_uuid))
    except ValueError as exc:
        raise Http404("No such patient.") from exc
    patient = patients_visible_to(user).filter(uuid=key).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient
