"""The fixed lists a diary entry or dose change chooses from (docs/clinical-rules.md §1)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dreams(models.TextChoices):
    NONE = "none", _("None")
    NORMAL = "normal", _("Normal")
    VIVID = "vivid", _("Vivid")
    NIGHTMARES = "nightmares", _("Nightmares")


class SideEffect(models.TextChoices):
    VIVID_DREAMS = "vivid_dreams", _("Vivid dreams")
    INSOMNIA = "insomnia", _("Insomnia")
    HEADACHE = "headache", _("Headache")
    NAUSEA = "nausea", _("Nausea")
    ANXIETY = "anxiety", _("Anxiety")
    OTHER = "other", _("Other")


class DoseTaken(models.TextChoices):
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")
    # Stored on days without LDN (before the first dose, or paused at 0 mg), when the question
    # is not asked: adherence leaves these days out (docs/clinical-rules.md §1 and §3).
    NOT_APPLICABLE = "na", _("Not asked (no LDN that day)")


# The answers a patient can give on a day on LDN.
DOSE_ANSWERS = (DoseTaken.YES, DoseTaken.PARTLY, DoseTaken.NO)


class TimeOfDay(models.TextChoices):
    BEDTIME = "bedtime", _("Bedtime")
    MORNING = "morning", _("Morning")


class Formulation(models.TextChoices):
    CAPSULE = "capsule", _("Capsule")
    LIQUID = "liquid", _("Liquid")
    SUBLINGUAL = "sublingual", _("Sublingual")
    CREAM = "cream", _("Cream")
    OTHER = "other", _("Other")


class TreatmentCategory(models.TextChoices):
    """Other medicines and therapies a patient records beside LDN (docs/clinical-rules.md §1)."""

    ANALGESIC = "analgesic", _("Analgesic")
    OPIOID = "opioid", _("Opioid")
    ANTIDEPRESSANT = "antidepressant", _("Antidepressant / SNRI")
    GABAPENTINOID = "gabapentinoid", _("Gabapentinoid")
    MUSCLE_RELAXANT = "muscle_relaxant", _("Muscle relaxant")
    SLEEP_AID = "sleep_aid", _("Sleep aid")
    SUPPLEMENT = "supplement", _("Supplement")
    PHYSICAL_THERAPY = "physical_therapy", _("Physical therapy")
    PSYCHOLOGICAL_THERAPY = "psychological_therapy", _("Psychological therapy")
    OTHER = "other", _("Other")


# Examples shown beside each category, so a patient can tell that tramadol is an opioid.
TREATMENT_EXAMPLES = {
    TreatmentCategory.ANALGESIC: _("paracetamol, ibuprofen, naproxen"),
    TreatmentCategory.OPIOID: _("tramadol, codeine, oxycodone, morphine, tapentadol"),
    TreatmentCategory.ANTIDEPRESSANT: _("duloxetine, amitriptyline, milnacipran"),
    TreatmentCategory.GABAPENTINOID: _("pregabalin, gabapentin"),
    TreatmentCategory.MUSCLE_RELAXANT: _("cyclobenzaprine, tizanidine"),
    TreatmentCategory.SLEEP_AID: _("zopiclone, melatonin"),
    TreatmentCategory.SUPPLEMENT: _("vitamin D, magnesium"),
    TreatmentCategory.PHYSICAL_THERAPY: _("physiotherapy, graded exercise, hydrotherapy"),
    TreatmentCategory.PSYCHOLOGICAL_THERAPY: _("CBT, ACT, counselling"),
    TreatmentCategory.OTHER: _("anything else"),
}


class LifeEventKind(models.TextChoices):
    FLARE = "flare", _("Flare")
    LIFE_EVENT = "life_event", _("Life event")
