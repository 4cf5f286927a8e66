from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ldn_diary.accounts.models import Role
from ldn_diary.accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user with a role. Prints a random password unless --password-stdin is given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        # No argparse `choices`, so an unknown role gets our own clear message and exit code 1.
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}.")
        parser.add_argument("--email", default="")
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )

    def handle(self, *args, **opts) -> None:
        password = None
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin was given but standard input was empty.")
        try:
            user, generated = user_create(
                username=opts["username"],
                role=opts["role"],
                email=opts["email"],
                password=password,
                display_name=opts["display_name"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.username!r}."))
        if generated:
            self.stdout.write(f"Password: {generated}")
