from __future__ import annotations

from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "ldn_diary.community"
    label = "community"
    verbose_name = "Support groups"
