"""The audit trail: who read or changed whose data, when, in which request (``AuditEvent``).

Every app writes to it through this module, which is why it lives in the lowest app:

- writes call ``record`` inside the same transaction as the change (in the services), so a
  change and its row commit or roll back together;
- reads of a patient's data by someone else are recorded by the access doors
  (``clinic.selectors.get_patient_for_clinician``) and by the pages that list patients
  (``record_reads``: the clinician's roster, the moderator's member list).

Rows carry no health values, only ids, an action, an object type and UUID. The request id
comes from ``RequestIdMiddleware`` (also sent back as ``X-Request-ID``) or, in a Celery task,
from the task id (connected in ``AccountsConfig.ready``); outside both (a shell, a command) it
is empty.

Why not django-pghistory or django-auditlog: both record changed rows, i.e. the health values
themselves, and neither records reads; a plain table with a trigger is smaller than either.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, AuditEvent, User

__all__ = ["AuditAction", "RequestIdMiddleware", "record", "record_reads", "request_id"]

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("ldn_request_id", default="")
# A task id as Celery makes them, or ours: letters, digits and dashes only.
_SAFE_ID = re.compile(r"[A-Za-z0-9-]{1,60}")


def request_id() -> str:
    """The current request's or task's id; empty outside both."""
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token[str]:
    return _request_id.set(value if _SAFE_ID.fullmatch(value or "") else "")


def reset_request_id(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


def actor_role(actor: User | None) -> str:
    if actor is None:
        return "system"
    if actor.is_superuser:
        return "admin"
    return str(actor.role)


def _object(obj: models.Model | None) -> tuple[str, uuid.UUID | None]:
    if obj is None:
        return "", None
    return type(obj).__name__, getattr(obj, "uuid", None)


def record(
    *,
    actor: User | None,
    patient: User | int | None,
    action: AuditAction | str,
    obj: models.Model | None = None,
) -> AuditEvent:
    """Append one row. Call it inside the transaction of the change it records."""
    object_type, object_uuid = _object(obj)
    return AuditEvent.objects.create(
        actor=actor,
        actor_role=actor_role(actor),
        patient_id=patient.pk if isinstance(patient, User) else patient,
        action=action,
        object_type=object_type,
        object_uuid=object_uuid,
        request_id=request_id(),
    )


def record_reads(
    *,
    actor: User,
    patient_ids: Iterable[int],
    action: AuditAction | str,
    objects: dict[int, models.Model] | None = None,
) -> int:
    """One row per patient whose data ``actor`` was shown, in one INSERT; returns how many.

    ``objects`` optionally names the object shown for each patient (e.g. their membership).
    """
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return 0
    role, rid = actor_role(actor), request_id()
    rows = []
    for pid in ids:
        object_type, object_uuid = _object((objects or {}).get(pid))
        rows.append(
            AuditEvent(
                actor=actor,
                actor_role=role,
                patient_id=pid,
                action=action,
                object_type=object_type or "User",
                object_uuid=object_uuid,
                request_id=rid,
            )
        )
    AuditEvent.objects.bulk_create(rows)
    return len(rows)


class RequestIdMiddleware:
    """Give every request an id: on ``request.request_id``, in the audit rows it writes, and in
    the ``X-Request-ID`` response header (so a user's report can be matched to the trail).

    The id is always made here, never taken from the client, so nobody can write a chosen id
    into the audit trail. Put it first in MIDDLEWARE so every later layer sees the id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
        token = _request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


# task id -> the token that restores the id in force before the task, so an eager task run
# inside a request (no broker) hands the request its own id back when it ends.
_task_tokens: dict[str, contextvars.Token[str]] = {}


def _task_started(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _task_tokens[task_id] = _request_id.set(f"task-{task_id}"[:64])


def _task_finished(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            _request_id.reset(token)
        except ValueError:  # ended in another context than it started: just clear
            _request_id.set("")


def connect_celery_signals() -> None:
    """Tasks record their own id as the request id (AccountsConfig.ready calls this)."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="ldn_audit_task_started")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="ldn_audit_task_finished")


# --- Reading the trail back (the patient's profile and data export) -------------------------------

ROLE_LABELS = {
    "patient": _("Patient"),
    "clinician": _("Clinician"),
    "moderator": _("Support-group moderator"),
    "admin": _("Administrator"),
    "system": "LDN Diary",
}


def who(event: AuditEvent) -> str:
    """The actor as the patient reads it: a name, or what stands for one."""
    if event.actor_role == "system":
        return gettext("LDN Diary (a scheduled job or an administrator's command)")
    if event.actor is None:
        return gettext("A deleted account")
    return str(event.actor)


def what(event: AuditEvent) -> str:
    return event.get_action_display()
