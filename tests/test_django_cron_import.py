"""manage.py cronjobs import-django-cron, against a table with django-cron 0.6.0's schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.apps.registry import Apps
from django.core.management import CommandError, call_command
from django.db import connection, models

from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from tests.conftest import run_crons

pytestmark = pytest.mark.django_db(transaction=True)  # DDL commits on MySQL

T0 = datetime(2025, 1, 6, tzinfo=UTC)


class DjangoCronJobLog(models.Model):
    """django-cron 0.6.0's CronJobLog, field for field and index for index."""

    code = models.CharField(max_length=64, db_index=True)
    start_time = models.DateTimeField(db_index=True)
    end_time = models.DateTimeField(db_index=True)
    is_success = models.BooleanField(default=False)
    message = models.TextField(default="", blank=True)
    ran_at_time = models.TimeField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        apps = Apps()
        app_label = "django_cron"
        db_table = "django_cron_cronjoblog"
        indexes = [
            models.Index(fields=["code", "is_success", "ran_at_time"]),
            models.Index(fields=["code", "start_time", "ran_at_time"]),
            models.Index(fields=["code", "start_time"]),
        ]

    def __str__(self) -> str:
        return self.code


@pytest.fixture
def django_cron_table() -> Iterator[type[DjangoCronJobLog]]:
    with connection.schema_editor() as editor:
        editor.create_model(DjangoCronJobLog)
    yield DjangoCronJobLog
    with connection.schema_editor() as editor:
        editor.delete_model(DjangoCronJobLog)


def their_run(code: str, start: datetime, success: bool = True, **fields: object) -> None:
    DjangoCronJobLog.objects.create(
        code=code,
        start_time=start,
        end_time=start + timedelta(seconds=2),
        is_success=success,
        message=fields.pop("message", "" if success else "Traceback: boom"),
        **fields,
    )


def import_history(*args: str) -> str:
    out = StringIO()
    call_command("cronjobs", "import-django-cron", *args, stdout=out)
    return out.getvalue()


def test_copies_the_runs_and_skips_them_the_second_time(django_cron_table, clock):
    their_run("tests.every_minute", T0 - timedelta(minutes=2))
    their_run("tests.every_minute", T0 - timedelta(minutes=1), success=False)
    their_run("tests.daily", T0 - timedelta(hours=22), ran_at_time=time(2, 30))
    their_run("old.removed_job", T0 - timedelta(days=300))
    out = import_history()
    assert "Read 4 django-cron runs from django_cron_cronjoblog: imported 4, skipped 0" in out
    assert "old.removed_job, tests.daily, tests.every_minute" in out
    runs = {
        (run.code, run.start_time): run for run in CronJobLog.objects.all()
    }  # fmt: skip
    failed = runs["tests.every_minute", T0 - timedelta(minutes=1)]
    assert failed.status == RunStatus.FAILED
    assert not failed.is_success
    assert failed.message == "Traceback: boom"
    assert failed.end_time == T0 - timedelta(minutes=1) + timedelta(seconds=2)
    assert failed.slot is None
    daily = runs["tests.daily", T0 - timedelta(hours=22)]
    assert daily.status == RunStatus.SUCCEEDED
    assert daily.ran_at_time == time(2, 30)
    assert "skipped 4 already in the log" in import_history()
    assert CronJobLog.objects.count() == 4


