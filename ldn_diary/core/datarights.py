"""A patient's copy of everything held about them: CSV files in one zip, and a FHIR R4 Bundle.

The zip holds the diary exactly as the History page exports it (so it imports back), and the
rest as separate files: dose history, titration plan, sharing with clinicians, support groups,
and the audit trail of who read or changed the data. Free text in every file is written as the
diary export writes it (``diary.csvio.escape_formula``), so no cell runs as a spreadsheet
formula. Trend rows are not included: they are recomputed from the diary. Notes a clinician
keeps about a patient are that clinician's own records and stay with them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from typing import Any

from ldn_diary.accounts import audit
from ldn_diary.accounts.models import User
from ldn_diary.accounts.selectors import audit_trail_for
from ldn_diary.clinic.selectors import consent_history_for_patient
from ldn_diary.community.selectors import memberships_for_patient
from ldn_diary.diary import selectors as diary
from ldn_diary.diary.csvio import diary_csv_lines, escape_formula
from ldn_diary.diary.dosing import format_mg
from ldn_diary.diary.fhir import diary_bundle
from ldn_diary.diary.models import DiaryEntry

README = """Your LDN Diary data, exported {now} (UTC).

diary.csv         your daily entries, in the format the History page imports (README of the
                  project, "Diary CSV format"); the dose each day is in dose_mg
doses.csv         every dose change you recorded, with time of day, form and note
plan.csv          your titration plan, if you have one
sharing.csv       invite codes and clinicians' access: given, used, withdrawn
groups.csv        support groups you joined, and when you agreed or stopped contributing
access_log.csv    the audit trail: who read or changed your data, and when

Text that a spreadsheet would run as a formula (starting with = + - @) has a ' in front.
Trends are not included: they are computed from your diary. Notes your clinicians keep
about you are their own records; ask them for a copy.
"""


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([escape_formula(c) if isinstance(c, str) else c for c in row])
    return out.getvalue()


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat() if value else ""


def export_files(patient: User, now: dt.datetime) -> dict[str, str]:
    """File name -> text, for the zip."""
    timeline = diary.dose_timeline(patient)
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    plan = diary.plan_for(patient)
    files = {
        "README.txt": README.format(now=_when(now)),
        "diary.csv": "".join(diary_csv_lines(entries.iterator(chunk_size=500), timeline)),
        "doses.csv": _table(
            (
                "effective_date",
                "dose_mg",
                "time_of_day",
                "formulation",
                "from_plan",
                "note",
                "recorded_at",
            ),
            (
                (
                    c.effective_date.isoformat(),
                    format_mg(c.dose_ug),
                    c.time_of_day,
                    c.formulation,
                    "yes" if c.from_plan else "no",
                    c.note,
                    _when(c.created_at),
                )
                for c in timeline
            ),
        ),  # fmt: skip
        "plan.csv": _table(
            ("start_mg", "step_mg", "interval_days", "target_mg", "set_at", "changed_at"),
            [
                (
                    format_mg(plan.start_ug),
                    format_mg(plan.step_ug),
                    plan.interval_days,
                    format_mg(plan.target_ug),
                    _when(plan.created_at),
                    _when(plan.updated_at),
                )
            ]
            if plan
            else [],
        ),  # fmt: skip
        "sharing.csv": _table(
            ("at", "event", "clinician", "invite_code"),
            (
                (
                    _when(e.at),
                    e.get_kind_display(),
                    str(e.clinician or ""),
                    e.invite.display_code if e.invite else "",
                )
                for e in reversed(consent_history_for_patient(patient, limit=None))
            ),
        ),  # fmt: skip
        "groups.csv": _table(
            ("group", "at", "event"),
            (
                (m.group.name, _when(e.at), e.get_kind_display())
                for m in memberships_for_patient(patient)
                for e in sorted(m.events.all(), key=lambda e: (e.at, e.pk))
            ),
        ),
        "access_log.csv": _table(
            ("at", "who", "role", "action", "object_type", "object_uuid", "request_id"),
            (
                (
                    _when(e.at),
                    audit.who(e),
                    audit.ROLE_LABELS.get(e.actor_role, e.actor_role),
                    audit.what(e),
                    e.object_type,
                    str(e.object_uuid or ""),
                    e.request_id,
                )
                for e in audit_trail_for(patient)
            ),
        ),  # fmt: skip
    }
    return files


def export_zip(patient: User, now: dt.datetime) -> bytes:
    folder = f"ldn-diary-{now.date().isoformat()}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in export_files(patient, now).items():
            archive.writestr(f"{folder}/{name}", text.encode("utf-8"))
    return buffer.getvalue()


def fhir_export(patient: User, now: dt.datetime) -> bytes:
    """The diary as a FHIR R4 Bundle, JSON (``diary.fhir``)."""
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    bundle = diary_bundle(
        patient, entries=entries.iterator(chunk_size=500), timeline=diary.dose_timeline(patient),
        now=now,
    )  # fmt: skip
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
