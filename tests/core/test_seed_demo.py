from __future__ import annotations

import io
import statistics

from django.core.management import call_command

from ldn_diary.accounts.models import Role, User
from ldn_diary.clinic.models import CareLink
from ldn_diary.diary.models import DiaryEntry, DoseChange, LifeEvent, TitrationPlan, Treatment
from ldn_diary.questionnaires.models import QuestionnaireResponse
from ldn_diary.trends.models import ResponseSummary


def cohort() -> dict[str, object]:
    """The demo data's content, keyed by username so new primary keys do not matter."""
    users = {u.username: (u.role, u.display_name, u.email, u.time_zone) for u in User.objects.all()}
    entries = sorted(
        DiaryEntry.objects.values_list(
            "patient__username", "date", "pain", "fatigue", "sleep", "mood", "dreams",
            "side_effects", "side_effect_other", "dose_taken", "note", "backfilled",
        )
    )  # fmt: skip
    doses = sorted(
        DoseChange.objects.values_list(
            "patient__username", "effective_date", "dose_ug", "time_of_day", "formulation",
            "from_plan",
        )
    )  # fmt: skip
    plans = sorted(
        TitrationPlan.objects.values_list(
            "patient__username", "start_ug", "step_ug", "interval_days", "target_ug"
        )
    )
    links = sorted(
        CareLink.objects.values_list("patient__username", "clinician__username", "revoked_at")
    )
    summaries = {
        s.patient.username: s.data for s in ResponseSummary.objects.select_related("patient")
    }
    treatments = sorted(
        Treatment.objects.values_list(
            "patient__username", "name", "category", "start_date", "stop_date", "note"
        ),
        key=str,
    )
    events = sorted(LifeEvent.objects.values_list("patient__username", "date", "kind", "text"))
    questionnaires = sorted(
        (r.patient.username, r.instrument, r.week, sorted(r.answers.items()), r.completed_at)
        for r in QuestionnaireResponse.objects.select_related("patient")
    )
    return {
        "users": users,
        "entries": entries,
        "doses": doses,
        "plans": plans,
        "links": links,
        "summaries": summaries,
        "treatments": treatments,
        "events": events,
        "questionnaires": questionnaires,
    }


