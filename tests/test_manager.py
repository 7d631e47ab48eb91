"""CronJobManager: django-cron's per-job runner, on top of the Runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest

from django_cronjobs import CronJobBase, CronJobManager, Schedule
from django_cronjobs.models import CronJobLog, RunStatus
from tests import jobs

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def manage(job_class, *, force=False, **options) -> str:
    out = StringIO()
    with CronJobManager(job_class, stdout=out, **options) as manager:
        manager.run(force)
    return out.getvalue()


def test_runs_a_due_job_once_per_slot_with_django_crons_lines(clock):
    assert manage(jobs.EveryMinuteJob) == "[✔] tests.every_minute 00:00 0.000 s\n"
    assert manage(jobs.EveryMinuteJob) == "[ ] tests.every_minute next 2025-01-06 00:01 UTC\n"
    run = CronJobLog.objects.get()
    assert run.slot == T0
    assert run.status == RunStatus.SUCCEEDED


def test_force_runs_outside_the_schedule_and_dry_run_records_nothing(clock):
    assert manage(jobs.DailyJob, dry_run=True) == "[ ] tests.daily\n"
    assert manage(jobs.DailyJob, force=True, dry_run=True) == (
        "[✔] tests.daily: would run (--dry-run: not run, not recorded)\n"
    )
    assert not CronJobLog.objects.exists()
    assert manage(jobs.DailyJob, force=True) == "[✔] tests.daily 0.000 s\n"
    assert CronJobLog.objects.get().slot is None


def test_a_failing_job_is_recorded_and_nothing_is_raised(clock):
    assert manage(jobs.FailingJob).startswith("[✘] tests.failing")
    assert CronJobLog.objects.get().status == RunStatus.FAILED


def test_a_class_defined_anywhere_runs(clock):
    class LocalJob(CronJobBase):
        code = "tests.local"
        schedule = Schedule(run_every_mins=5)

        def do(self):
            return "local"

    assert CronJobManager(LocalJob).should_run_now()
    assert manage(LocalJob, silent=True) == ""
    assert CronJobLog.objects.get().message == "local"
    clock.at(T0 + timedelta(minutes=1))
    assert not CronJobManager(LocalJob).should_run_now()
    assert CronJobManager(LocalJob).should_run_now(force=True)


def test_a_bad_class_is_reported_as_django_cron_did(clock):
    class NoCode(CronJobBase):
        schedule = Schedule(run_every_mins=5)

    assert manage(jobs.NotAJob) == "The cron_job to be run must be a subclass of CronJobBase\n"
    assert manage(NoCode) == "Cron class 'NoCode' does not have a code attribute\n"
    assert not CronJobLog.objects.exists()
