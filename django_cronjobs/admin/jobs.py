"""The "Cron jobs" pages: every configured job at a glance, one job in depth.

The overview lists the jobs of CRON_CLASSES (not the state rows: a job
that never ran is there too) with their schedule, next runs, last outcome,
recent runs and durations. Pause, resume and run-now only set flags on the
job's state row for the next runcrons: no job code runs in a web request.
Each takes a POST (the admin checks its CSRF token) from a user with its
own permission, and is recorded in the admin's history (LogEntry).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ..jobs.base import job_path, load_jobs
from ..models import CronJob, RunStatus
from ..monitoring import controls
from ..monitoring.entries_health import entries_summary, failing_entries
from ..monitoring.overview import JobStatus, job_statuses, upcoming_runs
from ..monitoring.run_history import RECENT_RUNS, RunStats, RunSummary, recent_runs
from ..text.moments import duration_text, in_zone, local, local_in
from .charts import drawn_runs, duration_chart, run_strip, sparkline
from .log import ReadOnlyAdmin, status_mark

# Jobs per overview page.
JOBS_PER_PAGE = 100
# Upcoming runs shown per job.
UPCOMING = 5
# Runs in a job page's chart, and in its table.
CHART_RUNS = 200
TABLE_RUNS = 50

# The overview's filter by health, in the order of its links.
HEALTHS = ("overdue", "failing", "running", "paused", "never run", "ok")

PAUSE_PERMISSION = "django_cronjobs.pause_cronjob"
RUN_PERMISSION = "django_cronjobs.run_cronjob"


@dataclass
class JobRow:
    """What the pages show of one job."""

    status: JobStatus
    stats: RunStats
    upcoming: list[str]

    @property
    def code(self) -> str:
        return self.status.code

    @property
    def code_with_breaks(self) -> SafeString:
        """The code, escaped, with line-break opportunities after dots and underscores:
        a long code wraps at its parts instead of widening the table."""
        return mark_safe(re.sub(r"([._])", r"\1<wbr>", escape(self.code)))  # escaped first

    @property
    def url(self) -> str:
        return reverse("admin:django_cronjobs_cronjob_job", args=[self.code])

    @property
    def log_url(self) -> str:
        return log_list_url(code=self.code)

    @property
    def failures_url(self) -> str:
        return log_list_url(code=self.code, status__exact=RunStatus.FAILED)

    @property
    def last_status_mark(self) -> SafeString | str:
        return status_mark(self.status.last_status) if self.status.last_status else ""

    @property
    def last_succeeded(self) -> str:
        """When the last successful run started, in the job's zone, as times are written
        everywhere in the app; empty if none did."""
        moment = getattr(self.status.state, "last_succeeded_at", None)
        return "" if moment is None else in_zone(moment, self.zone)

    @property
    def last_started(self) -> str:
        return in_zone(self.status.last_started, self.zone)

    @property
    def zone(self) -> Any:
        return self.status.job_class.schedule.zone

    @property
    def success_rate(self) -> str:
        rate = self.stats.success_rate
        return "" if rate is None else f"{rate:.0%}"

    @property
    def average_duration(self) -> str:
        return duration_text(self.stats.average_seconds)

    @property
    def strip(self) -> SafeString:
        return run_strip(self.stats.runs, RECENT_RUNS)

    @property
    def sparkline(self) -> SafeString:
        return sparkline(self.stats.runs)


def log_list_url(**filters: str) -> str:
    return f"{reverse('admin:django_cronjobs_cronjoblog_changelist')}?{urlencode(filters)}"


def moments_in_zone(moments: list[datetime], job: JobStatus) -> list[str]:
    """The first moment with its zone, the next ones in the same zone without it."""
    zone = job.job_class.schedule.zone
    return [
        in_zone(moment, zone) if n == 0 else local_in(moment, zone)
        for n, moment in enumerate(moments)
    ]


@admin.register(CronJob)
class CronJobAdmin(ReadOnlyAdmin):
    """The Cron jobs page in place of a change list; nothing to add, change or delete."""

    overview_template = "admin/django_cronjobs/cronjob/overview.html"
    job_template = "admin/django_cronjobs/cronjob/job.html"

    def get_urls(self) -> list[URLPattern]:
        def view(function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(function)

        name = "django_cronjobs_cronjob_"
        return [
            # Each kind of address has its own prefix: a code may contain "/".
            path("pause/<path:code>/", view(self.pause_view), name=name + "pause"),
            path("resume/<path:code>/", view(self.resume_view), name=name + "resume"),
            path("run/<path:code>/", view(self.run_view), name=name + "run"),
            path("job/<path:code>/", view(self.job_view), name=name + "job"),
            *super().get_urls(),
        ]

    # -- pages ------------------------------------------------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        statuses = job_statuses(now, self._states())
        counts = Counter(job.health for job in statuses)
        health = request.GET.get("health", "")
        term = request.GET.get("q", "").strip()
        shown = [
            job
            for job in statuses
            if (not health or job.health == health) and term.lower() in job.code.lower()
        ]
        page = Paginator(shown, JOBS_PER_PAGE).get_page(request.GET.get("p"))
        runs = recent_runs(job.code for job in page)
        rows = [
            JobRow(
                job,
                RunStats(runs[job.code]),
                moments_in_zone(upcoming_runs(job.job_class, job.state, now, UPCOMING), job),
            )
            for job in page
        ]
        broken = [entry for entry in load_jobs() if entry.problems]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Cron jobs"),
            "rows": rows,
            "page": page,
            "health": health,
            "q": term,
            "total": len(statuses),
            "health_links": [
                (name, counts[name], urlencode({"health": name, **({"q": term} if term else {})}))
                for name in HEALTHS
                if counts[name]
            ],
            "filtered": bool(health or term),
            "broken": broken,
            "recent_runs": RECENT_RUNS,
            "log_url": log_list_url(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.overview_template, context)

    def job_view(self, request: HttpRequest, code: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        job = self._job(code, now)
        runs = recent_runs([code], CHART_RUNS)[code]
        row = JobRow(
            job,
            RunStats(runs[:RECENT_RUNS]),
            moments_in_zone(upcoming_runs(job.job_class, job.state, now, UPCOMING), job),
        )
        state = job.state if isinstance(job.state, CronJob) else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": code,
            "row": row,
            "job": job,
            "job_path": job_path(job.job_class),
            "recent_runs": RECENT_RUNS,
            "runs": [self._run_line(run) for run in runs[:TABLE_RUNS]],
            "chart": duration_chart(runs),
            "chart_runs": len(drawn_runs(runs)),
            "changes": self._changes(state),
            "history_url": (
                reverse("admin:django_cronjobs_cronjob_history", args=[state.pk]) if state else ""
            ),
            "can_pause": request.user.has_perm(PAUSE_PERMISSION),
            "can_run": request.user.has_perm(RUN_PERMISSION),
            **self._entries_context(code),
        }
        return TemplateResponse(request, self.job_template, context)

    @staticmethod
    def _entries_context(code: str) -> dict[str, Any]:
        """How the job's entries stand, for its page: counts, and the failing ones."""
        summary = entries_summary(code)
        listed = (
            f"{reverse('admin:django_cronjobs_cronentry_changelist')}?{urlencode({'job': code})}"
        )
        failing = [
            {
                "key": entry.key,
                "url": reverse("admin:django_cronjobs_cronentry_change", args=[entry.pk]),
                "mark": status_mark(entry.state.last_status),
                "streak": entry.state.failure_streak,
            }
            for entry in (failing_entries(code) if summary.failing else [])
        ]
        return {
            "entries": summary,
            "entries_url": listed,
            "failing_entries_url": f"{listed}&health=failing",
            "failing_entries": failing,
        }

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A state row's admin address leads to its job's page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        state = self.get_object(request, object_id)
        if state is None:
            raise Http404
        return redirect("admin:django_cronjobs_cronjob_job", state.job_name)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's history page, with its moments written as on the app's other pages."""
        response = super().history_view(request, object_id, extra_context)
        context = getattr(response, "context_data", None) or {}
        for entry in context.get("action_list") or []:
            entry.cronjobs_moment = local(entry.action_time)
        return response

    # -- actions ----------------------------------------------------------------

    def pause_view(self, request: HttpRequest, code: str) -> HttpResponse:
        return self._act(
            request,
            code,
            PAUSE_PERMISSION,
            controls.pause,
            done=_("Paused."),
            unchanged=_("Nothing changed: %s was already paused."),
        )

    def resume_view(self, request: HttpRequest, code: str) -> HttpResponse:
        return self._act(
            request,
            code,
            PAUSE_PERMISSION,
            controls.resume,
            done=_("Resumed."),
            unchanged=_("Nothing changed: %s was not paused."),
        )

    def run_view(self, request: HttpRequest, code: str) -> HttpResponse:
        return self._act(
            request,
            code,
            RUN_PERMISSION,
            controls.request_run,
            done=_("Requested a run."),
            unchanged=_("Nothing changed: a run of %s was already requested."),
        )

    def _act(
        self,
        request: HttpRequest,
        code: str,
        permission: str,
        action: Callable[[str], bool],
        *,
        done: str,
        unchanged: str,
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(permission):
            raise PermissionDenied
        self._job(code, timezone.now())  # 404 unless configured
        if action(code):
            state = CronJob.objects.get(job_name=code)
            self.log_change(request, state, done)
            messages.success(request, f"{done} ({code})")
        else:
            messages.info(request, unchanged % code)
        return redirect("admin:django_cronjobs_cronjob_job", code)

    # -- reading ----------------------------------------------------------------

    def _states(self, codes: list[str] | None = None) -> dict[str, CronJob]:
        rows = CronJob.objects.filter(entry__isnull=True)  # the jobs' own, not entries'
        if codes is not None:
            rows = rows.filter(job_name__in=codes)
        return {state.job_name: state for state in rows}

    def _job(self, code: str, now: datetime) -> JobStatus:
        for job in job_statuses(now, self._states([code])):
            if job.code == code:
                return job
        raise Http404(_("No configured cron job has this code."))

    def _changes(self, state: CronJob | None) -> list[dict[str, Any]]:
        if state is None:
            return []
        content_type = ContentType.objects.get_for_model(CronJob, for_concrete_model=False)
        entries = LogEntry.objects.filter(content_type=content_type, object_id=str(state.pk))
        return [
            {"when": local(entry.action_time), "entry": entry}
            for entry in entries.select_related("user").order_by("-action_time")[:10]
        ]

    @staticmethod
    def _run_line(run: RunSummary) -> dict[str, Any]:
        """A row of the job page's runs table; a missed slot has no start and no duration."""
        missed = run.status == RunStatus.MISSED
        return {
            "url": reverse("admin:django_cronjobs_cronjoblog_change", args=[run.pk]),
            "started": "-" if missed else local(run.start_time),
            "slot": local(run.slot),
            "mark": status_mark(run.status),
            "duration": "-" if missed else duration_text(run.seconds),
        }


__all__ = ["CronJobAdmin"]
