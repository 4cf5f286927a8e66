"""The fixed lists a diary entry or dose change chooses from (docs/clinical-rules.md §1)."""

from __future__ import annotations

from django.db import models


class Dreams(models.TextChoices):
    NONE = "none", "None"
    NORMAL = "normal", "Normal"
    VIVID = "vivid", "Vivid"
    NIGHTMARES = "nightmares", "Nightmares"


class SideEffect(models.TextChoices):
    VIVID_DREAMS = "vivid_dreams", "Vivid dreams"
    INSOMNIA = "insomnia", "Insomnia"
    HEADACHE = "headache", "Headache"
    NAUSEA = "nausea", "Nausea"
    ANXIETY = "anxiety", "Anxiety"
    OTHER = "other", "Other"


class DoseTaken(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"
    # Stored on days without LDN (before the first dose, or paused at 0 mg), when the question
    # is not asked: adherence leaves these days out (docs/clinical-rules.md §1 and §3).
    NOT_APPLICABLE = "na", "Not asked (no LDN that day)"


# The answers a patient can give on a day on LDN.
DOSE_ANSWERS = (DoseTaken.YES, DoseTaken.PARTLY, DoseTaken.NO)


class TimeOfDay(models.TextChoices):
    BEDTIME = "bedtime", "Bedtime"
    MORNING = "morning", "Morning"


class Formulation(models.TextChoices):
    CAPSULE = "capsule", "Capsule"
    LIQUID = "liquid", "Liquid"
    SUBLINGUAL = "sublingual", "Sublingual"
    CREAM = "cream", "Cream"
    OTHER = "other", "Other"


class TreatmentCategory(models.TextChoices):
    """Other medicines and therapies a patient records beside LDN (docs/clinical-rules.md §1)."""

    ANALGESIC = "analgesic", "Analgesic"
    OPIOID = "opioid", "Opioid"
    ANTIDEPRESSANT = "antidepressant", "Antidepressant / SNRI"
    GABAPENTINOID = "gabapentinoid", "Gabapentinoid"
    MUSCLE_RELAXANT = "muscle_relaxant", "Muscle relaxant"
    SLEEP_AID = "sleep_aid", "Sleep aid"
    SUPPLEMENT = "supplement", "Supplement"
    PHYSICAL_THERAPY = "physical_therapy", "Physical therapy"
    PSYCHOLOGICAL_THERAPY = "psychological_therapy", "Psychological therapy"
    OTHER = "other", "Other"


# Examples shown beside each category, so a patient can tell that tramadol is an opioid.
TREATMENT_EXAMPLES = {
    TreatmentCategory.ANALGESIC: "paracetamol, ibuprofen, naproxen",
    TreatmentCategory.OPIOID: "tramadol, codeine, oxycodone, morphine, tapentadol",
    TreatmentCategory.ANTIDEPRESSANT: "duloxetine, amitriptyline, milnacipran",
    TreatmentCategory.GABAPENTINOID: "pregabalin, gabapentin",
    TreatmentCategory.MUSCLE_RELAXANT: "cyclobenzaprine, tizanidine",
    TreatmentCategory.SLEEP_AID: "zopiclone, melatonin",
    TreatmentCategory.SUPPLEMENT: "vitamin D, magnesium",
    TreatmentCategory.PHYSICAL_THERAPY: "physiotherapy, graded exercise, hydrotherapy",
    TreatmentCategory.PSYCHOLOGICAL_THERAPY: "CBT, ACT, counselling",
    TreatmentCategory.OTHER: "anything else",
}


class LifeEventKind(models.TextChoices):
    FLARE = "flare", "Flare"
    LIFE_EVENT = "life_event", "Life event"
