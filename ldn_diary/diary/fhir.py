"""A patient's diary as a FHIR R4 (4.0.1) Bundle, for their own download (data portability).

Plain dicts, JSON-ready; the tests validate every bundle with the ``fhir.resources`` package.
The bundle (type ``collection``) holds:

- one ``Patient``: the account's UUID as its id and identifier, and the display name if set
  (no username, no email: they identify the account, not the person's health record);
- one ``MedicationStatement`` per dose period: naltrexone (RxNorm 7243), the daily dose in mg
  as ``doseAndRate.doseQuantity`` (UCUM ``mg``), taken at bedtime (``HS``) or in the morning
  (``MORN``), ``effectivePeriod`` from the change to the day before the next one (open while
  current); a stop or pause at 0 mg is a ``not-taken`` statement for its period;
- one ``Observation`` per score per day (category ``survey``, ``valueInteger`` 0-10): pain with
  LOINC 72514-3 (pain severity, 0-10 numeric rating), and fatigue, sleep quality and mood with
  this project's own codes, for which LOINC has no 0-10 single-item code we could match; and
  per day one for dreams, one for side effects (a component per effect, ``other`` with its
  text), one for whether the dose was taken (only on days with LDN), and one for the note.

Local codes live under ``LOCAL`` (a URN: an identifier of this project's code systems, which
FHIR does not require to resolve). Ids are UUIDs derived from the stored objects' UUIDs, so
the same diary exports the same ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ldn_diary.accounts.models import User

from .choices import DoseTaken, Dreams, Formulation, SideEffect, TimeOfDay
from .dosing import format_mg
from .models import DiaryEntry, DoseChange

LOCAL = "urn:ldn-diary:CodeSystem"
CODES = f"{LOCAL}:diary"  # what is observed: pain, fatigue, sleep-quality, ...
DREAM_CODES = f"{LOCAL}:dreams"
SIDE_EFFECT_CODES = f"{LOCAL}:side-effect"
DOSE_TAKEN_CODES = f"{LOCAL}:dose-taken"
PATIENT_IDS = "urn:ldn-diary:patient"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SURVEY = {"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}
NALTREXONE = {
    "coding": [{"system": RXNORM, "code": "7243", "display": "naltrexone"}],
    "text": "Low-dose naltrexone (LDN)",
}
WHEN = {TimeOfDay.BEDTIME: "HS", TimeOfDay.MORNING: "MORN"}

# (field, local code, LOINC code or None, text). Pain and fatigue: higher is worse; sleep quality
# and mood: higher is better (docs/clinical-rules.md §1).
SCORES = (
    ("pain", "pain", ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")),
    ("fatigue", "fatigue", None),
    ("sleep", "sleep-quality", None),
    ("mood", "mood", None),
)
SCORE_TEXT = {
    "pain": "Pain, 0 (none) to 10 (worst imaginable)",
    "fatigue": "Fatigue, 0 (none) to 10 (exhausted)",
    "sleep": "Sleep quality, 0 (very poor) to 10 (excellent)",
    "mood": "Mood, 0 (very low) to 10 (very good)",
}


def _ref(patient: User) -> dict[str, str]:
    return {"reference": f"urn:uuid:{patient.uuid}"}


def _id(base: uuid.UUID, name: str) -> str:
    return str(uuid.uuid5(base, name))


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        concept["text"] = text
    return concept


def patient_resource(patient: User) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "identifier": [{"system": PATIENT_IDS, "value": str(patient.uuid)}],
        "active": patient.is_active,
    }
    if patient.display_name:
        resource["name"] = [{"text": patient.display_name}]
    return resource


def _mg(dose_ug: int) -> float:
    return float(Decimal(format_mg(dose_ug)))


def medication_statements(patient: User, timeline: list[DoseChange]) -> Iterable[dict[str, Any]]:
    """One statement per dose period (``timeline`` oldest first)."""
    for i, change in enumerate(timeline):
        following = timeline[i + 1] if i + 1 < len(timeline) else None
        period = {"start": change.effective_date.isoformat()}
        if following is not None:
            period["end"] = (following.effective_date - dt.timedelta(days=1)).isoformat()
        resource: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": _id(change.uuid, "MedicationStatement"),
            "subject": _ref(patient),
            "medicationCodeableConcept": NALTREXONE,
            "effectivePeriod": period,
            "dateAsserted": change.created_at.isoformat(),
            "informationSource": _ref(patient),
        }
        form = Formulation(change.formulation).label.lower()
        when = TimeOfDay(change.time_of_day)
        if change.dose_ug == 0:
            resource["status"] = "not-taken"
            resource["statusReason"] = [{"text": "Stopped or paused (0 mg)"}]
        else:
            resource["status"] = "active" if following is None else "completed"
            resource["dosage"] = [
                {
                    "text": f"{format_mg(change.dose_ug)} mg {form}, once a day, "
                    f"{when.label.lower()}",
                    "timing": {
                        "repeat": {
                            "frequency": 1,
                            "period": 1,
                            "periodUnit": "d",
                            "when": [WHEN[when]],
                        }
                    },
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": _mg(change.dose_ug),
                                "unit": "mg",
                                "system": UCUM,
                                "code": "mg",
                            }
                        }
                    ],
                }
            ]
        if change.note:
            resource["note"] = [{"text": change.note}]
        yield resource


def _observation(
    patient: User, entry: DiaryEntry, name: str, code: dict[str, Any], **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _id(entry.uuid, name),
        "status": "final",
        "category": [SURVEY],
        "code": code,
        "subject": _ref(patient),
        "effectiveDateTime": entry.date.isoformat(),
        "issued": entry.updated_at.isoformat(),
        "performer": [_ref(patient)],
        **value,
    }


def observations(patient: User, entry: DiaryEntry) -> Iterable[dict[str, Any]]:
    """A day's entry as Observations: four scores, dreams, side effects, dose taken, note."""
    for field, code, loinc in SCORES:
        codings = [{"system": CODES, "code": code, "display": SCORE_TEXT[field]}]
        if loinc:
            codings.insert(0, {"system": LOINC, "code": loinc[0], "display": loinc[1]})
        concept = {"coding": codings, "text": SCORE_TEXT[field]}
        yield _observation(patient, entry, code, concept, valueInteger=getattr(entry, field))
    yield _observation(
        patient,
        entry,
        "dreams",
        _concept(CODES, "dreams", "Dreams"),
        valueCodeableConcept=_concept(
            DREAM_CODES, entry.dreams, Dreams(entry.dreams).label, Dreams(entry.dreams).label
        ),
    )
    effects = [c for c in SideEffect if c.value in entry.side_effects]
    side_code = _concept(CODES, "side-effects", "Side effects")
    if effects:
        components = []
        for effect in effects:
            component: dict[str, Any] = {
                "code": _concept(SIDE_EFFECT_CODES, effect.value, effect.label)
            }
            if effect == SideEffect.OTHER and entry.side_effect_other:
                component["valueString"] = entry.side_effect_other
            else:
                component["valueBoolean"] = True
            components.append(component)
        yield _observation(patient, entry, "side-effects", side_code, component=components)
    else:
        yield _observation(
            patient,
            entry,
            "side-effects",
            side_code,
            valueCodeableConcept=_concept(SIDE_EFFECT_CODES, "none", "None", "None"),
        )
    if entry.dose_taken != DoseTaken.NOT_APPLICABLE:
        label = DoseTaken(entry.dose_taken).label
        yield _observation(
            patient,
            entry,
            "dose-taken",
            _concept(CODES, "dose-taken", "LDN dose taken that day"),
            valueCodeableConcept=_concept(DOSE_TAKEN_CODES, entry.dose_taken, label, label),
        )
    if entry.note:
        yield _observation(
            patient,
            entry,
            "diary-note",
            _concept(CODES, "diary-note", "Diary note"),
            valueString=entry.note,
        )


def diary_bundle(
    patient: User,
    *,
    entries: Iterable[DiaryEntry],
    timeline: list[DoseChange],
    now: dt.datetime,
) -> dict[str, Any]:
    """The whole diary as a ``collection`` Bundle (entries oldest first, ``timeline`` too)."""
    resources: list[dict[str, Any]] = [patient_resource(patient)]
    resources += medication_statements(patient, timeline)
    for entry in entries:
        resources += observations(patient, entry)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now.isoformat()},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [_entry(r) for r in resources],
    }
