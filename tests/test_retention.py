"""Retention: failures kept longer than successes, and the newest N runs of a job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronEntry, CronJobLog, RunStatus
from django_cronjobs.store.retention import delete_old_logs
from tests.conftest import run_crons
from tests.jobs import ReportJob

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)


def old_run(status: str, days: float, code: str = "tests.old") -> CronJobLog:
    moment = T0 - timedelta(days=days)
    return CronJobLog.objects.create(
        code=code,
        start_time=moment,
        end_time=moment,
        status=status,
        is_success=status == RunStatus.SUCCEEDED,
    )


def test_failures_are_kept_longer_than_successes(clock, settings):
    settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 1
    settings.CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN = 30
    success = old_run(RunStatus.SUCCEEDED, 3)
    failure = old_run(RunStatus.FAILED, 3)
    timed_out = old_run(RunStatus.TIMED_OUT, 20)
    ancient_failure = old_run(RunStatus.FAILED, 40)
    recent = old_run(RunStatus.SUCCEEDED, 0.5)
    assert delete_old_logs() == 2
    left = set(CronJobLog.objects.values_list("pk", flat=True))
    assert left == {failure.pk, timed_out.pk, recent.pk}
    assert success.pk not in left
    assert ancient_failure.pk not in left


def test_failures_follow_successes_unless_told_and_none_keeps_them(clock, settings):
    settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 1
    old_run(RunStatus.FAILED, 3)
    assert delete_old_logs() == 1
    settings.CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN = None
    kept = old_run(RunStatus.FAILED, 300)
    old_run(RunStatus.SUCCEEDED, 300)
    assert delete_old_logs() == 1
    assert list(CronJobLog.objects.values_list("pk", flat=True)) == [kept.pk]


def test_with_both_an_idle_tick_stays_two_queries(clock, settings):
    settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 1
    settings.CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN = 30
    run_crons()
    clock.at(T0 + timedelta(seconds=20))
    run_crons()
    clock.at(T0 + timedelta(seconds=30))
    with CaptureQueriesContext(connection) as queries:
        run_crons()
    assert len(queries) == 2, [query["sql"] for query in queries]


class Minutely(CronJobBase):
    code = "tests.minutely_kept"
    schedule = Schedule(run_every_mins=1)
    KEEP_RUNS = 3
    failing_minutes: tuple[int, ...] = (2,)

    def do(self) -> None:
        from django.utils import timezone

        if timezone.now().minute in Minutely.failing_minutes:
            raise RuntimeError("a bad minute")


def test_keep_runs_keeps_the_newest_successes_and_every_failure(clock, settings):
    settings.CRON_CLASSES = ["tests.test_retention.Minutely"]
    for minute in range(8):
        clock.at(T0 + timedelta(minutes=minute, seconds=3))
        Runner(silent=True).run()
    runs = CronJobLog.objects.filter(code="tests.minutely_kept").order_by("slot")
    assert [(run.slot.minute, run.status) for run in runs] == [
        (2, RunStatus.FAILED),
        (5, RunStatus.SUCCEEDED),
        (6, RunStatus.SUCCEEDED),
        (7, RunStatus.SUCCEEDED),
    ]


def test_keep_runs_counts_each_entry_apart(clock, settings, monkeypatch):
    monkeypatch.setattr(ReportJob, "KEEP_RUNS", 2, raising=False)
    settings.CRON_CLASSES = ["tests.jobs.ReportJob"]
    for key in ("a", "b"):
        CronEntry.objects.schedule(ReportJob, key=key, schedule=Schedule(run_every_mins=1))
    for minute in range(1, 6):
        clock.at(T0 + timedelta(minutes=minute, seconds=3))
        Runner(silent=True).run()
    for key in ("a", "b"):
        slots = CronJobLog.objects.filter(code="tests.report", entry=key).values_list(
            "slot", flat=True
        )
        assert sorted(slot.minute for slot in slots) == [4, 5]


class KeptAYear(CronJobBase):
    code = "tests.kept_a_year"
    schedule = Schedule(run_every_mins=60 * 24 * 7)
    KEEP_DAYS = 365

    def do(self) -> str:
        return "weekly"


class FailuresKeptForever(CronJobBase):
    code = "tests.failures_kept"
    schedule = Schedule(run_every_mins=60)
    KEEP_DAYS = 2  # a quarter of the setting's
    KEEP_FAILED_DAYS = 10_000

    def do(self) -> str:
        return "hourly"


def test_a_jobs_own_ages_override_the_settings_for_its_runs_only(clock, settings):
    settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 7
    settings.CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN = 30
    settings.CRON_CLASSES = [
        "tests.test_retention.KeptAYear",
        "tests.test_retention.FailuresKeptForever",
        "tests.jobs.EveryMinuteJob",
    ]
    weekly = [old_run(RunStatus.SUCCEEDED, days, "tests.kept_a_year") for days in (100, 400)]
    hourly_success = old_run(RunStatus.SUCCEEDED, 3, "tests.failures_kept")
    hourly_failure = old_run(RunStatus.FAILED, 3_000, "tests.failures_kept")
    other = [old_run(RunStatus.SUCCEEDED, 10), old_run(RunStatus.FAILED, 10)]
    # A tick of one job applies every configured job's own ages.
    run_crons("tests.jobs.EveryMinuteJob")
    left = set(CronJobLog.objects.exclude(code="tests.every_minute").values_list("pk", flat=True))
    assert left == {weekly[0].pk, hourly_failure.pk, other[1].pk}
    assert hourly_success.pk not in left


class Broken(CronJobBase):
    code = "tests.broken_retention"
    schedule = Schedule(run_every_mins=5)
    KEEP_RUNS = 0
    KEEP_DAYS = float("nan")
    KEEP_FAILED_DAYS = "30"  # type: ignore[assignment]

    def do(self) -> str:
        return ""


def test_bad_retention_attributes_are_e025_and_the_job_does_not_run(settings):
    from django.core import checks

    settings.CRON_CLASSES = ["tests.test_retention.Broken", "tests.jobs.EveryMinuteJob"]
    errors = [m for m in checks.run_checks() if m.id == "django_cronjobs.E025"]
    assert [m.msg for m in errors] == [
        "Broken.KEEP_RUNS must be a whole number, 1 or more, not 0.",
        "Broken.KEEP_DAYS must be a finite number of days > 0, not nan.",
        "Broken.KEEP_FAILED_DAYS must be a finite number of days > 0, not '30'.",
    ]
    report = Runner(silent=True).run()
    assert [(r.code, r.outcome) for r in report.results if r.run is not None] == [
        ("tests.every_minute", "succeeded")
    ]
    assert {r.code for r in report.broken} == {"tests.broken_retention"}


def test_an_age_longer_than_the_calendar_keeps_every_run(clock, settings):
    # Meant as "for ever": the cutoff would fall before the year 1.
    settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 10**6
    settings.CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN = 10**9
    kept = [old_run(RunStatus.SUCCEEDED, 400), old_run(RunStatus.FAILED, 4000)]
    assert delete_old_logs() == 0
    assert CronJobLog.objects.count() == len(kept)
