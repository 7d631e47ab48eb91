"""runcrons' side of a run handed to Django's Tasks framework: checked, recorded, enqueued.

runcrons claims the slot and takes the job's lock as for any run, writes the
run ``enqueued`` with a start deadline (``CRONJOBS_TASK_START_SECONDS``) as its
lease, keeps the lock until then, and enqueues the task
:func:`django_cronjobs.tasks.run_cron_job`, which a worker runs (see
:mod:`django_cronjobs.queued.worker`).
"""

from __future__ import annotations

import logging
from datetime import datetime, time

from django.db import transaction
from django.utils import timezone

from .. import signals
from ..conf import conf, is_finite_seconds
from ..databases import database_for_write
from ..jobs.base import CronJobBase, job_path
from ..models import CronJobLog, CronJobState, RunStatus
from ..store import claims
from ..text.log_text import as_log_text

logger = logging.getLogger("django_cronjobs")


def usable(job_class: type[CronJobBase], alias: str, database_lock: bool) -> str:
    """Why runcrons cannot hand ``job_class`` to the task backend ``alias``; "" if it can."""
    from .framework import TasksUnavailable, backend

    if not database_lock and not job_class.ALLOW_PARALLEL_RUNS:
        return (
            f"{job_class.__name__} runs on a task backend, which needs the 'database' lock "
            "backend (or ALLOW_PARALLEL_RUNS = True): another lock would be dropped when "
            "runcrons exits, before the worker runs the job."
        )
    start = conf.TASK_START_SECONDS
    if not is_finite_seconds(start, zero=False):
        return f"CRONJOBS_TASK_START_SECONDS must be a finite number of seconds > 0, not {start!r}."
    try:
        backend(alias)
        from ..tasks import run_cron_job

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
    from ..tasks import run_cron_job

    run = claims.new_run(
        job_class.code,
        slot,
        ran_at_time,
        timezone.now(),
        status=RunStatus.ENQUEUED,
        lease_seconds=conf.TASK_START_SECONDS,
        entry=job_class.entry_key,
    )
    deadline = run.lease_expires_at
    with transaction.atomic(using=database_for_write()):
        if claims.insert_run(run) is None:
            if lock_token:
                claims.release_lock(run.run_name, lock_token)
            return None
        if lock_token:
            # The lock stays until a worker starts the run, or its deadline.
            CronJobState.objects.filter(job_name=run.run_name, lock_token=lock_token).update(
                lock_expires_at=deadline
            )
    queue = job_class.TASK_QUEUE_NAME or conf.TASK_QUEUE_NAME
    try:
        result = run_cron_job.using(backend=alias, queue_name=queue).enqueue(
            run.pk, job_path(job_class), lock_token or ""
        )
    except Exception as error:
        logger.exception("Enqueuing cron job %s on task backend %s failed", run.run_name, alias)
        run.status, run.is_success = RunStatus.FAILED, False
        run.message = as_log_text(
            f"Not enqueued on task backend {alias!r}: {type(error).__name__}: {error}",
            conf.MESSAGE_MAX_LENGTH,
        )
        if claims.finish_run(run, lock_token, expected=RunStatus.ENQUEUED):
            signals.send_run_finished(job_class.configured_class(), run)
        return run
    run.task_id = str(result.id)
    CronJobLog.objects.filter(pk=run.pk).update(task_id=run.task_id)
    # A backend that runs the task at once (ImmediateBackend) has finished it.
    run.refresh_from_db(fields=["status", "is_success", "start_time", "end_time", "message"])
    return run
