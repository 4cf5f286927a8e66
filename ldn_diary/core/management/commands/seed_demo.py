from __future__ import annotations

import base64
import zoneinfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ldn_diary.accounts import twofactor
from ldn_diary.accounts.models import Role, User
from ldn_diary.accounts.services import user_create
from ldn_diary.clinic.services import link_grant
from ldn_diary.community.demo import GROUP_SLUG as DEMO_GROUP
from ldn_diary.community.demo import demo_public_url, seed_demo_group
from ldn_diary.core import demo
from ldn_diary.diary.models import DiaryEntry, DoseChange, LifeEvent, TitrationPlan, Treatment
from ldn_diary.questionnaires.models import QuestionnaireResponse
from ldn_diary.trends.services import trends_mark_dirty, trends_recompute_patients


class Command(BaseCommand):
    help = "Create demo users and ~30 realistic patient diaries (idempotent; --reset rebuilds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo users and build them again."
        )

    def handle(self, *args, **opts) -> None:
        demo_users = User.objects.filter(
            Q(username__startswith=demo.PATIENT_PREFIX)
            | Q(username__in=[demo.CLINICIAN, demo.MODERATOR])
        )
        if opts["reset"]:
            deleted = demo_users.count()
            demo_users.delete()
            self.stdout.write(f"Removed {deleted} demo users.")
        elif User.objects.filter(username=demo.CLINICIAN).exists():
            self.stdout.write("Demo data already present (use --reset to rebuild).")
            self._print_logins()
            return
        patients = self._build()
        # Computed here, in-process, so the dashboards are current the moment the server starts.
        trends_recompute_patients(patient_ids=[p.pk for p in patients])
        # The support group's release reads those stored trends, so it comes after them.
        seed_demo_group(moderator=User.objects.get(username=demo.MODERATOR), patients=patients)
        self.stdout.write(self.style.SUCCESS(f"Created {len(patients)} demo patients."))
        self._print_logins()

    @transaction.atomic
    def _build(self) -> list[User]:
        tz = zoneinfo.ZoneInfo(settings.DEFAULT_PATIENT_TIME_ZONE)
        today = timezone.now().astimezone(tz).date()
        clinician, _ = user_create(
            username=demo.CLINICIAN,
            role=Role.CLINICIAN,
            email="clinician@example.org",
            password=demo.DEMO_PASSWORD,
            display_name="Dr Rivera",
        )
        user_create(
            username=demo.MODERATOR,
            role=Role.MODERATOR,
            email="moderator@example.org",
            password=demo.DEMO_PASSWORD,
            display_name="Sam (support group)",
        )
        patients: list[User] = []
        entries: list[DiaryEntry] = []
        doses: list[DoseChange] = []
        plans: list[TitrationPlan] = []
        treatments: list[Treatment] = []
        events: list[LifeEvent] = []
        responses: list[QuestionnaireResponse] = []
        for spec in demo.build_cohort(today=today):
            patient, _ = user_create(
                username=spec.username,
                role=Role.PATIENT,
                email=f"{spec.username}@example.org",
                password=demo.DEMO_PASSWORD,
                display_name=spec.display_name,
            )
            patients.append(patient)
            patient_entries, patient_doses, plan = demo.diary_rows(patient, spec)
            entries += patient_entries
            doses += patient_doses
            plans.append(plan)
            patient_treatments, patient_events, patient_responses = demo.context_rows(patient, spec)
            treatments += patient_treatments
            events += patient_events
            responses += patient_responses
            # Two patients have not (yet) shared their diary with the clinician: consent is theirs.
            if spec.username not in (f"{demo.PATIENT_PREFIX}28", f"{demo.PATIENT_PREFIX}29"):
                link_grant(patient=patient, clinician=clinician)
        DiaryEntry.objects.bulk_create(entries, batch_size=2000)
        DoseChange.objects.bulk_create(doses, batch_size=2000)
        TitrationPlan.objects.bulk_create(plans)
        Treatment.objects.bulk_create(treatments)
        LifeEvent.objects.bulk_create(events)
        QuestionnaireResponse.objects.bulk_create(responses)
        for patient in patients:
            trends_mark_dirty(patient_id=patient.pk)
        return patients

    def _demo_second_factor(self) -> tuple[str, dict[str, list[str]]]:
        """Give the demo clinician and moderator the fixed demo authenticator (DEMO_TOTP_SECRET)
        and fresh recovery codes, replaced on every run. Returns the code an authenticator shows
        now and a few recovery codes per account, for the logins printed below."""
        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        key = base64.b32decode(demo.DEMO_TOTP_SECRET).hex()
        codes: dict[str, list[str]] = {}
        for user in User.objects.filter(username__in=[demo.CLINICIAN, demo.MODERATOR]):
            TOTPDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.create(user=user, name=twofactor.TOTP_NAME, key=key, confirmed=True)
            fresh = twofactor.recovery_codes_replace(user=user)
            codes[user.username] = fresh[: demo.DEMO_RECOVERY_CODES_PRINTED]
        return f"{totp(bytes.fromhex(key)):06d}", codes

    def _print_logins(self) -> None:
        current, codes = self._demo_second_factor()
        self.stdout.write(
            "\nDemo logins (password for all: {pw})\n"
            "  patient:    {p1}  (a responder; more: {prefix}01 … {prefix}30)\n"
            "  clinician:  {c}\n"
            "  moderator:  {m}  (support group {g})\n"
            "\nThe clinician and the moderator also give a second factor after the password:\n"
            "  an authenticator app with the demo key {secret}\n"
            "  (its code right now is {current}; it changes every 30 seconds),\n"
            "  or one of these single-use recovery codes (new ones on every seed_demo run):\n"
            "    {c}: {c_codes}\n"
            "    {m}: {m_codes}\n"
            "\nThe demo group's published release (no login needed):\n  {url}\n".format(
                pw=demo.DEMO_PASSWORD,
                p1=f"{demo.PATIENT_PREFIX}01",
                prefix=demo.PATIENT_PREFIX,
                c=demo.CLINICIAN,
                m=demo.MODERATOR,
                g=DEMO_GROUP,
                secret=demo.DEMO_TOTP_SECRET,
                current=current,
                c_codes=" ".join(codes.get(demo.CLINICIAN, [])),
                m_codes=" ".join(codes.get(demo.MODERATOR, [])),
                url=demo_public_url() or "(none)",
            )
        )
