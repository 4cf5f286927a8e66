"""A patient's questionnaires as FHIR R4 (4.0.1) resources, for their own download.

``core.datarights.fhir_export`` puts these in the same Bundle as the diary (``diary.fhir``,
whose helpers build them here: the diary may not import this app). Per stored response:

- one ``QuestionnaireResponse``: ``questionnaire`` is the canonical URL
  ``urn:ldn-diary:Questionnaire/<fiqr|acr2016|pgic>`` (this project's identifier of the
  instrument; no Questionnaire resource is published there), ``status`` ``completed`` once
  finished and ``in-progress`` while a draft, ``authored`` the time it was finished (a draft:
  its last save), the therapy week it belongs to (0 = baseline, 4, 8, 12) in the extension
  ``THERAPY_WEEK``, and one ``item`` per answered question, ``linkId`` the item's key as stored
  (``rules``: "1".."21" for the FIQR, ``painful_areas``, ``fatigue``... for the ACR 2016
  questions, ``answer`` for the PGIC). A 0-10 or 0-3 rating is ``valueInteger``, yes or no is
  ``valueBoolean``, a painful area (one answer each, or ``none`` when no area was ticked) and
  the PGIC's answer are ``valueCoding`` in local code systems, with the form's words as display.
  A response that holds no answer (a card only put off with "Not now") is left out: there is
  nothing in it to hand over;
- for each finished FIQR whose total can be scored (docs/clinical-rules.md §4: not with more
  than one gap in a domain), an ``Observation`` with the total as ``valueQuantity`` (UCUM
  ``{score}``), the three domain scores as components, and
  ``derivedFrom`` its response. Its code is the local ``fiqr-total``: we found no LOINC code for
  the FIQR total (nor for the FIQR at all) in anything we could consult offline, and a code that
  cannot be checked is worse than a local one, so none is claimed.

The scores are ``ldn_diary.clinical``'s, through ``rules.fiqr_answers``, as the clinician's pages
score them; nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ldn_diary.accounts.models import User
from ldn_diary.clinical import questionnaires as q
from ldn_diary.diary.fhir import LOCAL, SURVEY, UCUM, concept, derived_id, reference

from . import rules
from .models import QuestionnaireResponse
from .schedule import ACR2016, FIQR, PGIC

QUESTIONNAIRES = "urn:ldn-diary:Questionnaire"  # + "/fiqr": each instrument's canonical URL
THERAPY_WEEK = "urn:ldn-diary:StructureDefinition/therapy-week"
BODY_AREA_CODES = f"{LOCAL}:acr-body-area"
PGIC_CODES = f"{LOCAL}:pgic"
SCORE_CODES = f"{LOCAL}:questionnaire-score"
NO_AREA = ("none", "No painful area")
FIQR_TOTAL_TEXT = "FIQR total score, 0 (no impact) to 100"
DOMAIN_TEXT = {
    "function": "FIQR function, 0-30",
    "overall": "FIQR overall impact, 0-20",
    "symptoms": "FIQR symptoms, 0-50",
}
_FIQR_TEXT = {str(item.number): item.text for item in q.FIQR_ITEMS}


def answered_items(instrument: str, answers: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(item key, answer) for every answered item, in the questionnaire's order; a key the
    questionnaire does not ask (none is saved so, ``rules.answer_problems``) would follow,
    sorted, so that the export still holds everything stored."""
    known = rules.INSTRUMENTS[instrument].fields
    keys = [*known, *sorted(set(answers) - set(known))]
    return [(key, answers[key]) for key in keys if answers.get(key) is not None]


def question_text(instrument: str, key: str) -> str | None:
    """The question as the form asks it."""
    if instrument == FIQR:
        return _FIQR_TEXT.get(key)
    if instrument == PGIC:
        return rules.INSTRUMENTS[PGIC].part(1).intro
    if key == "painful_areas":
        return rules.INSTRUMENTS[ACR2016].part(1).intro
    return rules.ACR_QUESTIONS.get(key)


def _answers(instrument: str, key: str, value: Any) -> list[dict[str, Any]]:
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    if key == "painful_areas" and isinstance(value, list | tuple):
        areas = [(a, q.BODY_AREA_LABELS.get(a, a)) for a in value] or [NO_AREA]
        return [
            {"valueCoding": {"system": BODY_AREA_CODES, "code": code, "display": label}}
            for code, label in areas
        ]
    if instrument == PGIC and isinstance(value, int):
        label = dict(q.PGIC_CHOICES).get(value, str(value))
        return [{"valueCoding": {"system": PGIC_CODES, "code": str(value), "display": label}}]
    if isinstance(value, int):
        return [{"valueInteger": value}]
    return [{"valueString": str(value)}]


def response_resource(patient: User, response: QuestionnaireResponse) -> dict[str, Any]:
    items = []
    for key, value in answered_items(response.instrument, response.answers):
        item: dict[str, Any] = {"linkId": key}
        if text := question_text(response.instrument, key):
            item["text"] = text
        item["answer"] = _answers(response.instrument, key, value)
        items.append(item)
    authored = response.completed_at or response.updated_at
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": derived_id(response.uuid, "QuestionnaireResponse"),
        "extension": [{"url": THERAPY_WEEK, "valueInteger": response.week}],
        "questionnaire": f"{QUESTIONNAIRES}/{response.instrument}",
        "status": "completed" if response.completed_at else "in-progress",
        "subject": reference(patient),
        "authored": authored.isoformat(),
        "author": reference(patient),
        "source": reference(patient),
    }
    if items:
        resource["item"] = items
    return resource


def _score(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


def fiqr_total_observation(
    patient: User, response: QuestionnaireResponse, response_id: str
) -> dict[str, Any] | None:
    """The finished FIQR's total as an Observation, or None when the total is not scored."""
    if response.completed_at is None:
        return None
    score = q.fiqr_score(rules.fiqr_answers(response.answers))
    if score.total is None:
        return None
    # A total is scored only when all three domains are (clinical.questionnaires.fiqr_score).
    components = [
        {
            "code": concept(SCORE_CODES, f"fiqr-{domain}", text, text),
            "valueQuantity": _score(getattr(score, domain)),
        }
        for domain, text in DOMAIN_TEXT.items()
    ]
    return {
        "resourceType": "Observation",
        "id": derived_id(response.uuid, "fiqr-total"),
        "extension": [{"url": THERAPY_WEEK, "valueInteger": response.week}],
        "status": "final",
        "category": [SURVEY],
        "code": concept(SCORE_CODES, "fiqr-total", FIQR_TOTAL_TEXT, FIQR_TOTAL_TEXT),
        "subject": reference(patient),
        "effectiveDateTime": response.completed_at.isoformat(),
        "issued": response.completed_at.isoformat(),
        "performer": [reference(patient)],
        "valueQuantity": _score(score.total),
        "derivedFrom": [{"reference": f"urn:uuid:{response_id}"}],
        "component": components,
    }


def questionnaire_resources(
    patient: User, responses: Iterable[QuestionnaireResponse]
) -> Iterator[dict[str, Any]]:
    """Each response with an answer, followed by its FIQR total when there is one."""
    for response in responses:
        if not answered_items(response.instrument, response.answers):
            continue
        resource = response_resource(patient, response)
        yield resource
        if response.instrument == FIQR:
            total = fiqr_total_observation(patient, response, resource["id"])
            if total is not None:
                yield total
