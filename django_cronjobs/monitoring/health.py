"""A health endpoint for monitors: each job's last status and overdue flag, as JSON.

Opt in with ``path("cron/", include("django_cronjobs.urls"))``. A request
needs the token of ``CRONJOBS_HEALTH_TOKEN`` (``Authorization: Bearer
<token>``, or ``?token=<token>`` for monitors that cannot set headers) or
the session of a staff user who may view the admin's Cron jobs pages (the
``django_cronjobs.view_cronjob`` permission, which superusers have); without
either it gets 403 and learns nothing, not even the job codes. The answer is
200 when every job is fine and 503 when any is overdue or failing (paused
jobs aside), so a plain HTTP check alerts on it.

A job with entries also says how they stand, naming the failing ones (the
latest ten); ``failing_entries`` counts them per job. As for ``cronjobs
status --check``, failing entries alone are worth a look, not a page: the
answer stays 200, and a monitor that wants to alert on them matches the body.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..conf import conf
from ..jobs.base import NO_JOBS, ConfiguredJob
from .entries_health import EntriesSummary, entries_by_job, failing_entries
from .overview import JobStatus, standing

# What a session user needs, as on the admin's Cron jobs pages.
VIEW_PERMISSION = "django_cronjobs.view_cronjob"


def allowed(request: HttpRequest) -> bool:
    """A valid token, or a logged-in staff user with VIEW_PERMISSION."""
    token = conf.HEALTH_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        given = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        given = given or request.GET.get("token", "")
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return True
    user = getattr(request, "user", None)
    return bool(
        user is not None and user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION)
    )


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe(job: JobStatus, entries: EntriesSummary | None = None) -> dict[str, Any]:
    described: dict[str, Any] = {
        "code": job.code,
        "health": job.health,
        "last_status": job.last_status or None,
        "last_started": _moment(job.last_started),
        "next_run": _moment(job.next_run),
        "overdue": job.overdue,
        "failing": job.failing,
        "paused": job.paused,
    }
    if entries is not None:
        described["entries"] = describe_entries(job.code, entries)
    return described


def describe_entries(code: str, summary: EntriesSummary) -> dict[str, Any]:
    failing = failing_entries(code) if summary.failing else []
    return {
        "total": summary.total,
        "enabled": summary.enabled,
        "failing": summary.failing,
        "running": summary.running,
        "next_run": _moment(summary.next_due),
        "failing_keys": [entry.key for entry in failing],
    }


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    if not allowed(request):
        return JsonResponse({"detail": "forbidden"}, status=403)
    found = standing()
    entries = entries_by_job(job.code for job in found.jobs)
    answer: dict[str, Any] = {
        "status": found.status,
        "unhealthy": [entry.code for entry in found.broken] + [j.code for j in found.unhealthy],
        "failing_entries": {code: each.failing for code, each in entries.items() if each.failing},
        "jobs": [describe(job, entries.get(job.code)) for job in found.jobs],
    }
    if found.broken:
        answer["broken"] = [describe_broken(entry) for entry in found.broken]
    if found.status == "no jobs":
        answer["checks"] = [NO_JOBS.check_id]
    # No job at all is a settings mistake far more often than a choice, and
    # HTTP has no warning: it fails the check too.
    return JsonResponse(answer, status=200 if found.status == "ok" else 503)


def describe_broken(entry: ConfiguredJob) -> dict[str, Any]:
    return {
        "entry": entry.name,
        "checks": [problem.check_id for problem in entry.problems],
        "messages": [problem.message for problem in entry.problems],
    }
