"""cron_job_started and cron_job_finished."""

from __future__ import annotations

import logging

import pytest

from django_cronjobs.models import CronJobLog, RunStatus
from django_cronjobs.signals import cron_job_finished, cron_job_started
from tests import jobs
from tests.conftest import run_crons

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []

    def on_started(sender, code, run, **extra):
        stored = CronJobLog.objects.get(pk=run.pk).status
        calls.append(("started", sender, code, run.status, stored))

    def on_finished(sender, code, run, status, succeeded, **extra):
        stored = CronJobLog.objects.get(pk=run.pk).status
        calls.append(("finished", sender, code, status, succeeded, stored))

    cron_job_started.connect(on_started)
    cron_job_finished.connect(on_finished)
    yield calls
    cron_job_started.disconnect(on_started)
    cron_job_finished.disconnect(on_finished)


def test_each_run_sends_started_then_finished_with_its_outcome(clock, received):
    run_crons("tests.jobs.FailingJob", "tests.jobs.EveryMinuteJob")
    assert received == [
        ("started", jobs.FailingJob, "tests.failing", RunStatus.RUNNING, RunStatus.RUNNING),
        ("finished", jobs.FailingJob, "tests.failing", RunStatus.FAILED, False, RunStatus.FAILED),
        ("started", jobs.EveryMinuteJob, "tests.every_minute", "running", "running"),
        (
            "finished",
            jobs.EveryMinuteJob,
            "tests.every_minute",
            RunStatus.SUCCEEDED,
            True,
            RunStatus.SUCCEEDED,
        ),
    ]


def test_no_signal_for_a_job_that_is_not_due(clock, received):
    run_crons("tests.jobs.DailyJob")
    assert received == []


def test_a_receiver_that_raises_is_logged_and_changes_nothing(clock, caplog):
    def broken(sender, **extra):
        raise RuntimeError("receiver bug")

    cron_job_started.connect(broken)
    cron_job_finished.connect(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="django_cronjobs"):
            out = run_crons("tests.jobs.EveryMinuteJob", "tests.jobs.EveryFiveMinutesJob")
    finally:
        cron_job_started.disconnect(broken)
        cron_job_finished.disconnect(broken)
    assert "[✔] tests.every_minute" in out
    assert "[✔] tests.every_five_minutes" in out
    assert set(CronJobLog.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    errors = [
        record
        for record in caplog.records
        if record.name == "django_cronjobs" and "receiver bug" in record.getMessage()
    ]
    assert len(errors) == 4
    assert "cron_job_started" in errors[0].getMessage()
