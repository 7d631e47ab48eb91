"""Real workers of three task engines, each with two worker processes:

- ``db``: django-tasks-db's DatabaseBackend and its ``db_worker``;
- ``celery``: Celery on Redis, through django-tasks-celery (Django 6) or
  django-tasks-fennel (Django 5.2), and ``celery worker``;
- ``rq``: RQ on Redis, through django-tasks-rq, and django-rq's ``rqworker``.

Two simulated runcrons hosts tick together every simulated minute for 30
minutes; three jobs every minute are handed to the engine, whose two workers
run them. Every slot must run exactly once, on a worker, with its outcome and
task id in its CronJobLog row; a task delivered a second time must not run
the job again.

The hosts' clock is simulated a day ahead of the real one, which the workers
keep: every start deadline that runcrons sets lies ahead of the workers'
clock, and the workers' leases (3 days) outlast the simulated hour.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.utils import timezone

from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.schedules.wallclock import floor_minute
from tests.conftest import command_line_env, redis_available
from tests.task_jobs import WORKER_BACKENDS, WORKER_PREFIX

pytestmark = pytest.mark.django_db(transaction=True)

TICKS = 30
HOSTS = 2
WORKERS = 2
REDIS_DATABASES = (11, 12, 13)  # Celery's broker and results, RQ's queues (tests/settings.py)


def db_worker(number: int) -> list[str]:
    return [
        sys.executable, "-m", "django", "db_worker", "--backend", "db",
        "--queue-name", "cron", "--interval", "0.05", "--no-startup-delay",
        "--worker-id", f"worker-{number}",
    ]  # fmt: skip


def celery_worker(number: int) -> list[str]:
    # The solo pool runs the task in the worker process itself (prefork's
    # children are daemonic and may not start a job's own child process).
    return [
        sys.executable, "-m", "celery", "-A", settings.CELERY_WORKER_APP, "worker",
        "-Q", "cron", "-P", "solo", "-n", f"worker{number}@%h",
        "--without-mingle", "--without-gossip", "-l", "WARNING",
    ]  # fmt: skip


def rq_worker(number: int) -> list[str]:
    # SimpleWorker runs the job in the worker process (rq's default forks a
    # work horse per job).
    return [
        sys.executable, "-m", "django", "rqworker", "cron",
        "--job-class", "django_tasks_rq.Job", "--worker-class", "rq.worker.SimpleWorker",
        "--name", f"worker-{number}-{os.getpid()}",
    ]  # fmt: skip


WORKER_COMMANDS: dict[str, Callable[[int], list[str]]] = {
    "db": db_worker,
    "celery": celery_worker,
    "rq": rq_worker,
}
ENGINES = {
    "db": "django-tasks-db",
    "celery": "django-tasks-celery or django-tasks-fennel, and celery",
    "rq": "django-tasks-rq",
}


@pytest.fixture(params=WORKER_BACKENDS)
def alias(request) -> str:
    """A task backend with real workers; each is required where services are."""
    name: str = request.param
    if name not in settings.TASKS:
        if os.environ.get("CRONJOBS_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{ENGINES[name]} is not installed")
        pytest.skip(f"{ENGINES[name]} is not installed")
    if name != "db":
        import redis

        if not redis_available():
            pytest.skip("Redis is not running")
        for number in REDIS_DATABASES:
            redis.Redis.from_url(f"{settings.REDIS_WORKERS_URL}/{number}").flushdb()
    return name


def host(number: int, start, barrier, jobs: list[str]) -> None:
    """One runcrons host: a tick per simulated minute, between two barriers."""
    connections.close_all()
    try:
        for minute in range(TICKS):
            barrier.wait(timeout=120)
            moment = start + timedelta(minutes=minute, seconds=1 + number)
            with time_machine.travel(moment, tick=False):
                report = Runner(silent=True).run(jobs)
            assert not report.failed, report.results
            assert not report.broken, report.results
            barrier.wait(timeout=120)
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    connections.close_all()
    os._exit(0)


def start_workers(alias: str) -> list[subprocess.Popen[bytes]]:
    env = command_line_env(CRONJOBS_TEST_LEASE_SECONDS=str(3 * 24 * 3600))
    return [
        subprocess.Popen(
            WORKER_COMMANDS[alias](number),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for number in range(WORKERS)
    ]


def wait_for_the_workers(workers: list[subprocess.Popen[bytes]], codes: list[str]) -> None:
    """Until no run of the jobs is enqueued or running."""
    deadline = time.monotonic() + 60
    while CronJobLog.objects.filter(
        code__in=codes, status__in=[RunStatus.ENQUEUED, RunStatus.RUNNING]
    ).exists():
        assert all(worker.poll() is None for worker in workers), "a worker died"
        assert time.monotonic() < deadline, "the workers did not run the enqueued runs"
        time.sleep(0.02)


def stop(workers: list[subprocess.Popen[bytes]]) -> list[str]:
    """SIGTERM (a warm shutdown for each engine); their error output. A worker
    still there a minute later is killed, never left running."""
    for worker in workers:
        worker.terminate()
    errors = []
    for worker in workers:
        try:
            errors.append(worker.communicate(timeout=60)[1].decode())
        except subprocess.TimeoutExpired:
            worker.kill()
            errors.append(worker.communicate()[1].decode() + "\n[killed: no exit on SIGTERM]")
    return errors


def run_hosts(start, jobs: list[str], codes: list[str], workers: list[subprocess.Popen[bytes]]):
    """HOSTS ticking TICKS simulated minutes from ``start`` while ``workers`` run the tasks."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(HOSTS + 1)
    hosts = [context.Process(target=host, args=(n, start, barrier, jobs)) for n in range(HOSTS)]
    for process in hosts:
        process.start()
    for _ in range(TICKS):
        barrier.wait(timeout=120)  # the hosts tick
        barrier.wait(timeout=120)  # both are done
        wait_for_the_workers(workers, codes)
    for process in hosts:
        process.join(timeout=60)
    assert [process.exitcode for process in hosts] == [0] * HOSTS