def test_it_is_idempotent_and_reset_rebuilds_the_same_cohort(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = cohort()
    assert len(first["users"]) == 32 and len(first["entries"]) > 2500
    assert "demo-clinician" in out.getvalue() and "ldn-demo-2026" in out.getvalue()
    call_command("seed_demo", stdout=io.StringIO())
    assert cohort() == first
    call_command("seed_demo", "--reset", stdout=io.StringIO())
    again = cohort()
    for part, content in first.items():
        assert again[part] == content, f"--reset rebuilt different {part}"


def test_the_cohort_is_believable(db):
    call_command("seed_demo", stdout=io.StringIO())
    patients = User.objects.filter(role=Role.PATIENT)
    assert 28 <= patients.count() <= 32
    assert User.objects.filter(role=Role.CLINICIAN).count() == 1
    assert User.objects.filter(role=Role.MODERATOR).count() == 1
    for patient in patients:
        doses = list(DoseChange.objects.filter(patient=patient).order_by("effective_date"))
        entries = DiaryEntry.objects.filter(patient=patient)
        start = doses[0].effective_date
        # A 14-day baseline before therapy start, then 12+ weeks of diary with some gaps.
        assert entries.filter(date__lt=start).exists()
        span = (entries.order_by("-date")[0].date - start).days
        assert span >= 12 * 7 - 10
        assert (
            entries.count()
            < (entries.order_by("-date")[0].date - entries.order_by("date")[0].date).days + 1
        )
        assert [d.dose_ug for d in doses] == sorted(d.dose_ug for d in doses)
    ultra = DoseChange.objects.filter(dose_ug=1)
    assert ultra.exists(), "one patient titrates ultra-low from 1 microgram"
    assert DoseChange.objects.filter(dose_ug=6000).exists()
    vivid = DiaryEntry.objects.filter(dreams="vivid").count()
    assert vivid > 50
    # Day-to-day noise of about 1.6 points: the baseline-period SD of pain within a patient.
    sds = []
    for patient in patients:
        start = (
            DoseChange.objects.filter(patient=patient).order_by("effective_date")[0].effective_date
        )
        pains = list(
            DiaryEntry.objects.filter(patient=patient, date__lt=start).values_list(
                "pain", flat=True
            )
        )
        if len(pains) > 5:
            sds.append(statistics.stdev(pains))
    assert 1.1 < statistics.median(sds) < 2.0


def test_the_demo_shows_every_kind_of_response(db):
    from ldn_diary.trends.models import TrendSeries

    call_command("seed_demo", stdout=io.StringIO())
    classes = {
        s.data["windows"][2]["symptoms"]["pain"]["class"] for s in ResponseSummary.objects.all()
    }
    assert {"none", "minimal", "moderate", "substantial"} <= classes
    # At least one patient worsens by 30 % or more, so the roster's worsening flag has a case.
    latest = dict(TrendSeries.objects.values_list("patient_id", "last_pain_pct"))
    assert any(pct is not None and pct <= -30 for pct in latest.values())


def test_the_demo_clinician_can_sign_in_with_what_seed_demo_prints(client, db, clock):
    import datetime as dt
    import re

    from django.urls import reverse

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    current = re.search(r"its code right now is (\d{6})", printed).group(1)
    recovery = re.search(r"demo-moderator: ([a-z2-7 ]+)\n", printed).group(1).split()
    assert len(recovery) == 5
    login = {"username": "demo-clinician", "password": "ldn-demo-2026"}
    client.post(reverse("accounts:login"), login)
    assert client.get(reverse("clinic:roster")).status_code == 302  # the code first
    client.post(reverse("accounts:two_factor"), {"code": current})
    assert client.get(reverse("clinic:roster")).status_code == 200
    # The moderator, with a printed recovery code, once.
    other = type(client)()
    other.post(reverse("accounts:login"), {**login, "username": "demo-moderator"})
    other.post(reverse("accounts:two_factor"), {"code": recovery[0]})
    assert other.get(reverse("community:home")).status_code == 200
    # A second run replaces the recovery codes: the printed ones from before stop working.
    call_command("seed_demo", stdout=io.StringIO())
    clock.shift(dt.timedelta(seconds=2))
    third = type(client)()
    third.post(reverse("accounts:login"), {**login, "username": "demo-moderator"})
    third.post(reverse("accounts:two_factor"), {"code": recovery[1]})
    assert third.get(reverse("community:home")).status_code == 302


def test_the_demo_has_questionnaires_treatments_and_one_opioid_with_ldn(db):
    """Most patients answered on schedule, a responder's FIQR falls by the MCID or more, a few
    other treatments and flares, and the roster flags exactly one patient for opioid + LDN."""
    import zoneinfo

    from django.conf import settings
    from django.utils import timezone

    from ldn_diary.clinic import presentation, rules
    from ldn_diary.clinical import fiqr_mcid_met
    from ldn_diary.core import demo
    from ldn_diary.questionnaires.selectors import completed_for
    from ldn_diary.questionnaires.summary import summarise

    call_command("seed_demo", stdout=io.StringIO())
    clinician = User.objects.get(username="demo-clinician")
    flagged = [r.name for r in presentation.roster(clinician).rows if rules.OPIOID in r.flag_codes]
    assert len(flagged) == 1
    assert Treatment.objects.filter(category="opioid").count() == 1
    assert Treatment.objects.filter(category="gabapentinoid").count() == 2
    assert Treatment.objects.filter(category="physical_therapy").exists()
    assert LifeEvent.objects.filter(kind="flare").count() >= 10
    answered = QuestionnaireResponse.objects.values("patient").distinct().count()
    assert 24 <= answered <= 27  # most, not all
    # Every stored response is finished, and scores through the pure functions.
    summaries = {
        p.username: summarise(completed_for(p)) for p in User.objects.filter(role=Role.PATIENT)
    }
    assert sum(len(s.fiqr) for s in summaries.values()) >= 24 * 3
    assert all(r.total is not None for s in summaries.values() for r in s.fiqr)
    # Responders (substantial and moderate profiles) reach the MCID by their latest FIQR.
    tz = zoneinfo.ZoneInfo(settings.DEFAULT_PATIENT_TIME_ZONE)
    cohort_specs = demo.build_cohort(today=timezone.now().astimezone(tz).date())
    for spec in cohort_specs:
        fiqr = summaries[spec.username].fiqr
        if spec.profile.name in ("substantial", "moderate") and len(fiqr) >= 3:
            assert fiqr_mcid_met(fiqr[0].total, fiqr[-1].total), spec.username
        if spec.profile.name in ("none", "worse") and len(fiqr) >= 3:
            assert not fiqr_mcid_met(fiqr[0].total, fiqr[-1].total), spec.username
    assert any(r.met for s in summaries.values() for r in s.acr)
    assert any(r.responder for s in summaries.values() for r in s.pgic)
