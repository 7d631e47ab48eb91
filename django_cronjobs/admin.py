"""Read-only admin for the run history: logs change only through runcrons."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CronJobLog


@admin.register(CronJobLog)
class CronJobLogAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["code", "status", "slot", "start_time", "end_time", "hostname"]
    list_filter = ["status"]
    search_fields = ["code"]
    show_full_result_count = False
    ordering = ["-start_time"]
    readonly_fields = [field.name for field in CronJobLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