def test_the_schedules_continue_from_django_crons_last_runs(django_cron_table, clock):
    their_run("tests.every_five_minutes", T0 - timedelta(minutes=2, seconds=50))
    their_run("tests.every_minute", T0 - timedelta(seconds=40), success=False)
    import_history()
    state = CronJobState.objects.get(job_name="tests.every_five_minutes")
    assert state.last_slot == T0 - timedelta(minutes=3)
    assert state.last_status == RunStatus.SUCCEEDED
    assert state.last_succeeded_at == T0 - timedelta(minutes=2, seconds=50)
    failing = CronJobState.objects.get(job_name="tests.every_minute")
    assert failing.last_status == RunStatus.FAILED
    assert failing.last_succeeded_at is None
    assert not CronJobState.objects.filter(job_name="old.removed_job").exists()
    clock.at(T0 + timedelta(seconds=5))
    out = run_crons()
    assert "[ ] tests.every_five_minutes" in out  # django-cron ran it 3 minutes ago
    clock.at(T0 + timedelta(minutes=2, seconds=5))
    assert "[✔] tests.every_five_minutes" in run_crons()
    run = CronJobLog.objects.filter(code="tests.every_five_minutes").latest("start_time")
    assert run.slot == T0 + timedelta(minutes=2)


def test_a_job_that_ran_here_later_keeps_its_state(django_cron_table, clock):
    run_crons()  # every job runs here at T0
    their_run("tests.every_minute", T0 - timedelta(days=1))
    import_history()
    state = CronJobState.objects.get(job_name="tests.every_minute")
    assert state.last_slot == T0
    assert state.last_started_at == T0


def test_dry_run_writes_nothing(django_cron_table, clock):
    their_run("tests.every_minute", T0 - timedelta(minutes=2))
    out = import_history("--dry-run")
    assert "would import 1, skipped 0" in out
    assert not CronJobLog.objects.exists()
    assert not CronJobState.objects.exists()


def test_a_missing_table_is_a_clear_error(clock):
    with pytest.raises(CommandError, match="has no table 'no_such_table'"):
        import_history("--table", "no_such_table")


def test_large_histories_are_copied_in_batches(django_cron_table, clock):
    from django_cronjobs.store.django_cron_history import import_django_cron_history

    DjangoCronJobLog.objects.bulk_create(
        DjangoCronJobLog(
            code="tests.every_minute",
            start_time=T0 - timedelta(minutes=minute),
            end_time=T0 - timedelta(minutes=minute),
            is_success=True,
        )
        for minute in range(1, 251)
    )
    batches = []
    report = import_django_cron_history(batch_size=100, progress=lambda r: batches.append(r.read))
    assert batches == [100, 200, 250]
    assert report.imported == 250
    assert CronJobLog.objects.count() == 250


def test_running_it_again_finishes_an_interrupted_catch_up(django_cron_table, clock):
    their_run("tests.every_five_minutes", T0 - timedelta(minutes=2, seconds=50))
    import_history()
    CronJobState.objects.all().delete()  # as if it had stopped before the states
    out = import_history()
    assert "imported 0, skipped 1" in out
    assert "Continuing the schedules of: tests.every_five_minutes." in out
    state = CronJobState.objects.get(job_name="tests.every_five_minutes")
    assert state.last_slot == T0 - timedelta(minutes=3)


def test_runs_stored_in_the_future_do_not_hold_a_job_back(django_cron_table, clock):
    # django-cron with USE_TZ = False east of UTC: local times read as UTC.
    their_run("tests.every_minute", T0 + timedelta(hours=1))
    import_history()
    state = CronJobState.objects.get(job_name="tests.every_minute")
    assert state.last_slot == T0
    assert state.last_started_at == T0
    clock.at(T0 + timedelta(minutes=1, seconds=5))
    assert "[✔] tests.every_minute" in run_crons()


def test_a_newer_imported_failure_clears_the_stored_due_moment(django_cron_table, clock):
    # Silent ticks trust a stored moment without reading its row: a failure
    # imported after it was stored must make the row read again (for its retry).
    CronJobState.objects.create(
        job_name="tests.every_minute",
        last_started_at=T0 - timedelta(days=2),
        last_status=RunStatus.SUCCEEDED,
        next_due=T0 + timedelta(hours=1),
        due_key="stored",
    )
    their_run("tests.every_minute", T0 - timedelta(seconds=40), success=False)
    import_history()
    state = CronJobState.objects.get(job_name="tests.every_minute")
    assert state.last_status == RunStatus.FAILED
    assert state.next_due is None
