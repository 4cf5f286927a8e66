"""Recompute stored trends and response summaries now, in this process (no broker needed)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ldn_diary.trends.services import (
    RECOMPUTE_BATCH_SIZE,
    trends_recompute_all,
    trends_recompute_patients,
)

from ._patients import patient_by_username


class Command(BaseCommand):
    help = "Recompute trends and response summaries for one patient (--patient) or all (--all)."

    def add_arguments(self, parser: CommandParser) -> None:
        # Checked in handle() rather than by an argparse group, so a missing option gets our
        # own message and exit status 1 like every other error here.
        parser.add_argument("--patient", metavar="USERNAME", help="One patient, by username.")
        parser.add_argument("--all", action="store_true", help="Every patient, with progress.")
        parser.add_argument("--batch-size", type=int, default=RECOMPUTE_BATCH_SIZE)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Rewrite every stored result, even those that come out unchanged.",
        )

    def handle(self, *args, **opts) -> None:
        if bool(opts["patient"]) == bool(opts["all"]):
            raise CommandError("Give either --patient USERNAME or --all.")
        if opts["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.perf_counter()
        if opts["patient"]:
            patient = patient_by_username(opts["patient"])
            counts = trends_recompute_patients(patient_ids=[patient.pk], force=opts["force"])
        else:
            bar: tqdm | None = None

            def progress(done: int, total: int) -> None:
                nonlocal bar
                if bar is None:
                    bar = tqdm(total=total, unit="patient", file=self.stderr._out)
                bar.update(done - bar.n)

            try:
                counts = trends_recompute_all(
                    batch_size=opts["batch_size"], progress=progress, force=opts["force"]
                )
            finally:
                if bar is not None:
                    bar.close()
        seconds = time.perf_counter() - started
        if counts.failed:
            self.stderr.write(
                f"{counts.failed} patient(s) could not be computed (their data is out of bounds "
                "or breaks the engine); see the log for their ids. The others were stored."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {counts.patients} patient(s): {counts.entries} entries, "
                f"{counts.days} trend days ({counts.days_written} rewritten, the rest "
                f"unchanged), in {seconds:.1f} s."
            )
        )
