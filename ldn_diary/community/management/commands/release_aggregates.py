"""Compute (and optionally publish) a release of a support group's aggregates, in-process.

    manage.py release_aggregates GROUP_SLUG [--epsilon E] [--publish] [--json]

The release spends ε from the group's budget like one computed from the moderator's page; a
release past the budget is refused with a message naming it, and the command exits non-zero.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ldn_diary.community import display, services
from ldn_diary.community.display import public_url
from ldn_diary.community.models import SupportGroup


class Command(BaseCommand):
    help = "Compute a release of a support group's anonymised aggregates (spends its ε)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("group", metavar="GROUP_SLUG", help="The group's short name (slug).")
        parser.add_argument(
            "--epsilon",
            help="ε to spend on this release (default: the group's ε per release).",
        )
        parser.add_argument(
            "--publish", action="store_true", help="Publish it with a public link too."
        )
        parser.add_argument("--json", action="store_true", help="Print the release as JSON.")

    def handle(self, *args: Any, **opts: Any) -> None:
        group = SupportGroup.objects.filter(slug=opts["group"]).first()
        if group is None:
            raise CommandError(f"There is no support group with the short name {opts['group']!r}.")
        try:
            release = services.release_request(group=group, epsilon=opts["epsilon"], enqueue=False)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        release = services.release_compute(release_id=release.pk)
        if opts["publish"]:
            release = services.release_publish(release=release)
        results = release.results
        if opts["json"]:
            body: dict[str, Any] = {
                "group": group.slug,
                "release": str(release.uuid),
                "epsilon": float(release.epsilon),
                "budget": {
                    "total": float(group.budget_total),
                    "spent": float(group.epsilon_spent),
                },
                "mechanism": results["mechanism"],
            }
            if release.is_public:
                body["public_url"] = public_url(release)
            body["tables"] = display.command_tables(results)
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"Release {release.uuid} of {group.slug}: ε = {services.eps(release.epsilon)}, "
            f"{services.eps(group.epsilon_left)} of the budget of "
            f"{services.eps(group.budget_total)} left."
        )
        for table in display.tables(results):
            self.stdout.write(f"\n{table.title}")
            if table.withheld:
                self.stdout.write(f"  {table.withheld}")
                continue
            for label, values in table.rows:
                pairs = ", ".join(f"{column}: {value}" for column, value in values)
                self.stdout.write(f"  {label}: {pairs}")
        if release.is_public:
            self.stdout.write(self.style.SUCCESS(f"\nPublished: {public_url(release)}"))
