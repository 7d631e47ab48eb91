"""Many runcrons processes over the same simulated minutes, on one database.

Each process plays a host whose cron fires every minute, 0-10 s late (a
different lateness per process and minute); all of them start each minute
together. Every slot must run exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connections

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronEntry, CronJobLog, CronJobState, MetricTally

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

T0 = datetime(2025, 1, 6, tzinfo=UTC)
PROCESSES = int(os.environ.get("CRONJOBS_CONCURRENCY_PROCESSES", "8"))
TICKS = int(os.environ.get("CRONJOBS_CONCURRENCY_TICKS", "30"))


class BusyJob(CronJobBase):
    """Takes a little time, so that processes overlap inside a tick."""

    def do(self) -> str:
        import time

        time.sleep(0.005)
        return f"pid {os.getpid()}"


class ConcurrentEveryMinute(BusyJob):
    code = "concurrent.every_minute"
    schedule = Schedule(run_every_mins=1)


class ConcurrentEveryFive(BusyJob):
    code = "concurrent.every_five"
    schedule = Schedule(run_every_mins=5)


class ConcurrentFixedTimes(BusyJob):
    code = "concurrent.fixed_times"
    schedule = Schedule(run_at_times=["00:07", "00:23"], timezone="UTC")


class ConcurrentCron(BusyJob):
    code = "concurrent.cron"
    schedule = Schedule(cron="*/3 * * * *", timezone="UTC")


class ConcurrentEntries(BusyJob):
    """Runs only through its entries."""

    code = "concurrent.entries"
    schedule = None

    def do(self, *, n: int) -> str:  # type: ignore[override]
        return super().do() + f" entry {n}"


ENTRY_SCHEDULES = ["* * * * *", "*/2 * * * *", "H/5 * * * *", "H * * * *", "*/3 * * * *"]


JOBS = [
    "tests.test_concurrency.ConcurrentEveryMinute",
    "tests.test_concurrency.ConcurrentEveryFive",
    "tests.test_concurrency.ConcurrentFixedTimes",
    "tests.test_concurrency.ConcurrentCron",
]


def expected_slots(ticks: int) -> dict[str, list[datetime]]:
    minutes = [T0 + timedelta(minutes=m) for m in range(ticks)]
    return {
        "concurrent.every_minute": minutes,
        "concurrent.every_five": [m for m in minutes if m.minute % 5 == 0],
        "concurrent.fixed_times": [m for m in minutes if (m.hour, m.minute) in ((0, 7), (0, 23))],
        "concurrent.cron": [m for m in minutes if m.minute % 3 == 0],
    }


def host(number: int, barrier, ticks: int, skew: float, jobs: list[str]) -> None:
    """One simulated host: a runcrons per minute, late by 0-10 s, its clock off by ``skew`` s."""
    connections.close_all()
    lateness = random.Random(number)
    try:
        for minute in range(ticks):
            barrier.wait(timeout=120)
            late = lateness.uniform(0, 10)
            moment = T0 + timedelta(minutes=minute, seconds=late + skew)
            with time_machine.travel(moment, tick=False):
                report = Runner(silent=True).run(jobs)
            assert not report.failed, report.results
            assert not report.broken, report.results
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    connections.close_all()
    os._exit(0)


def run_hosts(
    processes: int, ticks: int, max_skew: float = 0, jobs: list[str] | None = None
) -> None:
    """``processes`` hosts whose clocks spread evenly over ±``max_skew`` seconds."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes)
    skews = [-max_skew + 2 * max_skew * n / max(processes - 1, 1) for n in range(processes)]
    children = [
        context.Process(target=host, args=(number, barrier, ticks, skews[number], jobs or JOBS))
        for number in range(processes)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=600)
    assert [child.exitcode for child in children] == [0] * processes


def assert_each_slot_ran_once(ticks: int) -> None:
    end = T0 + timedelta(minutes=ticks)
    for code, slots in expected_slots(ticks).items():
        ran = list(CronJobLog.objects.filter(code=code).values_list("slot", flat=True))
        duplicates = [slot for slot, count in Counter(ran).items() if count > 1]
        assert duplicates == [], code
        # A host whose clock runs ahead may run the slot after the last tick.
        assert sorted(slot for slot in ran if slot < end) == slots, code
        assert all(slot < end + timedelta(minutes=2) for slot in ran), code
        assert CronJobLog.objects.filter(code=code, is_success=False).count() == 0


