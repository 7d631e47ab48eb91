"""Real workers: django-tasks-db's DatabaseBackend and two ``db_worker`` processes.

Two simulated runcrons hosts tick together every simulated minute for 30
minutes; three jobs every minute are handed to the database task backend,
whose two workers run them. Every slot must run exactly once, on a worker,
with its outcome and task id in its CronJobLog row.

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
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.utils import timezone

from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, RunStatus
from django_cronjobs.schedules.wallclock import floor_minute
from tests.conftest import command_line_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "db" not in settings.TASKS and os.environ.get("CRONJOBS_REQUIRE_SERVICES") != "1",
        reason="django-tasks-db is not installed",
    ),
]

TICKS = 30
HOSTS = 2
WORKERS = 2
JOBS = [f"tests.task_jobs.WorkerJob{number}" for number in range(3)]
CODES = [f"tasks.worker{number}" for number in range(3)]


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


def start_workers() -> list[subprocess.Popen[bytes]]:
    env = command_line_env(CRONJOBS_TEST_LEASE_SECONDS=str(3 * 24 * 3600))
    return [
        subprocess.Popen(
            [
                sys.executable, "-m", "django", "db_worker", "--backend", "db",
                "--queue-name", "cron", "--interval", "0.05", "--no-startup-delay",
                "--worker-id", f"worker-{number}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for number in range(WORKERS)
    ]  # fmt: skip


def wait_for_the_workers(workers: list[subprocess.Popen[bytes]], codes: list[str]) -> None:
    """Until no run of the jobs is enqueued or running."""
    deadline = time.monotonic() + 60
    while CronJobLog.objects.filter(
        code__in=codes, status__in=[RunStatus.ENQUEUED, RunStatus.RUNNING]
    ).exists():
        assert all(worker.poll() is None for worker in workers), "a worker died"
        assert time.monotonic() < deadline, "the workers did not run the enqueued runs"
        time.sleep(0.02)


def run_hosts_and_workers(start, jobs: list[str], codes: list[str]) -> tuple[set[int], list[str]]:
    """HOSTS ticking TICKS simulated minutes from ``start``, WORKERS running the
    tasks; the workers' pids and error output."""
    workers = start_workers()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(HOSTS + 1)
    hosts = [context.Process(target=host, args=(n, start, barrier, jobs)) for n in range(HOSTS)]
    try:
        for process in hosts:
            process.start()
        for _ in range(TICKS):
            barrier.wait(timeout=120)  # the hosts tick
            barrier.wait(timeout=120)  # both are done
            wait_for_the_workers(workers, codes)
        for process in hosts:
            process.join(timeout=60)
        assert [process.exitcode for process in hosts] == [0] * HOSTS
    finally:
        for worker in workers:
            worker.terminate()
        errors = [worker.communicate(timeout=30)[1].decode() for worker in workers]
    return {worker.pid for worker in workers}, errors


def test_two_workers_and_two_hosts_run_every_slot_once(settings):
    from django_tasks_db.models import DBTaskResult

    start = floor_minute(timezone.now()) + timedelta(days=1)
    # The simulated minutes lie a day ahead of the database's clock.
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = 3 * 24 * 3600
    worker_pids, errors = run_hosts_and_workers(start, JOBS, CODES)
    slots = [start + timedelta(minutes=minute) for minute in range(TICKS)]
    for code in CODES:
        runs = CronJobLog.objects.filter(code=code)
        counts = Counter(runs.values_list("slot", flat=True))
        assert [slot for slot, count in counts.items() if count > 1] == [], code
        assert sorted(counts) == slots, code
        assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}, errors
    runs = CronJobLog.objects.filter(code__in=CODES)
    # Run by the workers, not by the hosts, each through its own task.
    assert {int(run.message.split()[1]) for run in runs} <= worker_pids
    assert set(runs.values_list("pid", flat=True)) == worker_pids
    task_ids = list(runs.values_list("task_id", flat=True))
    assert len(set(task_ids)) == len(task_ids) == len(CODES) * TICKS
    results = DBTaskResult.objects.filter(id__in=task_ids)
    assert set(results.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert results.count() == len(task_ids)


ENTRIES = 12


def test_two_workers_and_two_hosts_run_every_slot_of_every_entry_once(settings):
    """Entries of one job, every minute or every other, handed to the workers."""
    from django_cronjobs import Schedule
    from django_cronjobs.models import CronEntry
    from tests.task_jobs import WorkerEntryJob

    settings.CRON_CLASSES = ["tests.task_jobs.WorkerEntryJob"]
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = 3 * 24 * 3600
    start = floor_minute(timezone.now()) + timedelta(days=1)
    with time_machine.travel(start - timedelta(seconds=30), tick=False):
        for n in range(ENTRIES):
            WorkerEntryJob.entries.schedule(
                key=f"e{n}", kwargs={"n": n}, schedule=Schedule(run_every_mins=1 + n % 2)
            )
    worker_pids, errors = run_hosts_and_workers(
        start, ["tests.task_jobs.WorkerEntryJob"], [WorkerEntryJob.code]
    )
    runs = CronJobLog.objects.filter(code=WorkerEntryJob.code)
    for entry in CronEntry.objects.all():
        every = entry.run_every_mins
        wanted = [start + timedelta(minutes=m) for m in range(TICKS) if (m + 1) % every == 0]
        slots = Counter(runs.filter(entry=entry.key).values_list("slot", flat=True))
        assert [slot for slot, count in slots.items() if count > 1] == [], entry.key
        assert sorted(slots) == wanted, entry.key
    assert set(runs.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}, errors
    assert set(runs.values_list("pid", flat=True)) <= worker_pids
    assert {run.message.split()[3] for run in runs} == {str(n) for n in range(ENTRIES)}
