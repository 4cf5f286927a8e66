"""The patient's own door to their data.

A patient's pages (diary, doses, history, profile) act on the signed-in patient only, so the
only question is whether the user is an active patient; anyone else gets the same 404 as a page
that does not exist. Clinicians reach a patient through their own door, which checks the
patient's consent: ``ldn_diary.clinic.selectors.get_patient_for_clinician``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from .models import AuditEvent, Role, User


def get_own_patient(user: User) -> User:
    """``user`` if they are a signed-in, active patient; otherwise 404."""
    if not (user.is_authenticated and user.is_active and user.role == Role.PATIENT):
        raise Http404("This page is for patients.")
    return user


def access_by_others(patient: User) -> QuerySet[AuditEvent]:
    """The audit rows in which someone other than the patient read or changed their data
    (clinicians, moderators, the system), newest first, with the actor (None once deleted)."""
    return (
        AuditEvent.objects.filter(patient=patient)
        .exclude(actor=patient)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def audit_trail_for(patient: User) -> QuerySet[AuditEvent]:
    """Every audit row about the patient, their own actions included, oldest first (export)."""
    return AuditEvent.objects.filter(patient=patient).select_related("actor").order_by("at", "id")
