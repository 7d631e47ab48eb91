"""Failure mails: once per failure streak of MIN_NUM_FAILURES, once on recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import django
import pytest
from django.core import mail

from django_cronjobs.engine import slot_runs
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.store import claims
from tests import jobs
from tests.conftest import run_crons

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
NOTIFIED = "tests.jobs.FlakyJob"


@pytest.fixture
def notify(settings):
    # Django 6.0 takes plain addresses; before it, (name, address) pairs.
    settings.ADMINS = (
        ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
    )
    settings.CRONJOBS_NOTIFY_FAILURES = True
    settings.CRON_CLASSES = [NOTIFIED, "tests.jobs.EveryFiveMinutesJob"]
    jobs.FlakyJob.fail = True
    yield
    jobs.FlakyJob.fail = True


def minutes(clock, count, start=0):
    for minute in range(start, start + count):
        clock.at(T0 + timedelta(minutes=minute, seconds=3))
        run_crons()


def test_one_mail_after_min_num_failures_in_a_row_and_one_on_recovery(clock, notify):
    minutes(clock, 2)
    assert mail.outbox == []
    minutes(clock, 1, start=2)  # the third failure in a row: FlakyJob.MIN_NUM_FAILURES
    assert [message.subject for message in mail.outbox] == [
        "[Django] Cron job tests.flaky failed 3 times in a row"
    ]
    body = mail.outbox[0].body
    assert "Last run: failed" in body
    assert "RuntimeError: flaky" in body
    assert "every minute" in body
    minutes(clock, 5, start=3)  # still failing: no more mail
    assert len(mail.outbox) == 1
    jobs.FlakyJob.fail = False
    minutes(clock, 2, start=8)
    assert [message.subject for message in mail.outbox][1:] == [
        "[Django] Cron job tests.flaky succeeded again"
    ]
    assert mail.outbox[1].to == ["ops@example.com"]


def test_a_new_streak_after_recovery_mails_again(clock, notify):
    minutes(clock, 3)
    jobs.FlakyJob.fail = False
    minutes(clock, 1, start=3)
    jobs.FlakyJob.fail = True
    minutes(clock, 3, start=4)
    assert [message.subject.split(" ", 1)[1] for message in mail.outbox] == [
        "Cron job tests.flaky failed 3 times in a row",
        "Cron job tests.flaky succeeded again",
        "Cron job tests.flaky failed 3 times in a row",
    ]


def test_a_success_breaks_the_streak(clock, notify):
    minutes(clock, 2)
    jobs.FlakyJob.fail = False
    minutes(clock, 1, start=2)
    jobs.FlakyJob.fail = True
    minutes(clock, 2, start=3)
    assert mail.outbox == []
    assert CronJobState.objects.get(job_name="tests.flaky").failure_streak == 2


def test_abandoned_runs_count_as_failures(clock, notify, monkeypatch):
    # In this process, where the test's FlakyJob.fail holds (after an
    # abandoned run the job would run in a child process).
    monkeypatch.setattr(slot_runs, "can_spawn", lambda: False)
    CronJobState.objects.create(job_name="tests.flaky", first_seen=T0, failure_streak=2)

    assert claims.claim("tests.flaky", T0 - timedelta(minutes=10), None)
    run = claims.start_run("tests.flaky", T0 - timedelta(minutes=10), None)

    CronJobLog.objects.filter(pk=run.pk).update(
        lease_expires_at=T0 - timedelta(minutes=5), host_id="elsewhere"
    )
    clock.at(T0 + timedelta(seconds=3))
    jobs.FlakyJob.fail = False
    run_crons()
    subjects = [message.subject for message in mail.outbox]
    # The abandoned run made three; the run of this tick then succeeded.
    assert subjects == [
        "[Django] Cron job tests.flaky failed 3 times in a row",
        "[Django] Cron job tests.flaky succeeded again",
    ]
    assert CronJobLog.objects.get(pk=run.pk).status == RunStatus.ABANDONED


def test_without_the_setting_nothing_is_mailed(clock, notify, settings):
    settings.CRONJOBS_NOTIFY_FAILURES = False
    minutes(clock, 5)
    assert mail.outbox == []
    assert CronJobState.objects.get(job_name="tests.flaky").failure_streak == 5


def test_the_django_cron_job_sends_the_same_mails(clock, notify, settings):
    settings.CRONJOBS_NOTIFY_FAILURES = False
    settings.FAILED_RUNS_CRONJOB_EMAIL_PREFIX = "[cron] "
    settings.CRON_CLASSES = [NOTIFIED, "django_cronjobs.cron.FailedRunsNotificationCronJob"]
    minutes(clock, 4)
    assert [message.subject for message in mail.outbox] == [
        "[Django] [cron] Cron job tests.flaky failed 3 times in a row"
    ]


def test_a_mail_server_that_fails_is_logged_and_tried_again(clock, notify, monkeypatch, caplog):
    from django.core import mail as django_mail

    outbox = django_mail.outbox

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP server")

    monkeypatch.setattr("django_cronjobs.monitoring.notifications.mail_admins", broken)
    minutes(clock, 3)
    assert outbox == []
    assert "Mailing ADMINS about cron jobs failed" in caplog.text
    monkeypatch.undo()
    minutes(clock, 1, start=3)
    assert [message.subject for message in mail.outbox] == [
        "[Django] Cron job tests.flaky failed 4 times in a row"
    ]
