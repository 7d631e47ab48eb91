"""The task that a task backend's worker runs for each run of a job handed to it.

Importing this module needs Django's Tasks framework (see
:mod:`django_cronjobs.queued.framework`). The task is bound to
``CRONJOBS_TASK_BACKEND`` (else the default alias, else the first one in
TASKS); each run is enqueued on its job's own backend and queue.
"""

from __future__ import annotations

from .conf import conf
from .queued.framework import configured_aliases, framework
from .queued.worker import run_enqueued


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
