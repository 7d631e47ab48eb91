"""The task that a task backend's worker runs for each run of a job handed to it.

Importing this module needs Django's Tasks framework (see
:mod:`django_cronjobs.queued.framework`). The task is bound to
``CRONJOBS_TASK_BACKEND`` (else the default alias, else the first one in
TASKS); each run is enqueued on its job's own backend and queue.
"""

from __future__ import annotations

import logging

from .conf import conf
from .queued.framework import backend, configured_aliases, framework
from .queued.worker import run_enqueued

logger = logging.getLogger("django_cronjobs")


def _alias() -> str:
    aliases = configured_aliases()
    default = framework().DEFAULT_TASK_BACKEND_ALIAS
    return conf.TASK_BACKEND or (default if default in aliases else aliases[0])


@framework().task(backend=_alias(), queue_name=conf.TASK_QUEUE_NAME)  # type: ignore[untyped-decorator]
def run_cron_job(run_id: int, job: str, lock_token: str) -> str:
    """Run the enqueued run ``run_id`` of the job class at dotted path ``job``.

    Returns the run's status. A run that is not ``enqueued`` any more (its
    start deadline passed, or the task was delivered twice) does not run.
    """
    return run_enqueued(run_id, job, lock_token)


def _make_known_to_every_backend() -> None:
    """Make the task once more for every other configured backend.

    Celery's backends register a task with their Celery app only when the task
    is made for them (``.using()`` does not), and a Celery worker discards a
    task it does not know: a job whose ``TASK_BACKEND`` names a Celery alias
    other than the one the task is bound to would stay enqueued until its
    start deadline. A backend that refuses the task is left alone here; the
    system check E019 reports the jobs that name it.
    """
    for alias in configured_aliases():
        if alias == run_cron_job.backend:
            continue
        try:
            queues = [conf.TASK_QUEUE_NAME, *sorted(getattr(backend(alias), "queues", ()))]
        except Exception as error:
            logger.debug("Task backend %r not usable for cron jobs: %r", alias, error)
            continue
        for queue in queues:
            try:
                framework().task(backend=alias, queue_name=queue)(run_cron_job.func)
            except Exception as error:
                logger.debug("Task backend %r refused the task on %r: %r", alias, queue, error)
                continue
            break


_make_known_to_every_backend()
