"""python manage.py import_diary --patient USERNAME FILE.csv

The same parser and the same all-or-nothing service as the import page. Every problem is
printed with its line number and nothing is written; the exit status is then non-zero.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ldn_diary.accounts.models import Role, User
from ldn_diary.diary.csvio import parse_diary_csv
from ldn_diary.diary.services import diary_import, import_plan


class Command(BaseCommand):
    help = "Import a diary CSV file (the export format) into a patient's diary, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patient", required=True, help="the patient's username")
        parser.add_argument("file", type=Path, help="CSV file in the diary export format")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report, write nothing"
        )

    def handle(self, *args, patient: str, file: Path, dry_run: bool, **options) -> None:
        user = User.objects.filter(username__iexact=patient).first()
        if user is None:
            raise CommandError(f"No user with username {patient!r}. Nothing was imported.")
        if user.role != Role.PATIENT or not user.is_active:
            raise CommandError(
                f"{user.username!r} is not an active patient (role: {user.role}); only a "
                "patient has a diary. Nothing was imported."
            )
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        today = user.local_today()
        parsed = parse_diary_csv(data, today=today)
        if not parsed.ok:
            for problem in parsed.errors:
                self.stderr.write(f"{file}: {problem}")
            if parsed.more_errors:
                self.stderr.write(f"{file}: ... and {parsed.more_errors} more problems")
            total = len(parsed.errors) + parsed.more_errors
            raise CommandError(
                f"{file} has {total} problem{'s' if total != 1 else ''}; nothing was imported. "
                "Fix the lines listed above and run the command again."
            )
        plan = import_plan(user, parsed.rows)
        if plan.problems:
            for problem in plan.problems:
                self.stderr.write(f"{file}: {problem}")
            raise CommandError(f"{file} does not fit the diary's doses; nothing was imported.")
        if dry_run:
            self.stdout.write(
                f"{file} is valid: {len(parsed.rows)} days ({len(plan.new)} new, "
                f"{len(plan.changed)} would be replaced, {len(plan.unchanged)} unchanged), "
                f"{len(plan.dose_changes)} dose change(s). Nothing was written (--dry-run)."
            )
            return
        try:
            result = diary_import(patient=user, rows=parsed.rows, today=today, by_command=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Imported for {user.username}: {result.summary()}"))