def task_result(alias: str, task_id: str):
    """The backend's result of ``task_id``, once the backend has it (up to 30 s)."""
    from django_cronjobs.queued.framework import backend, framework

    deadline = time.monotonic() + 30
    while True:
        try:
            result = backend(alias).get_result(task_id)
        except framework().exceptions.TaskResultDoesNotExist:
            result = None
        if result is not None and str(result.status) in ("SUCCESSFUL", "FAILED"):
            return result
        assert time.monotonic() < deadline, f"no result for task {task_id}"
        time.sleep(0.05)


def deliver_again(alias: str, run: CronJobLog) -> str:
    """Enqueue ``run``'s task once more with the same arguments, as a broker that
    delivers a message twice would; the new task's id."""
    from django_cronjobs.tasks import run_cron_job

    arguments = task_result(alias, run.task_id).args
    assert arguments[0] == run.pk
    task = run_cron_job.using(backend=alias, queue_name="cron")
    return str(task.enqueue(*arguments).id)


def test_two_workers_and_two_hosts_run_every_slot_once(alias, settings):
    jobs = [f"tests.task_jobs.{WORKER_PREFIX[alias]}Job{number}" for number in range(3)]
    codes = [f"{'tasks' if alias == 'db' else alias}.worker{number}" for number in range(3)]
    start = floor_minute(timezone.now()) + timedelta(days=1)
    # The simulated minutes lie a day ahead of the database's clock.
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = 3 * 24 * 3600
    workers = start_workers(alias)
    try:
        run_hosts(start, jobs, codes, workers)
        # A task delivered a second time: the worker takes it and does not run the job.
        first = CronJobLog.objects.filter(code=codes[0]).earliest("slot")
        again = deliver_again(alias, first)
        assert task_result(alias, again).return_value == "not started: succeeded"
    finally:
        errors = stop(workers)
    worker_pids = {worker.pid for worker in workers}
    slots = [start + timedelta(minutes=minute) for minute in range(TICKS)]
    for code in codes:
        runs = CronJobLog.objects.filter(code=code)
        counts = Counter(runs.values_list("slot", flat=True))
        assert [slot for slot, count in counts.items() if count > 1] == [], code
        assert sorted(counts) == slots, code
        assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}, errors
    runs = CronJobLog.objects.filter(code__in=codes)
    # Run by the workers, not by the hosts, each through its own task.
    assert {int(run.message.split()[1]) for run in runs} <= worker_pids
    assert set(runs.values_list("pid", flat=True)) == worker_pids, "one worker did all"
    first.refresh_from_db()
    assert (first.status, first.end_time is not None) == (RunStatus.SUCCEEDED, True)
    task_ids = list(runs.values_list("task_id", flat=True))
    assert len(set(task_ids)) == len(task_ids) == len(codes) * TICKS
    results = [task_result(alias, task_id) for task_id in task_ids[:10]]
    assert {str(result.status) for result in results} == {"SUCCESSFUL"}
    assert {result.return_value for result in results} == {RunStatus.SUCCEEDED}
    assert not CronJobState.objects.filter(job_name__in=codes, locked=True).exists()
    assert [worker.returncode for worker in workers] == [0] * WORKERS, errors


ENTRIES = 12


def test_two_workers_and_two_hosts_run_every_slot_of_every_entry_once(alias, settings):
    """Entries of one job, every minute or every other, handed to the workers."""
    from django_cronjobs import Schedule
    from django_cronjobs.models import CronEntry
    from tests import task_jobs

    job_class = getattr(task_jobs, f"{WORKER_PREFIX[alias]}EntryJob")
    path = f"tests.task_jobs.{job_class.__name__}"
    settings.CRON_CLASSES = [path]
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = 3 * 24 * 3600
    start = floor_minute(timezone.now()) + timedelta(days=1)
    with time_machine.travel(start - timedelta(seconds=30), tick=False):
        for n in range(ENTRIES):
            job_class.entries.schedule(
                key=f"e{n}", kwargs={"n": n}, schedule=Schedule(run_every_mins=1 + n % 2)
            )
    workers = start_workers(alias)
    try:
        run_hosts(start, [path], [job_class.code], workers)
    finally:
        errors = stop(workers)
    runs = CronJobLog.objects.filter(code=job_class.code)
    for entry in CronEntry.objects.all():
        every = entry.run_every_mins
        wanted = [start + timedelta(minutes=m) for m in range(TICKS) if (m + 1) % every == 0]
        slots = Counter(runs.filter(entry=entry.key).values_list("slot", flat=True))
        assert [slot for slot, count in slots.items() if count > 1] == [], entry.key
        assert sorted(slots) == wanted, entry.key
    assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}, errors
    assert set(runs.values_list("pid", flat=True)) <= {worker.pid for worker in workers}
    assert {run.message.split()[3] for run in runs} == {str(n) for n in range(ENTRIES)}
