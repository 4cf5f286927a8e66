"""A patient's copy of everything held about them: CSV files in one zip, and a FHIR R4 Bundle.

The zip holds the diary exactly as the History page exports it (so it imports back), the
other treatments, flares and life events exactly as the Doses page exports them, and the rest
as separate files: dose history, titration plan, questionnaire answers (one row per answered
item) and their scores, sharing with clinicians, support groups, and the audit trail of who
read or changed the data. Free text in every file is written as the diary export writes it
(``diary.csvio.escape_formula``), so no cell runs as a spreadsheet formula. Trend rows are not
included: they are recomputed from the diary. Notes a clinician keeps about a patient are that
clinician's own records and stay with them.

The FHIR Bundle is the diary's resources (``diary.fhir``) followed by the questionnaires'
(``questionnaires.fhir``). Both downloads read a fixed number of queries, however many rows
the patient has (tests/core/test_data_rights.py pins them).
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
from ldn_diary.diary.csvio import diary_csv_lines, escape_formula, treatments_csv_lines
from ldn_diary.diary.dosing import format_mg
from ldn_diary.diary.fhir import collection, diary_resources
from ldn_diary.diary.models import DiaryEntry
from ldn_diary.questionnaires import schedule
from ldn_diary.questionnaires.fhir import answered_items, questionnaire_resources
from ldn_diary.questionnaires.models import QuestionnaireResponse
from ldn_diary.questionnaires.selectors import completed_for, responses_for
from ldn_diary.questionnaires.summary import summarise
from ldn_diary.reminders.selectors import reminder_history_for, reminders_sent_for

README = """Your LDN Diary data, exported {now} (UTC).

diary.csv         your daily entries, in the format the History page imports (README of the
                  project, "Diary CSV format"); the dose each day is in dose_mg
doses.csv         every dose change you recorded, with time of day, form and note
plan.csv          your titration plan, if you have one
treatments.csv    your other treatments, flares and life events, as the Doses page exports
                  them (README of the project, "Treatments and events CSV")
questionnaires.csv
                  your questionnaire answers (FIQR, ACR 2016, PGIC), one row per answered
                  question: instrument; week of LDN (0 = baseline, before LDN; 4, 8, 12);
                  status (finished or draft); when you finished it (UTC, empty for a draft);
                  the question (FIQR: its number, 1-21; ACR 2016: its name; PGIC: answer);
                  your answer (FIQR 0-10; ACR ratings 0-3, yes or no, painful areas
                  separated by ";" and empty if you ticked none; PGIC 1 = very much
                  improved to 7 = very much worse)
questionnaire_scores.csv
                  the scores your clinician sees for each finished questionnaire, one a row
                  (score, value), not rounded: FIQR function, overall, symptoms and total
                  (empty when too many questions were left out to score it), questions
                  answered, fall of the total from week 0 in % and whether that met the
                  MCID; ACR 2016 WPI, SSS, FS, generalized pain and whether the criteria
                  were met; PGIC answer, its words and whether it counts as a response
reminders.csv     the reminders sent to you: your local date, kind (daily or dose step),
                  status and when it was sent (UTC)
reminder_settings.csv
                  changes to your reminder time and to the devices that show notifications
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


def _cell(value: object) -> object:
    """A value as a CSV cell: yes/no for true/false, ``;`` between list items, empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


# Week, then the cards' order (FIQR, ACR 2016, PGIC) within a week.
_CARD_ORDER = {code: n for n, code in enumerate(schedule.SCHEDULE)}


def _in_order(responses: Iterable[QuestionnaireResponse]) -> list[QuestionnaireResponse]:
    return sorted(responses, key=lambda r: (r.week, _CARD_ORDER.get(r.instrument, 99)))


def _questionnaire_rows(responses: list[QuestionnaireResponse]) -> Iterable[tuple[object, ...]]:
    for r in responses:
        status = "finished" if r.completed_at else "draft"
        for item, answer in answered_items(r.instrument, r.answers):
            yield (r.instrument, r.week, status, _when(r.completed_at), item, _cell(answer))


def _score_rows(patient: User) -> Iterable[tuple[object, ...]]:
    """(instrument, week, completed_on, score, value): ``questionnaires.summary``'s rows, as the
    clinician's dashboard shows them, one number or answer a row."""
    summary = summarise(completed_for(patient))
    rows: list[tuple[int, int, tuple[object, ...]]] = []

    def add(code: str, week: int, on: dt.date, scores: Iterable[tuple[str, object]]) -> None:
        for name, value in scores:
            rows.append((week, _CARD_ORDER[code], (code, week, on.isoformat(), name, _cell(value))))

    for f in summary.fiqr:
        add(
            schedule.FIQR,
            f.week,
            f.completed_on,
            (
                ("function", f.function),
                ("overall", f.overall),
                ("symptoms", f.symptoms),
                ("total", f.total),
                ("answered", f.answered),
                ("fall_from_week0_pct", f.fall_pct),
                ("mcid_met", f.mcid_met),
            ),
        )
    for a in summary.acr:
        add(
            schedule.ACR2016,
            a.week,
            a.completed_on,
            (
                ("wpi", a.wpi),
                ("sss", a.sss),
                ("fs", a.fs),
                ("generalized", a.generalized),
                ("met", a.met),
            ),
        )
    for p in summary.pgic:
        add(
            schedule.PGIC,
            p.week,
            p.completed_on,
            (("answer", p.answer), ("label", p.label), ("responder", p.responder)),
        )
    # Stable: within one questionnaire the scores keep the order above.
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


def export_files(patient: User, now: dt.datetime) -> dict[str, str]:
    """File name -> text, for the zip."""
    timeline = diary.dose_timeline(patient)
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    plan = diary.plan_for(patient)
    responses = _in_order(responses_for(patient).values())
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
        "treatments.csv": "".join(
            treatments_csv_lines(diary.treatments_for(patient), diary.life_events_for(patient))
        ),
        "questionnaires.csv": _table(
            ("instrument", "week", "status", "completed_at", "item", "answer"),
            _questionnaire_rows(responses),
        ),
        "questionnaire_scores.csv": _table(
            ("instrument", "week", "completed_on", "score", "value"), _score_rows(patient)
        ),
        "reminders.csv": _table(
            ("local_date", "kind", "status", "sent_at"),
            (
                (r.local_date.isoformat(), r.kind, r.status, _when(r.sent_at))
                for r in reminders_sent_for(patient)
            ),
        ),
        "reminder_settings.csv": _table(
            ("at", "event", "detail", "by"),
            (
                (_when(e.at), e.get_kind_display(), e.detail, "you" if e.by_patient else "link")
                for e in reminder_history_for(patient)
            ),
        ),
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
    """The diary, other treatments, events and questionnaires as one FHIR R4 Bundle, JSON
    (``diary.fhir``, ``questionnaires.fhir``)."""
    entries = DiaryEntry.objects.filter(patient=patient).order_by("date")
    resources = [
        *diary_resources(
            patient,
            entries=entries.iterator(chunk_size=500),
            timeline=diary.dose_timeline(patient),
            treatments=sorted(diary.treatments_for(patient), key=lambda t: (t.start_date, t.name)),
            events=reversed(diary.life_events_for(patient)),
        ),
        *questionnaire_resources(patient, _in_order(responses_for(patient).values())),
    ]
    bundle = collection(resources, now=now)
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
