"""Jobs whose runs are handed to Django's Tasks framework (see test_tasks.py)."""

from __future__ import annotations

import os

from django_cronjobs import CronJobBase, Schedule


class TaskJob(CronJobBase):
    """Runs on the immediate backend: within runcrons, through the task."""

    code = "tasks.immediate"
    schedule = Schedule(run_every_mins=1)
    TASK_BACKEND = "default"

    def do(self) -> str:
        return f"pid {os.getpid()}"


class QueuedJob(CronJobBase):
    """Its tasks wait on the dummy backend: no worker ever runs them."""

    code = "tasks.queued"
    schedule = Schedule(run_every_mins=1)
    TASK_BACKEND = "dummy"

    def do(self) -> str:
        return "ran"


class DiesOnTheWorker(CronJobBase):
    """Its worker process dies while it runs (SIGKILL, as the OOM killer does)."""

    code = "tasks.dies"
    schedule = Schedule(run_every_mins=1)
    TASK_BACKEND = "dummy"

    def do(self) -> None:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class FollowsTheSetting(CronJobBase):
    """No TASK_BACKEND of its own: CRONJOBS_TASK_BACKEND decides."""

    code = "tasks.follows"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        return f"pid {os.getpid()}"


class StaysInRuncrons(FollowsTheSetting):
    code = "tasks.stays"
    TASK_BACKEND = False


# The jobs of test_task_workers.py, per task backend whose workers run them:
# "db" (django-tasks-db), "celery" and "rq".
WORKER_BACKENDS = ("db", "celery", "rq")
WORKER_PREFIX = {"db": "Worker", "celery": "CeleryWorker", "rq": "RqWorker"}


def _worker_job(alias: str, number: int) -> type[CronJobBase]:
    def do(self: CronJobBase) -> str:
        return f"pid {os.getpid()}"

    return type(
        f"{WORKER_PREFIX[alias]}Job{number}",
        (CronJobBase,),
        {
            "__module__": __name__,
            "code": f"{'tasks' if alias == 'db' else alias}.worker{number}",
            "schedule": Schedule(run_every_mins=1),
            "TASK_BACKEND": alias,
            "TASK_QUEUE_NAME": "cron",
            "do": do,
        },
    )


def _worker_entry_job(alias: str) -> type[CronJobBase]:
    """Runs only through its entries, on ``alias``'s workers."""

    def do(self: CronJobBase, *, n: int) -> str:
        return f"pid {os.getpid()} entry {n}"

    return type(
        f"{WORKER_PREFIX[alias]}EntryJob",
        (CronJobBase,),
        {
            "__module__": __name__,
            "code": f"{'tasks' if alias == 'db' else alias}.worker_entries",
            "schedule": None,
            "TASK_BACKEND": alias,
            "TASK_QUEUE_NAME": "cron",
            "do": do,
        },
    )


WorkerJob0, WorkerJob1, WorkerJob2 = (_worker_job("db", n) for n in range(3))
CeleryWorkerJob0, CeleryWorkerJob1, CeleryWorkerJob2 = (_worker_job("celery", n) for n in range(3))
RqWorkerJob0, RqWorkerJob1, RqWorkerJob2 = (_worker_job("rq", n) for n in range(3))
WorkerEntryJob = _worker_entry_job("db")
CeleryWorkerEntryJob = _worker_entry_job("celery")
RqWorkerEntryJob = _worker_entry_job("rq")


class RetriedOnTheWorker(CronJobBase):
    """Fails while ``fail`` is set; retried 5 minutes after a failure (immediate backend)."""

    code = "tasks.retried"
    schedule = Schedule(run_every_mins=60, retry_after_failure_mins=5)
    TASK_BACKEND = "default"
    fail = True

    def do(self) -> str:
        if RetriedOnTheWorker.fail:
            raise RuntimeError("not yet")
        return "recovered"


class EntryTaskJob(CronJobBase):
    """Runs only through its entries, on the immediate backend."""

    code = "tasks.entries"
    schedule = None
    TASK_BACKEND = "default"

    def do(self, *, n: int) -> str:
        return f"entry {n} in pid {os.getpid()}"


class QueuedEntryJob(CronJobBase):
    """Runs only through its entries; their tasks wait on the dummy backend."""

    code = "tasks.queued_entries"
    schedule = None
    TASK_BACKEND = "dummy"

    def do(self, *, n: int) -> str:
        return f"entry {n}"
