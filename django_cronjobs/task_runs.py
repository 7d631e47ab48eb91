"""Runs handed to Django's Tasks framework: enqueued by runcrons, run by a worker.

runcrons claims the slot and takes the job's lock as for any run, writes the
run ``enqueued`` with a start deadline (``CRONJOBS_TASK_START_SECONDS``) as its
lease, keeps the lock until then, and enqueues the task
:func:`django_cronjobs.tasks.run_cron_job`. The worker that picks the task up
moves the run from ``enqueued`` to ``running`` with a compare-and-set that
fails once the deadline has passed or another delivery of the task got there
first, so a run starts at most once; then it runs the job as runcrons would
(heartbeat, outcome, lock released, signals, failure mails). A run that no
worker started by its deadline is recorded ``abandoned`` by the next
runcrons, and its lock freed.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from . import claims
from .base import CronJobBase
from .conf import conf, is_seconds
from .databases import database_for_write
from .execution import Execution, job_path
from .log_text import as_log_text
from .models import CronJobLog, CronJobState, RunStatus
from .notifications import notify_failures
from .processes import own_start_time

logger = logging.getLogger("django_cronjobs")


def usable(job_class: type[CronJobBase], alias: str, database_lock: bool) -> str:
    """Why runcrons cannot hand ``job_class`` to the task backend ``alias``; "" if it can."""
    from .tasks_framework import TasksUnavailable, backend

    if not database_lock and not job_class.ALLOW_PARALLEL_RUNS:
        return (
            f"{job_class.__name__} runs on a task backend, which needs the 'database' lock "
            "backend (or ALLOW_PARALLEL_RUNS = True): another lock would be dropped when "
            "runcrons exits, before the worker runs the job."
        )
    start = conf.TASK_START_SECONDS
    if not is_seconds(start, zero=False):
        return f"CRONJOBS_TASK_START_SECONDS must be a number of seconds > 0, not {start!r}."
    try:
        backend(alias)
        from .tasks import run_cron_job

        run_cron_job.using(
            backend=alias, queue_name=job_class.TASK_QUEUE_NAME or conf.TASK_QUEUE_NAME
        )
    except TasksUnavailable as error:
        return str(error)
    except Exception as error:
        return f"{job_class.__name__}: task backend {alias!r} is not usable: {error}"
    return ""


def enqueue(
    job_class: type[CronJobBase],
    slot: datetime | None,
    ran_at_time: time | None,
    lock_token: str | None,
    alias: str,
) -> CronJobLog | None:
    """Record the claimed run ``enqueued`` and hand it to the task backend ``alias``.

    None if the slot has a run already. A backend that refuses the task gets
    the run recorded ``failed`` with the reason, and the lock dropped.
    """
    # Imported first: the module needs the Tasks framework and a valid task.
    from .tasks import run_cron_job

    run = claims.new_run(
        job_class.code,
        slot,
        ran_at_time,
        timezone.now(),
        status=RunStatus.ENQUEUED,
        lease_seconds=conf.TASK_START_SECONDS,
    )
    deadline = run.lease_expires_at
    with transaction.atomic(using=database_for_write()):
        if claims.insert_run(run) is None:
            if lock_token:
                claims.release_lock(run.code, lock_token)
            return None
        if lock_token:
            # The lock stays until a worker starts the run, or its deadline.
            CronJobState.objects.filter(job_name=run.code, lock_token=lock_token).update(
                lock_expires_at=deadline
            )
    queue = job_class.TASK_QUEUE_NAME or conf.TASK_QUEUE_NAME
    try:
        result = run_cron_job.using(backend=alias, queue_name=queue).enqueue(
            run.pk, job_path(job_class), lock_token or ""
        )
    except Exception as error:
        logger.exception("Enqueuing cron job %s on task backend %s failed", run.code, alias)
        run.status, run.is_success = RunStatus.FAILED, False
        run.message = as_log_text(
            f"Not enqueued on task backend {alias!r}: {type(error).__name__}: {error}",
            conf.MESSAGE_MAX_LENGTH,
        )
        claims.finish_run(run, lock_token, expected=RunStatus.ENQUEUED)
        return run
    run.task_id = str(result.id)
    CronJobLog.objects.filter(pk=run.pk).update(task_id=run.task_id)
    # A backend that runs the task at once (ImmediateBackend) has finished it.
    run.refresh_from_db(fields=["status", "is_success", "start_time", "end_time", "message"])
    return run


def run_enqueued(run_id: int, job: str, lock_token: str) -> str:
    """In the worker: start the enqueued run ``run_id`` of ``job`` and run it.

    Returns the run's status; a run that cannot start any more is left as it is.
    """
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
        if started and run is not None and lock_token:
            locked = CronJobState.objects.filter(
                job_name=run.code, lock_token=lock_token, lock_expires_at__gte=now
            ).update(
                lock_expires_at=lease,
                locked_by_host=claims.hostname(),
                locked_by_pid=os.getpid(),
            )
            if not locked:
                transaction.set_rollback(True, using=database_for_write())
                logger.warning("Cron job run %s not started: its job's lock is gone", run_id)
                return "not started: lock gone"
    if not started or run is None:
        status = run.status if run is not None else "gone"
        logger.warning("Cron job run %s not started by this task: it is %s", run_id, status)
        return f"not started: {status}"
    CronJobState.objects.filter(job_name=run.code).update(last_started_at=now)
    try:
        job_class = import_string(job)
        if not (isinstance(job_class, type) and issubclass(job_class, CronJobBase)):
            raise TypeError(f"{job!r} is not a CronJobBase subclass")
        if job_class.code != run.code:
            raise ValueError(f"{job!r} has the code {job_class.code!r}, the run {run.code!r}")
    except Exception as error:
        run.status, run.is_success = RunStatus.FAILED, False
        run.message = f"Cannot import the job {job!r}: {type(error).__name__}: {error}"
        claims.finish_run(run, lock_token or None)
        return str(run.status)
    lock = None
    if lock_token:
        from .locks.database import DatabaseLock

        lock = DatabaseLock(job_class)
        lock.token = lock_token
    Execution(job_class, run.slot, lock, database_lock=lock is not None).run(run)
    if conf.NOTIFY_FAILURES:
        try:
            notify_failures({run.code: job_class})
        except Exception:
            logger.exception("Checking cron job %s for failure mails failed", run.code)
    return str(run.status)
