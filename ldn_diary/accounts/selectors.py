"""The patient's own door to their data.

A patient's pages (diary, doses, history, profile) act on the signed-in patient only, so the
only question is whether the user is an active patient. A signed-in clinician or moderator gets
``WrongRole`` (403, a page saying whose page it is, ``core.views.permission_denied``): these
URLs name nothing of anyone's, so saying "this page is for patients" reveals nothing. Clinicians reach a patient through their own door, which checks the
patient's consent: ``ldn_diary.clinic.selectors.get_patient_for_clinician``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import AuditEvent, Role, User


class WrongRole(PermissionDenied):
    """A signed-in user on a page for another role (403). ``needed`` is that role's plural,
    as the page says it ("This page is for clinicians")."""

    def __init__(self, needed: str) -> None:
        self.needed = needed
        super().__init__(f"This page is for {needed}.")


def get_own_patient(user: User) -> User:
    """``user`` if they are a signed-in, active patient; ``WrongRole`` for another role."""
    if not (user.is_authenticated and user.is_active):
        raise Http404("This page is for patients.")
    if user.role != Role.PATIENT:
        raise WrongRole("patients")
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
