"""The worker's side of a run handed to Django's Tasks framework: start it once, run it.

The worker that picks the task up moves the run from ``enqueued`` to
``running`` with a compare-and-set that fails once the deadline has passed or
another delivery of the task got there first, so a run starts at most once;
then it runs the job as runcrons would (heartbeat, outcome, lock released,
signals, failure mails). A run that no worker started by its deadline is
recorded ``abandoned`` by the next runcrons, and its lock freed.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .. import signals
from ..conf import conf
from ..databases import database_for_write
from ..engine.execution import Execution
from ..entries.job_classes import entry_job_class
from ..jobs.base import CronJobBase
from ..models import CronEntry, CronJobLog, CronJobState, RunStatus
from ..monitoring.notifications import notify_after_runs
from ..store import claims
from ..store.processes import own_start_time

logger = logging.getLogger("django_cronjobs")


def run_enqueued(run_id: int, job: str, lock_token: str) -> str:
    """In the worker: start the enqueued run ``run_id`` of ``job`` and run it.

    Returns the run's status; a run that cannot start any more is left as it is.
    """
    run, refused = _start(run_id, lock_token)
    if run is None:
        return refused
    try:
        job_class = _job_class(job, run)
    except Exception as error:
        run.status, run.is_success = RunStatus.FAILED, False
        run.message = f"Cannot import the job {job!r}: {type(error).__name__}: {error}"
        if claims.finish_run(run, lock_token or None):
            signals.send_run_finished(None, run)  # to the class of its code, if configured
        return str(run.status)
    lock = None
    if lock_token:
        from ..locks.database import DatabaseLock

        lock = DatabaseLock(job_class)
        lock.token = lock_token
    Execution(job_class, run.slot, lock, database_lock=lock is not None).run(run)
    notify_after_runs({run.run_name: job_class})
    return str(run.status)


def _start(run_id: int, lock_token: str) -> tuple[CronJobLog | None, str]:
    """Move the run from ``enqueued`` to ``running`` and take over its job's lock;
    the run, or None and why it did not start."""
    now = timezone.now()
    lease = now + timedelta(seconds=conf.LEASE_SECONDS)
    with transaction.atomic(using=database_for_write()):
        # Both or neither: the run starts only while its deadline and its
        # job's lock (which this worker takes over) both hold.
        started = CronJobLog.objects.filter(
            pk=run_id, status=RunStatus.ENQUEUED, lease_expires_at__gte=now
        ).update(
            status=RunStatus.RUNNING,
            start_time=now,
            lease_expires_at=lease,
            hostname=claims.hostname(),
            host_id=claims.host_id(),
            pid=os.getpid(),
            process_started=own_start_time(),
        )
        run = CronJobLog.objects.filter(pk=run_id).first()
        gone = ""
        if started and run is not None and lock_token:
            locked = CronJobState.objects.filter(
                job_name=run.run_name, lock_token=lock_token, lock_expires_at__gte=now
            ).update(
                lock_expires_at=lease,
                locked_by_host=claims.hostname(),
                locked_by_pid=os.getpid(),
            )
            if not locked:
                transaction.set_rollback(True, using=database_for_write())
                logger.warning("Cron job run %s not started: its job's lock is gone", run_id)
                gone = "not started: lock gone"
    if gone and run is not None and run.entry:
        _entry_deleted(run)
    if gone:
        return None, gone
    if not started or run is None:
        status = run.status if run is not None else "gone"
        logger.warning("Cron job run %s not started by this task: it is %s", run_id, status)
        return None, f"not started: {status}"
    CronJobState.objects.filter(job_name=run.run_name).update(last_started_at=now)
    return run, ""


def _entry_deleted(run: CronJobLog) -> None:
    """A run of an entry deleted while its task waited: failed, saying so (nothing
    else would: its state row went with the entry)."""
    if CronJobState.objects.filter(job_name=run.run_name).exists():
        return
    run.status, run.is_success = RunStatus.FAILED, False
    run.message = f"Not started: the entry {run.run_name} was deleted before its task started."
    if claims.finish_run(run, None, expected=RunStatus.ENQUEUED):
        signals.send_run_finished(None, run)


def _job_class(job: str, run: CronJobLog) -> type[CronJobBase]:
    """The job class at the dotted path ``job``; it must keep the run's code.

    A run of an entry gets the entry's schedule and its kwargs as they are now.
    """
    job_class = import_string(job)
    if not (isinstance(job_class, type) and issubclass(job_class, CronJobBase)):
        raise TypeError(f"{job!r} is not a CronJobBase subclass")
    if job_class.code != run.code:
        raise ValueError(f"{job!r} has the code {job_class.code!r}, the run {run.code!r}")
    if not run.entry:
        return job_class
    entry = CronEntry.objects.filter(job=run.code, key=run.entry).first()
    if entry is None:
        raise LookupError(f"the entry {run.run_name} was deleted")
    return entry_job_class(job_class, entry.key, entry.schedule, entry.kwargs)
