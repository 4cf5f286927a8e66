"""Print a patient's stored response summary, as JSON (--json) or as a readable report, with the
scores of their finished questionnaires (the ``questionnaires`` key, docs/clinical-rules.md §4)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ldn_diary.clinical.compare import VERDICT_WORDS
from ldn_diary.clinical.constants import SYMPTOMS
from ldn_diary.questionnaires.selectors import completed_for
from ldn_diary.questionnaires.summary import summarise
from ldn_diary.trends.selectors import CURRENT, trend_summary_for
from ldn_diary.trends.services import trends_recompute_patients

from ._patients import patient_by_username


class Command(BaseCommand):
    help = "Show a patient's response summary (baseline, week windows, dose phases)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patient", metavar="USERNAME", required=True)
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args, **opts) -> None:
        patient = patient_by_username(opts["patient"])
        summary = trend_summary_for(patient)
        if summary.status != CURRENT:
            # A command is not a web request: it may compute, and says so where a pipe that
            # parses stdout will not see it.
            self.stderr.write(f"Stored summary is {summary.status}; recomputing it now.")
            trends_recompute_patients(patient_ids=[patient.pk])
            summary = trend_summary_for(patient)
        report = {
            "patient": patient.username,
            **(summary.data or {}),
            "computed_at": summary.computed_at.isoformat() if summary.computed_at else None,
            "data_version": summary.data_version,
            "status": summary.status,
            "questionnaires": summarise(completed_for(patient)).as_json(),
        }
        if opts["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(_plain_text(report))


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "not assessable"}[value]


def _symptom_lines(symptoms: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for name in SYMPTOMS:
        s = symptoms[name]
        change = (
            f"change {_num(s['change_pct'], '+.1f')} % ({s['class'] or 'no class'}), "
            f"{_num(s['change_points'], '+.2f')} points"
        )
        if s["ci_low"] is not None:
            change += (
                f", 95 % interval {_num(s['ci_low'], '+.2f')} to {_num(s['ci_high'], '+.2f')}"
                f" ({VERDICT_WORDS[s['beyond_noise']]})"
            )
        lines.append(f"    {name:<8} mean {_num(s['mean'], '.2f'):>5}   {change}")
    return lines


def _plain_text(report: dict[str, Any]) -> str:
    lines = [
        f"Response report for {report['patient']} "
        f"(status {report['status']}, computed {report['computed_at']}, "
        f"diary version {report['data_version']})",
        f"Diary: {report.get('data_start') or '-'} to {report.get('data_end') or '-'}",
        f"Therapy start: {report.get('therapy_start') or 'no dose recorded'}",
    ]
    base = report.get("baseline") or {}
    if report.get("therapy_start"):
        lines.append(
            f"Baseline {base['start']} to {base['end']}: {base['days_logged']} of 14 days logged, "
            f"{'valid' if base['valid'] else 'NOT valid (needs 11), so no response classes'}"
        )
        lines.append("    " + "   ".join(f"{name} {_num(base[name], '.2f')}" for name in SYMPTOMS))
    lines.append("")
    lines.append("Week windows (positive change = better):")
    for w in report.get("windows") or []:
        lines.append(
            f"  {w['label']}: {w['start']} to {w['end']}, {w['days_logged']} days logged"
            f"{'' if w['valid'] else ' (too few, needs 10)'}"
        )
        lines += _symptom_lines(w["symptoms"])
    if not report.get("windows"):
        lines.append("  none (no therapy start)")
    lines.append("")
    lines.append("Dose phases:")
    for p in report.get("phases") or []:
        lines.append(
            f"  {p['dose_mg']:g} mg: {p['start']} to {p['end']}, {p['days_logged']} days logged "
            f"in its window{'' if p['valid'] else ' (too few for a class)'}"
        )
        lines += _symptom_lines(p["symptoms"])
    if not report.get("phases"):
        lines.append("  none")
    lines.append("")
    assessed = report.get("assessed_window")
    lines.append(
        f"Composite responder{f' ({assessed})' if assessed else ''}: "
        f"{_yes_no(report.get('composite_responder'))}"
    )
    lines.append("")
    lines += _questionnaire_lines(report["questionnaires"])
    return "\n".join(lines)


def _questionnaire_lines(q: dict[str, Any]) -> list[str]:
    lines = ["Questionnaires (finished):"]
    for r in q["fiqr"]:
        change = ""
        fall = r["fall_from_baseline_pct"]
        if fall is not None:
            met = "MCID met" if r["mcid_met"] else "MCID not met"
            direction = "lower" if fall >= 0 else "higher"
            change = f", {abs(fall):.1f} % {direction} than week 0 ({met})"
        lines.append(
            f"  FIQR week {r['week']} ({r['completed_on']}): total {_num(r['total'])} "
            f"(function {_num(r['function'])}, overall {_num(r['overall'])}, "
            f"symptoms {_num(r['symptoms'])}){change}"
        )
    for r in q["pgic"]:
        responder = " (responder)" if r["responder"] else ""
        lines.append(f"  PGIC week {r['week']} ({r['completed_on']}): {r['label']}{responder}")
    for r in q["acr2016"]:
        lines.append(
            f"  ACR 2016 week {r['week']} ({r['completed_on']}): "
            f"{'met' if r['met'] else 'not met'} (WPI {r['wpi']}, SSS {r['sss']}, FS {r['fs']}, "
            f"{'generalised' if r['generalized'] else 'not generalised'})"
        )
    if len(lines) == 1:
        lines.append("  none")
    return lines
