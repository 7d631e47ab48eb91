"""How a job's entries stand: how many, how many enabled, failing or running, the next due.

One aggregate query per job (or one grouped query for every job); the
failing entries are listed from the state rows of entries whose last run
did not succeed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q

from ..models import UNSUCCESSFUL, CronEntry, RunStatus

# Failing entries named per job.
FAILING_NAMED = 10


@dataclass(frozen=True)
class EntriesSummary:
    """The entries of one job at a glance."""

    total: int = 0
    enabled: int = 0
    failing: int = 0
    running: int = 0
    next_due: datetime | None = None

    @property
    def disabled(self) -> int:
        return self.total - self.enabled

    def text(self) -> str:
        """``1,204 entries: 1,200 enabled, 3 failing, 1 running``."""
        parts = [f"{self.enabled:,} enabled"]
        if self.failing:
            parts.append(f"{self.failing:,} failing")
        if self.running:
            parts.append(f"{self.running:,} running")
        noun = "entry" if self.total == 1 else "entries"
        return f"{self.total:,} {noun}: {', '.join(parts)}"


def _aggregates() -> dict[str, Count | Min]:
    return {
        "total": Count("pk"),
        "enabled": Count("pk", filter=Q(enabled=True)),
        "failing": Count("pk", filter=Q(state__last_status__in=UNSUCCESSFUL)),
        "running": Count(
            "pk", filter=Q(state__last_status__in=[RunStatus.RUNNING, RunStatus.ENQUEUED])
        ),
        "next_due": Min("next_due"),
    }


def entries_summary(code: str) -> EntriesSummary:
    """The entries of the job ``code``."""
    found = CronEntry.objects.filter(job=code).aggregate(**_aggregates())
    return EntriesSummary(**found) if found["total"] else EntriesSummary()


def entries_by_job(codes: Iterable[str] | None = None) -> dict[str, EntriesSummary]:
    """The entries of every job that has some (of ``codes``, if given), by code."""
    rows = CronEntry.objects.all()
    if codes is not None:
        rows = rows.filter(job__in=sorted(set(codes)))
    fields = ("total", "enabled", "failing", "running", "next_due")
    grouped = rows.values("job").annotate(**_aggregates()).order_by("job")
    return {job: EntriesSummary(*values) for job, *values in grouped.values_list("job", *fields)}


def orphaned_entries(codes: Iterable[str]) -> dict[str, int]:
    """How many entries each job outside ``codes`` (the configured ones) has.

    Such entries are not read by any tick: their job left CRON_CLASSES.
    """
    rows = CronEntry.objects.exclude(job__in=sorted(set(codes))).values("job")
    grouped = rows.annotate(count=Count("pk")).order_by("job")
    return {job: count for job, count in grouped.values_list("job", "count")}


def failing_entries(code: str, limit: int = FAILING_NAMED) -> list[CronEntry]:
    """Entries of ``code`` whose last run did not succeed, the most recent failure first."""
    rows = CronEntry.objects.filter(job=code, state__last_status__in=UNSUCCESSFUL)
    return list(rows.select_related("state").order_by("-state__last_started_at", "pk")[:limit])
