"""The run history in the admin: read-only, and fast on millions of rows.

Logs change only through runcrons and retention, so the admin offers no
add, change or delete. Nothing on the list scans the table: the code filter
and the search take their choices from CRON_CLASSES instead of a DISTINCT
over the log, the date filter offers fixed ranges instead of a date
hierarchy, and the paginator counts at most :data:`COUNT_LIMIT` rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..jobs.base import load_jobs
from ..models import CronJobLog, RunStatus
from ..text.log_text import failure_reason, shortened
from ..text.moments import duration_text, local

# How many matching rows the list counts at most; its pages stop there.
COUNT_LIMIT = 10_000

STATUS_COLOURS: dict[str, str] = {
    RunStatus.ENQUEUED: "#6a5acd",
    RunStatus.RUNNING: "#2f6fb3",
    RunStatus.SUCCEEDED: "#2e7d32",
    RunStatus.FAILED: "#c62828",
    RunStatus.TIMED_OUT: "#c62828",
    RunStatus.INTERRUPTED: "#ef6c00",
    RunStatus.ABANDONED: "#ef6c00",
    RunStatus.MISSED: "#757575",
}
STATUS_SYMBOLS: dict[str, str] = {
    RunStatus.ENQUEUED: "\N{HOURGLASS WITH FLOWING SAND}",
    RunStatus.RUNNING: "\N{BLACK RIGHT-POINTING TRIANGLE}",
    RunStatus.SUCCEEDED: "\N{HEAVY CHECK MARK}",
    RunStatus.FAILED: "\N{HEAVY BALLOT X}",
    RunStatus.TIMED_OUT: "\N{STOPWATCH}",
    RunStatus.INTERRUPTED: "\N{BLACK SQUARE FOR STOP}",
    RunStatus.ABANDONED: "\N{WARNING SIGN}",
    RunStatus.MISSED: "\N{CIRCLED MINUS}",
}


def configured_codes() -> list[str]:
    """The codes of the jobs in CRON_CLASSES that resolve, in their order."""
    return [entry.code for entry in load_jobs() if entry.job_class is not None]


def status_mark(status: str) -> str:
    """A coloured symbol and the status's name, as HTML."""
    label = RunStatus(status).label if status in RunStatus.values else status
    return format_html(
        '<span class="cronjobs-status cronjobs-status-{}" style="color: {}">'
        '<span aria-hidden="true">{}</span> {}</span>',
        status,
        STATUS_COLOURS.get(status, "#757575"),
        STATUS_SYMBOLS.get(status, "?"),
        label,
    )


def short_duration(duration: timedelta | None) -> str:
    """``1.234 s``, ``2 min 5 s``, ``3 h 4 min``; empty while running."""
    return duration_text(None if duration is None else duration.total_seconds())


class CodeFilter(admin.SimpleListFilter):
    """Jobs by code, listed from CRON_CLASSES (no DISTINCT over the log)."""

    title = _("job")
    parameter_name = "code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in configured_codes()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        code = self.value()
        return queryset.filter(code=code) if code else queryset


# Characters of a message the log's list shows.
MESSAGE_LINE = 80
MESSAGE_STYLE = "white-space: pre-wrap; overflow-wrap: anywhere; margin: 0"


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most COUNT_LIMIT rows: a COUNT(*) over millions would be slow."""

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        return int(rows[: COUNT_LIMIT + 1].count())


# A run's page: what happened first (its message, wrapped), where and by
# which process after it.
DETAIL_FIELDS: Any = [
    "code",
    "entry",
    "status_icon",
    "message_text",
    "slot_time",
    "ran_at_time",
    "started",
    "ended",
    "run_duration",
    "hostname",
    "pid",
    "host_id",
    "lease_until",
    "task_id",
]


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Nothing to add, change or delete: the engine writes these rows."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CronJobLog)
class CronJobLogAdmin(ReadOnlyAdmin):
    list_display = [
        "job",
        "status_icon",
        "slot_time",
        "started",
        "run_duration",
        "message_line",
        "hostname",
    ]
    list_display_links = ["job"]
    list_filter = [CodeFilter, "status", ("start_time", admin.DateFieldListFilter)]
    search_fields = ["code"]
    search_help_text = _("Job code, or part of the code of a configured job.")
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-start_time", "-pk"]
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[CronJobLog]:
        duration = ExpressionWrapper(F("end_time") - F("start_time"), output_field=DurationField())
        runs: QuerySet[CronJobLog] = super().get_queryset(request)
        return runs.annotate(duration_value=duration)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[CronJobLog], search_term: str
    ) -> tuple[QuerySet[CronJobLog], bool]:
        """Codes that equal the term, or configured codes that contain it.

        An index on code serves ``code IN (...)``; ``LIKE '%term%'`` over the
        log would read every row.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        codes = {term, *(code for code in configured_codes() if term.lower() in code.lower())}
        return queryset.filter(code__in=sorted(codes)), False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        """A run's page is titled with its status word, as the list and runcrons say
        it (``failed``), not django-cron's ``(Fail)`` of ``str(run)``."""
        run = self.get_object(request, object_id)
        if run is not None:
            status = run.get_status_display()
            extra_context = {**(extra_context or {}), "subtitle": f"{run.run_name} ({status})"}
        return super().change_view(request, object_id, form_url, extra_context)

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        # An entry's page links to its runs: ?code=...&entry=...
        if lookup == "entry":
            return True
        return bool(super().lookup_allowed(lookup, value, request))

    @admin.display(description=_("code"), ordering="code")
    def job(self, run: CronJobLog) -> str:
        """The job's code, or ``code[key]`` for a run of an entry."""
        return run.run_name

    @admin.display(description=_("status"), ordering="status")
    def status_icon(self, run: CronJobLog) -> str:
        return status_mark(run.status)

    @admin.display(description=_("scheduled slot"), ordering="slot")
    def slot_time(self, run: CronJobLog) -> str:
        return local(run.slot)

    @admin.display(description=_("start time"), ordering="start_time")
    def started(self, run: CronJobLog) -> str:
        """A missed slot never started: no moment to show."""
        return "-" if run.status == RunStatus.MISSED else local(run.start_time)

    @admin.display(description=_("end time"))
    def ended(self, run: CronJobLog) -> str:
        return local(run.end_time)

    @admin.display(description=_("lease expires at"))
    def lease_until(self, run: CronJobLog) -> str:
        return local(run.lease_expires_at)

    @admin.display(description=_("duration"), ordering="duration_value")
    def run_duration(self, run: CronJobLog) -> str:
        return "-" if run.status == RunStatus.MISSED else short_duration(run.duration)

    @admin.display(description=_("message"))
    def message_line(self, run: CronJobLog) -> str:
        """One line of the message: a failure's reason (a traceback's last line)."""
        if run.is_success or run.status in (RunStatus.RUNNING, RunStatus.ENQUEUED):
            text = run.message.strip().splitlines()[0] if run.message.strip() else ""
        else:
            text = failure_reason(run.status, run.message)
        return shortened(text, MESSAGE_LINE)

    @admin.display(description=_("message"))
    def message_text(self, run: CronJobLog) -> str:
        # The style sits on the element: the log pages load no stylesheet of
        # the app's, and a traceback's long lines must wrap, not be clipped.
        return format_html(
            '<pre class="cronjobs-message" style="{}">{}</pre>', MESSAGE_STYLE, run.message
        )
