"""Deleting old CronJobLog rows in batches, never the ones still needed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ..conf import conf
from ..models import CronJobLog, CronJobState


def delete_old_logs(older_than_days: float | None = None, batch_size: int | None = None) -> int:
    """Delete finished runs that ended more than ``older_than_days`` ago.

    Defaults come from ``CRONJOBS_DELETE_LOGS_OLDER_THAN`` (django-cron:
    ``DJANGO_CRON_DELETE_LOGS_OLDER_THAN``). Running runs and each job's
    latest run are kept, whatever their age. Rows go in batches of
    ``CRONJOBS_RETENTION_BATCH_SIZE`` so no statement locks a large table for
    long. Returns how many rows were deleted.
    """
    days = conf.DELETE_LOGS_OLDER_THAN if older_than_days is None else older_than_days
    if days is None:
        return 0
    size = batch_size or conf.RETENTION_BATCH_SIZE
    cutoff = timezone.now() - timedelta(days=days)
    latest_runs = CronJobState.objects.filter(last_run_id__isnull=False).values("last_run_id")
    deleted = 0
    while True:
        batch = list(
            CronJobLog.objects.finished_before(cutoff)
            .exclude(pk__in=latest_runs)
            .order_by("end_time")
            .values_list("pk", flat=True)[:size]
        )
        if batch:
            deleted += CronJobLog.objects.filter(pk__in=batch).delete()[0]
        if len(batch) < size:
            return deleted


def delete_older_successes(code: str, keep_pk: int, *, entry: str = "") -> None:
    """``remove_successful_cron_logs``: keep only the newest successful run."""
    runs = CronJobLog.objects.for_job(code).filter(entry=entry)
    runs.succeeded().exclude(pk=keep_pk).delete()
