from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class LdnUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "display_name", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("LDN Diary", {"fields": ("role", "display_name", "time_zone")}),
    )
