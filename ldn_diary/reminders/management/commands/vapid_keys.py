"""``manage.py vapid_keys``: print a new VAPID key pair for Web Push reminders."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ldn_diary.reminders.keys import new_pair


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push, as lines for .env. Keep the private key "
        "secret (or put it in a file named by VAPID_PRIVATE_KEY_FILE); changing the pair later "
        "means every browser has to allow notifications again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = new_pair()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
        self.stdout.write("VAPID_SUBJECT=mailto:you@example.org")
