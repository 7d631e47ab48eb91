"""Deleting old CronJobLog rows in batches, never the ones still needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..conf import conf
from ..jobs.base import ConfiguredJob
from ..models import UNSUCCESSFUL, CronJobLog, CronJobState, RunStatus

Ages = tuple[float | None, float | None]
"""Days to keep the runs that succeeded (or were missed), and those that did not;
None keeps them."""


def job_ages(jobs: Sequence[ConfiguredJob]) -> dict[str, Ages]:
    """The ages of the jobs whose ``KEEP_DAYS`` or ``KEEP_FAILED_DAYS`` are set, by
    code; None in one of them follows the setting."""
    days = conf.DELETE_LOGS_OLDER_THAN
    failed_days = conf.failed_logs_days(days)
    ages = {}
    for entry in jobs:
        own = getattr(entry.job_class, "KEEP_DAYS", None)
        own_failed = getattr(entry.job_class, "KEEP_FAILED_DAYS", None)
        if entry.runnable and (own is not None or own_failed is not None):
            ages[entry.code] = (
                days if own is None else own,
                failed_days if own_failed is None else own_failed,
            )
    return ages


def delete_old_logs(
    older_than_days: float | None = None,
    batch_size: int | None = None,
    *,
    ages: Mapping[str, Ages] | None = None,
) -> int:
    """Delete finished runs that ended more than ``older_than_days`` ago.

    Defaults come from ``CRONJOBS_DELETE_LOGS_OLDER_THAN`` (django-cron:
    ``DJANGO_CRON_DELETE_LOGS_OLDER_THAN``); runs that did not succeed go by
    ``CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN`` instead, when it is set (None
    there keeps them). The jobs in ``ages`` (see :func:`job_ages`) go by their
    own. Running runs and each job's latest run are kept, whatever their age.
    Rows go in batches of ``CRONJOBS_RETENTION_BATCH_SIZE`` so no statement
    locks a large table for long; one query finds them. Returns how many rows
    were deleted.
    """
    days = conf.DELETE_LOGS_OLDER_THAN if older_than_days is None else older_than_days
    ages = ages or {}
    now = timezone.now()
    old = _older_than(now, (days, conf.failed_logs_days(days)))
    if old and ages:
        old &= ~Q(code__in=list(ages))
    for code, own in ages.items():
        own_old = _older_than(now, own)
        if own_old:
            old |= Q(code=code) & own_old
    if not old:
        return 0
    latest_runs = CronJobState.objects.filter(last_run_id__isnull=False).values("last_run_id")
    doomed = CronJobLog.objects.filter(old).exclude(pk__in=latest_runs).order_by("end_time")
    return _delete_in_batches(doomed, 0, batch_size)


def _older_than(now: datetime, ages: Ages) -> Q:
    """The finished runs past ``ages``; an empty Q when both keep every run."""
    days, failed_days = map(partial(_cutoff, now), ages)
    old = Q()
    if days is not None:
        old |= Q(end_time__lt=days) & ~Q(status__in=UNSUCCESSFUL)
    if failed_days is not None:
        old |= Q(end_time__lt=failed_days, status__in=UNSUCCESSFUL)
    return old


def _cutoff(now: datetime, days: float | None) -> datetime | None:
    """The moment ``days`` before ``now``; None for None, and for an age longer than
    the calendar goes back (10**6 days, say, meant as "for ever"): no run is that old."""
    if days is None:
        return None
    try:
        return now - timedelta(days=days)
    except OverflowError:
        return None


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
