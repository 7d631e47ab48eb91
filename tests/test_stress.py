"""The stress suite: many hosts, many simulated minutes, one database.

CI runs a small version. ``CRONJOBS_STRESS=large`` runs the full one: 16
processes x 200 ticks, with 50 entries (10 in the small one). Either way: no
slot of a job or an entry runs twice, none is missed, and no process sees an
error (on SQLite: no "database is locked").
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection

from django_cronjobs.models import CronJobLog, RunStatus
from tests.test_concurrency import (
    JOBS,
    assert_each_entry_slot_ran_once,
    assert_each_slot_ran_once,
    run_hosts,
    schedule_entries,
)

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

LARGE = os.environ.get("CRONJOBS_STRESS") == "large"
PROCESSES = 16 if LARGE else 6
TICKS = 200 if LARGE else 20


def test_stress(capsys, settings):
    settings.CRON_CLASSES = [*JOBS, "tests.test_concurrency.ConcurrentEntries"]
    entries = schedule_entries(50 if LARGE else 10)
    started = time.monotonic()
    run_hosts(PROCESSES, TICKS, jobs=settings.CRON_CLASSES)  # any error: a non-zero exit
    elapsed = time.monotonic() - started
    assert_each_slot_ran_once(TICKS)
    assert_each_entry_slot_ran_once(entries, TICKS)
    assert not CronJobLog.objects.filter(status=RunStatus.MISSED).exists()
    runs = CronJobLog.objects.count()
    with capsys.disabled():
        print(
            f"\nstress on {connection.vendor}: {PROCESSES} processes x {TICKS} ticks, "
            f"{len(entries)} entries, {PROCESSES * TICKS} runcrons calls, {runs} runs, "
            "0 duplicates, 0 missed, "
            f"{elapsed:.1f} s ({elapsed / TICKS * 1000:.0f} ms per simulated minute)"
        )
