"""Deleting old CronJobLog rows in batches, never the ones still needed."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..conf import conf
from ..models import UNSUCCESSFUL, CronJobLog, CronJobState, RunStatus


def delete_old_logs(older_than_days: float | None = None, batch_size: int | None = None) -> int:
    """Delete finished runs that ended more than ``older_than_days`` ago.

    Defaults come from ``CRONJOBS_DELETE_LOGS_OLDER_THAN`` (django-cron:
    ``DJANGO_CRON_DELETE_LOGS_OLDER_THAN``); runs that did not succeed go by
    ``CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN`` instead, when it is set (None
    there keeps them). Running runs and each job's latest run are kept,
    whatever their age. Rows go in batches of ``CRONJOBS_RETENTION_BATCH_SIZE``
    so no statement locks a large table for long; one query finds them.
    Returns how many rows were deleted.
    """
    days = conf.DELETE_LOGS_OLDER_THAN if older_than_days is None else older_than_days
    failed_days = conf.failed_logs_days(days)
    now = timezone.now()
    old = Q()
    if days is not None:
        old |= Q(end_time__lt=now - timedelta(days=days)) & ~Q(status__in=UNSUCCESSFUL)
    if failed_days is not None:
        old |= Q(end_time__lt=now - timedelta(days=failed_days), status__in=UNSUCCESSFUL)
    if not old:
        return 0
    latest_runs = CronJobState.objects.filter(last_run_id__isnull=False).values("last_run_id")
    doomed = CronJobLog.objects.filter(old).exclude(pk__in=latest_runs).order_by("end_time")
    return _delete_in_batches(doomed, 0, batch_size)


def keep_newest_runs(code: str, entry: str, keep: int, batch_size: int | None = None) -> int:
    """A job's ``KEEP_RUNS``: delete the runs of ``code`` (and ``entry``) that
    succeeded or were missed, beyond the newest ``keep`` of them.

    Runs that did not succeed are neither counted nor deleted here: they go
    by age. Called after each run of the job, so its cost follows the runs,
    one query when there is nothing to delete. Returns how many went.
    """
    newest_first = CronJobLog.objects.filter(
        code=code,
        entry=entry,
        status__in=[RunStatus.SUCCEEDED, RunStatus.MISSED],
    ).order_by("-start_time", "-pk")
    return _delete_in_batches(newest_first, keep, batch_size)


def _delete_in_batches(runs: QuerySet[CronJobLog], skip: int, batch_size: int | None) -> int:
    """Delete ``runs`` but their first ``skip``, CRONJOBS_RETENTION_BATCH_SIZE rows
    (or ``batch_size``) per statement, so no statement locks a large table for
    long; how many went."""
    size = batch_size or conf.RETENTION_BATCH_SIZE
    pks = runs.values_list("pk", flat=True)
    deleted = 0
    while True:
        batch = list(pks[skip : skip + size])
        if batch:
            deleted += CronJobLog.objects.filter(pk__in=batch).delete()[0]
        if len(batch) < size:
            return deleted


def delete_older_successes(code: str, keep_pk: int, *, entry: str = "") -> None:
    """``remove_successful_cron_logs``: keep only the newest successful run."""
    runs = CronJobLog.objects.for_job(code).filter(entry=entry)
    runs.succeeded().exclude(pk=keep_pk).delete()
