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

- per other treatment (``Treatment``): a medicine (analgesic, opioid, antidepressant,
  gabapentinoid, muscle relaxant, sleep aid, supplement, other) is a ``MedicationStatement``
  with the name as ``medicationCodeableConcept.text`` (free text the patient typed: no code is
  guessed for it), its category as ``category`` in ``TREATMENT_CATEGORY_CODES``, and
  ``effectivePeriod`` from its start to its stop date (open, and ``active``, while still taken;
  ``completed`` once stopped); a therapy (physical or psychological) is a ``Procedure`` with the
  name as ``code.text``, the same local ``category``, ``performedPeriod``, and ``in-progress``
  or ``completed``. The note is the resource's ``note``;
- per flare or life event (``LifeEvent``): an ``Observation`` with the local code ``flare`` or
  ``life-event``, ``effectiveDateTime`` its date, and its words as ``valueString`` when there are
  any. Its category is chosen per kind, from the two R4 categories that could fit: a flare is
  ``survey``, like every other observation of the diary, because it is the patient's own report
  of their symptoms, made in the same instrument, and ``social-history`` ("the patient's
  personal, social ... history and health risk factors that may impact the patient's health")
  would misfile a symptom; a life event (a bereavement, a move, a new job) is exactly that
  kind of history, so it is ``social-history``, and a consumer that lists social history finds
  it there.

Local codes live under ``LOCAL`` (a URN: an identifier of this project's code systems, which
FHIR does not require to resolve). Ids are UUIDs derived from the stored objects' UUIDs, so
the same diary exports the same ids. The helpers here (``derived_id``, ``reference``, ``concept``,
``collection``) are also what ``questionnaires.fhir`` builds its resources with; the whole
export is assembled by ``core.datarights.fhir_export``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ldn_diary.accounts.models import User

from .choices import (
    DoseTaken,
    Dreams,
    Formulation,
    LifeEventKind,
    SideEffect,
    TimeOfDay,
    TreatmentCategory,
)
from .dosing import format_mg
from .models import DiaryEntry, DoseChange, LifeEvent, Treatment

LOCAL = "urn:ldn-diary:CodeSystem"
CODES = f"{LOCAL}:diary"  # what is observed: pain, fatigue, sleep-quality, ...
DREAM_CODES = f"{LOCAL}:dreams"
SIDE_EFFECT_CODES = f"{LOCAL}:side-effect"
DOSE_TAKEN_CODES = f"{LOCAL}:dose-taken"
TREATMENT_CATEGORY_CODES = f"{LOCAL}:treatment-category"
PATIENT_IDS = "urn:ldn-diary:patient"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SURVEY = {"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}
SOCIAL_HISTORY = {
    "coding": [{"system": CATEGORY, "code": "social-history", "display": "Social History"}]
}
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


# Therapies are done, not taken: a Procedure each. Every other category is a medicine.
THERAPIES = frozenset({TreatmentCategory.PHYSICAL_THERAPY, TreatmentCategory.PSYCHOLOGICAL_THERAPY})
# (local code, category, what is observed) per kind of life event; the category is chosen in the
# module docstring.
EVENT_CODES = {
    LifeEventKind.FLARE: ("flare", SURVEY, "Flare"),
    LifeEventKind.LIFE_EVENT: ("life-event", SOCIAL_HISTORY, "Life event"),
}


def reference(patient: User) -> dict[str, str]:
    return {"reference": f"urn:uuid:{patient.uuid}"}


def derived_id(base: uuid.UUID, name: str) -> str:
    return str(uuid.uuid5(base, name))


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        out["text"] = text
    return out


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
            "id": derived_id(change.uuid, "MedicationStatement"),
            "subject": reference(patient),
            "medicationCodeableConcept": NALTREXONE,
            "effectivePeriod": period,
            "dateAsserted": change.created_at.isoformat(),
            "informationSource": reference(patient),
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
        "id": derived_id(entry.uuid, name),
        "status": "final",
        "category": [SURVEY],
        "code": code,
        "subject": reference(patient),
        "effectiveDateTime": entry.date.isoformat(),
        "issued": entry.updated_at.isoformat(),
        "performer": [reference(patient)],
        **value,
    }


def observations(patient: User, entry: DiaryEntry) -> Iterable[dict[str, Any]]:
    """A day's entry as Observations: four scores, dreams, side effects, dose taken, note."""
    for field, code, loinc in SCORES:
        codings = [{"system": CODES, "code": code, "display": SCORE_TEXT[field]}]
        if loinc:
            codings.insert(0, {"system": LOINC, "code": loinc[0], "display": loinc[1]})
        observed = {"coding": codings, "text": SCORE_TEXT[field]}
        yield _observation(patient, entry, code, observed, valueInteger=getattr(entry, field))
    yield _observation(
        patient,
        entry,
        "dreams",
        concept(CODES, "dreams", "Dreams"),
        valueCodeableConcept=concept(
            DREAM_CODES,
            entry.dreams,
            str(Dreams(entry.dreams).label),
            str(Dreams(entry.dreams).label),
        ),
    )
    effects = [c for c in SideEffect if c.value in entry.side_effects]
    side_code = concept(CODES, "side-effects", "Side effects")
    if effects:
        components = []
        for effect in effects:
            component: dict[str, Any] = {
                "code": concept(SIDE_EFFECT_CODES, effect.value, str(effect.label))
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
            valueCodeableConcept=concept(SIDE_EFFECT_CODES, "none", "None", "None"),
        )
    if entry.dose_taken != DoseTaken.NOT_APPLICABLE:
        label = str(DoseTaken(entry.dose_taken).label)
        yield _observation(
            patient,
            entry,
            "dose-taken",
            concept(CODES, "dose-taken", "LDN dose taken that day"),
            valueCodeableConcept=concept(DOSE_TAKEN_CODES, entry.dose_taken, label, label),
        )
    if entry.note:
        yield _observation(
            patient,
            entry,
            "diary-note",
            concept(CODES, "diary-note", "Diary note"),
            valueString=entry.note,
        )


def treatment_resource(patient: User, treatment: Treatment) -> dict[str, Any]:
    """A medicine as a ``MedicationStatement``, a therapy as a ``Procedure``."""
    category = TreatmentCategory(treatment.category)
    period = {"start": treatment.start_date.isoformat()}
    if treatment.stop_date is not None:
        period["end"] = treatment.stop_date.isoformat()
    stopped = treatment.stop_date is not None
    kind = concept(TREATMENT_CATEGORY_CODES, category.value, str(category.label))
    resource: dict[str, Any]
    if category in THERAPIES:
        resource = {
            "resourceType": "Procedure",
            "id": derived_id(treatment.uuid, "Procedure"),
            "status": "completed" if stopped else "in-progress",
            "category": kind,
            "code": {"text": treatment.name},
            "subject": reference(patient),
            "performedPeriod": period,
            "asserter": reference(patient),
        }
    else:
        resource = {
            "resourceType": "MedicationStatement",
            "id": derived_id(treatment.uuid, "MedicationStatement"),
            "status": "completed" if stopped else "active",
            "category": kind,
            "medicationCodeableConcept": {"text": treatment.name},
            "subject": reference(patient),
            "effectivePeriod": period,
            "dateAsserted": treatment.created_at.isoformat(),
            "informationSource": reference(patient),
        }
    if treatment.note:
        resource["note"] = [{"text": treatment.note}]
    return resource


def event_observation(patient: User, event: LifeEvent) -> dict[str, Any]:
    """A flare or life event on its date, with the patient's words if they gave any."""
    code, category, text = EVENT_CODES[LifeEventKind(event.kind)]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": derived_id(event.uuid, "Observation"),
        "status": "final",
        "category": [category],
        "code": concept(CODES, code, text, text),
        "subject": reference(patient),
        "effectiveDateTime": event.date.isoformat(),
        "issued": event.created_at.isoformat(),
        "performer": [reference(patient)],
    }
    if event.text:
        resource["valueString"] = event.text
    return resource


def diary_resources(
    patient: User,
    *,
    entries: Iterable[DiaryEntry],
    timeline: list[DoseChange],
    treatments: Iterable[Treatment],
    events: Iterable[LifeEvent],
) -> Iterable[dict[str, Any]]:
    """The patient, LDN, the other treatments, the days' entries, then flares and life events
    (pass each oldest first)."""
    yield patient_resource(patient)
    yield from medication_statements(patient, timeline)
    for treatment in treatments:
        yield treatment_resource(patient, treatment)
    for entry in entries:
        yield from observations(patient, entry)
    for event in events:
        yield event_observation(patient, event)


def collection(resources: Iterable[dict[str, Any]], *, now: dt.datetime) -> dict[str, Any]:
    """Resources as a ``collection`` Bundle, in the order given."""
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now.isoformat()},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [_entry(r) for r in resources],
    }