@pytest.mark.parametrize("backend", ["database", "cache", "file", None])
def test_every_slot_runs_exactly_once_across_processes(settings, tmp_path, backend, request):
    if backend == "cache":
        request.getfixturevalue("redis_cache")
    settings.CRONJOBS_LOCK_BACKEND = backend
    settings.CRONJOBS_LOCKFILE_PATH = str(tmp_path)
    run_hosts(PROCESSES, TICKS)
    assert_each_slot_ran_once(TICKS)
    hosts = set(CronJobLog.objects.values_list("pid", flat=True))
    assert len(hosts) > 1, "one process did all the work: the test proves nothing"


@pytest.mark.parametrize("backend", ["database", "cache"])
def test_every_slot_of_every_entry_runs_exactly_once_across_processes(settings, backend, request):
    if backend == "cache":
        request.getfixturevalue("redis_cache")
    settings.CRONJOBS_LOCK_BACKEND = backend
    settings.CRON_CLASSES = [*JOBS, "tests.test_concurrency.ConcurrentEntries"]
    settings.CRONJOBS_PROMETHEUS = True
    entries = schedule_entries(20)
    run_hosts(PROCESSES, TICKS, jobs=settings.CRON_CLASSES)
    assert_each_slot_ran_once(TICKS)
    assert_each_entry_slot_ran_once(entries, TICKS)
    assert_metrics_count_every_run_and_tick(PROCESSES * TICKS)
    hosts = set(CronJobLog.objects.filter(entry__gt="").values_list("pid", flat=True))
    assert len(hosts) > 1, "one process did all the work: the test proves nothing"


def assert_metrics_count_every_run_and_tick(ticks: int) -> None:
    """The metrics' totals, added to by every process at once, lost no count."""
    runs = Counter(CronJobLog.objects.values_list("code", "status"))
    counted = {
        (row.cronjob, row.label): row.value for row in MetricTally.objects.filter(metric="runs")
    }
    assert counted == dict(runs)
    ticked = MetricTally.objects.filter(metric="tick").values_list("value", flat=True)
    assert sum(ticked) == ticks
    durations = MetricTally.objects.filter(metric="duration").values_list("value", flat=True)
    assert sum(durations) == sum(runs.values())


# When the entries of the tests are written: half a minute before the first tick.
ENTRIES_WRITTEN = T0 - timedelta(seconds=30)


def schedule_entries(count: int) -> list[CronEntry]:
    """``count`` entries of ConcurrentEntries on the ENTRY_SCHEDULES in turn."""
    with time_machine.travel(ENTRIES_WRITTEN, tick=False):
        return [
            CronEntry.objects.schedule(
                ConcurrentEntries,
                key=f"entry-{n}",
                kwargs={"n": n},
                schedule=Schedule(cron=ENTRY_SCHEDULES[n % len(ENTRY_SCHEDULES)]),
            )
            for n in range(count)
        ]


def assert_each_entry_slot_ran_once(entries: list[CronEntry], ticks: int) -> None:
    end = T0 + timedelta(minutes=ticks)
    for entry in entries:
        after = ENTRIES_WRITTEN - timedelta(seconds=30)
        expected = [slot for slot in entry.schedule.next_slots(after, ticks + 1) if slot < end]
        ran = list(
            CronJobLog.objects.filter(code="concurrent.entries", entry=entry.key).values_list(
                "slot", flat=True
            )
        )
        assert sorted(ran) == expected, entry.key
        assert not CronJobLog.objects.filter(entry=entry.key, is_success=False).exists()


def test_hosts_whose_clocks_differ_by_90_seconds_run_each_slot_once(settings):
    # Jobs with a history: a new job's first slot is "now" on whichever clock
    # sees it first.
    for code, step in [
        ("concurrent.every_minute", 1),
        ("concurrent.every_five", 5),
        ("concurrent.cron", 3),
        ("concurrent.fixed_times", 24 * 60 - 23),  # yesterday 00:23
    ]:
        CronJobState.objects.create(
            job_name=code,
            last_slot=T0 - timedelta(minutes=step),
            first_seen=T0 - timedelta(days=1),
        )
    run_hosts(PROCESSES, TICKS, max_skew=90)
    assert_each_slot_ran_once(TICKS)
    assert not CronJobLog.objects.filter(status="missed").exists()
