"""runcrons end to end, in one process, with a simulated clock."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_cronjobs import conf as conf_module
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLock, CronJobLog, CronJobState, RunStatus
from django_cronjobs.store.job_states import ensure_states
from tests import jobs
from tests.conftest import run_crons, runcrons_command

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
EVERY_MINUTE = "tests.jobs.EveryMinuteJob"


def test_prints_django_cron_lines(clock):
    out = run_crons()
    # django-cron's lines, each saying when: the slot and the duration of a
    # run, the next run of a job that is not due.
    assert out.splitlines() == [
        "Running Crons",
        "=" * 40,
        "[✔] tests.every_minute 00:00 0.000 s",
        "[✔] tests.every_five_minutes 00:00 0.000 s",
        "[ ] tests.daily next 2025-01-06 02:30 UTC",  # new: its row was made by this tick
    ]
    clock.at(T0 + timedelta(seconds=30))
    assert run_crons().splitlines()[2:] == [
        "[ ] tests.every_minute next 2025-01-06 00:01 UTC",
        "[ ] tests.every_five_minutes next 2025-01-06 00:05 UTC",
        "[ ] tests.daily next 2025-01-06 02:30 UTC",
    ]


def test_silent_prints_nothing(clock):
    assert run_crons(silent=True) == ""


def test_records_a_run_with_slot_host_and_pid(clock):
    clock.at(T0 + timedelta(seconds=7))
    run_crons(EVERY_MINUTE)
    run = CronJobLog.objects.get()
    assert run.code == "tests.every_minute"
    assert run.slot == T0
    assert run.status == RunStatus.SUCCEEDED
    assert run.is_success
    assert run.message == "done"
    assert run.start_time == T0 + timedelta(seconds=7)
    assert run.end_time == run.start_time
    assert run.hostname
    assert run.pid > 0


def test_each_slot_runs_once_per_minute_tick(clock):
    for minute in range(10):
        clock.at(T0 + timedelta(minutes=minute, seconds=minute % 9))
        run_crons()
        run_crons()  # a second process in the same minute finds nothing due
    slots = list(
        CronJobLog.objects.filter(code="tests.every_five_minutes").values_list("slot", flat=True)
    )
    assert sorted(slots) == [T0, T0 + timedelta(minutes=5)]
    assert CronJobLog.objects.filter(code="tests.every_minute").count() == 10


def test_codes_and_class_paths_select_jobs(clock):
    out = run_crons("tests.every_five_minutes", "tests.jobs.CronExpressionJob")
    assert "[✔] tests.every_five_minutes" in out
    assert "[✔] tests.cron_expression" in out
    assert "tests.every_minute" not in out


def test_force_runs_outside_the_schedule_without_a_slot(clock):
    run_crons(EVERY_MINUTE)
    run_crons(EVERY_MINUTE, force=True)
    forced = CronJobLog.objects.get(slot__isnull=True)
    assert forced.is_success
    # A forced run does not move the schedule.
    assert CronJobState.objects.get(job_name="tests.every_minute").last_slot == T0


def test_dry_run_runs_and_records_nothing(clock):
    out = run_crons(dry_run=True)
    assert "[✔] tests.every_minute" in out
    assert not CronJobLog.objects.exists()
    assert CronJobState.objects.filter(last_slot__isnull=False).count() == 0


def test_every_invocation_runs_at_every_call_and_twice_when_named_twice(clock):
    name = "tests.jobs.EveryInvocationJob"
    run_crons(name)
    run_crons(name, name)
    assert CronJobLog.objects.filter(code="tests.every_invocation").count() == 3


def test_failure_is_recorded_with_traceback_and_next_jobs_still_run(clock):
    out = run_crons("tests.jobs.FailingJob", EVERY_MINUTE)
    assert "[✘] tests.failing" in out
    assert "[✔] tests.every_minute" in out
    failed = CronJobLog.objects.get(code="tests.failing")
    assert failed.status == RunStatus.FAILED
    assert not failed.is_success
    assert "ValueError: boom" in failed.message
    assert "Traceback" in failed.message


def test_retry_after_failure(clock):
    name = "tests.jobs.RetryingJob"
    run_crons(name)
    clock.at(T0 + timedelta(minutes=4))
    assert "[ ] tests.retrying" in run_crons(name)
    jobs.RetryingJob.fail = False
    clock.at(T0 + timedelta(minutes=5, seconds=3))
    assert "[✔] tests.retrying" in run_crons(name)
    assert [run.is_success for run in CronJobLog.objects.order_by("start_time")] == [False, True]
    clock.at(T0 + timedelta(minutes=64))
    assert "[ ] tests.retrying" in run_crons(name)
    clock.at(T0 + timedelta(minutes=65))
    assert "[✔] tests.retrying" in run_crons(name)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (None, ""),
        (42, "42"),
        ({"rows": 3}, "{'rows': 3}"),
        (b"bytes \xff", "bytes \ufffd"),
        ("nul\x00byte", "nulbyte"),
        ("emoji 🎉 ok", "emoji 🎉 ok"),
        ("lone \ud800 surrogate", "lone ? surrogate"),
    ],
)
def test_any_return_value_is_stored_as_text(clock, value, stored):
    jobs.ReturnsJob.value = value
    run_crons("tests.jobs.ReturnsJob")
    run = CronJobLog.objects.get()
    assert run.is_success
    assert run.message == stored


def test_megabytes_of_output_are_truncated_with_a_marker(clock, settings):
    jobs.ReturnsJob.value = "x" * 3_000_000
    run_crons("tests.jobs.ReturnsJob")
    message = CronJobLog.objects.get().message
    assert (
        len(message) <= settings.CRONJOBS_MESSAGE_MAX_LENGTH
        if hasattr(settings, "CRONJOBS_MESSAGE_MAX_LENGTH")
        else len(message) <= 100_000
    )
    assert message.startswith("xxx")
    assert "characters cut" in message


def test_a_broken_str_does_not_lose_the_run(clock):
    class Unprintable:
        def __str__(self):
            raise RuntimeError("no")

    jobs.ReturnsJob.value = Unprintable()
    run_crons("tests.jobs.ReturnsJob")
    assert "Unprintable object" in CronJobLog.objects.get().message


def test_parallel_runs_skip_the_lock(clock):
    CronJobState.objects.create(job_name="tests.parallel", locked=True)
    assert "[✔] tests.parallel" in run_crons("tests.jobs.ParallelJob")


def test_a_held_database_lock_blocks_the_job(clock):
    CronJobLock.objects.create(
        job_name="tests.every_minute",
        locked=True,
        lock_expires_at=T0 + timedelta(hours=1),
    )
    out = run_crons(EVERY_MINUTE)
    assert "tests.jobs.EveryMinuteJob: lock found. Will try later." in out
    assert not CronJobLog.objects.exists()


def test_an_expired_database_lock_is_taken_over(clock):
    CronJobLock.objects.create(
        job_name="tests.every_minute", locked=True, lock_expires_at=T0 - timedelta(seconds=1)
    )
    assert "[✔] tests.every_minute" in run_crons(EVERY_MINUTE)
    state = CronJobLock.objects.get(job_name="tests.every_minute")
    assert not state.locked


def test_the_lock_is_released_after_success_and_failure(clock):
    run_crons(EVERY_MINUTE, "tests.jobs.FailingJob")
    assert not CronJobLock.objects.filter(locked=True).exists()


def test_remove_successful_cron_logs(clock, settings):
    settings.CRONJOBS_REMOVE_SUCCESSFUL_LOGS = True
    for minute in range(3):
        clock.at(T0 + timedelta(minutes=minute))
        run_crons(EVERY_MINUTE)
    assert CronJobLog.objects.count() == 1


def test_django_cron_rows_count_as_history(clock):
    # A row written with django-cron's fields only, 30 seconds ago.
    CronJobLog.objects.create(
        code="tests.every_five_minutes",
        start_time=T0 - timedelta(minutes=2),
        end_time=T0 - timedelta(minutes=2),
        is_success=True,
    )
    assert CronJobLog.objects.get().status == RunStatus.SUCCEEDED
    assert "[ ] tests.every_five_minutes" in run_crons("tests.every_five_minutes")
    clock.at(T0 + timedelta(minutes=3))
    assert "[✔] tests.every_five_minutes" in run_crons("tests.every_five_minutes")


def test_ran_at_time_is_filled_for_run_at_times(clock):
    clock.at(datetime(2025, 1, 6, 14, 0, 4, tzinfo=UTC))
    run_crons("tests.jobs.DailyJob")
    run = CronJobLog.objects.get()
    assert run.ran_at_time.isoformat() == "14:00:00"


def test_runner_is_callable_from_python(clock):
    lines = []
    report = Runner(write=lines.append).run(["tests.jobs.FailingJob", EVERY_MINUTE])
    assert [result.code for result in report.failed] == ["tests.failing"]
    assert [result.outcome for result in report.results] == ["failed", "succeeded"]
    assert lines[0] == "Running Crons"


class TestQueryCounts:
    """A tick reads the state of all jobs in a constant number of queries."""

    def settle(self, clock):
        run_crons()
        clock.at(T0 + timedelta(seconds=20))
        run_crons()  # stores when each job is next due
        clock.at(T0 + timedelta(seconds=30))

    def test_the_first_idle_tick_after_runs_stores_next_due_in_one_statement(self, clock):
        run_crons()
        clock.at(T0 + timedelta(seconds=20))
        with CaptureQueriesContext(connection) as queries:
            run_crons()
        statements = [
            q["sql"]
            for q in queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
        ]
        # The state read, then one UPDATE (after locking the rows it can
        # have without waiting, where the database has row locks).
        assert [sql.split()[0] for sql in statements] in (
            ["SELECT", "UPDATE"],
            ["SELECT", "SELECT", "UPDATE"],
        ), statements
        assert CronJobState.objects.get(job_name="tests.daily").next_due == T0.replace(
            hour=2, minute=30
        )

    def test_idle_tick_is_one_query(self, clock):
        self.settle(clock)
        with CaptureQueriesContext(connection) as queries:
            run_crons()
        assert len(queries) == 1, [q["sql"] for q in queries]

    def test_idle_tick_does_not_grow_with_jobs(self, clock, settings):
        settings.CRON_CLASSES = [*settings.CRON_CLASSES, *MANY_JOB_PATHS]
        self.settle(clock)
        with CaptureQueriesContext(connection) as queries:
            out = run_crons()
        assert out.count("[ ]") == len(settings.CRON_CLASSES)
        assert len(queries) == 1

    def test_idle_tick_does_not_grow_with_the_log(self, clock):
        self.settle(clock)
        CronJobLog.objects.bulk_create(
            CronJobLog(code="tests.every_minute", start_time=T0, end_time=T0, is_success=True)
            for _ in range(2000)
        )
        with CaptureQueriesContext(connection) as queries:
            run_crons()
        assert len(queries) == 1

    def test_with_retention_an_idle_tick_is_two_queries(self, clock, settings):
        settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 7
        self.settle(clock)
        with CaptureQueriesContext(connection) as queries:
            run_crons()
        assert len(queries) == 2

    def test_a_run_takes_five_statements(self, clock):
        self.settle(clock)
        clock.at(T0 + timedelta(minutes=1))
        with CaptureQueriesContext(connection) as queries:
            run_crons(EVERY_MINUTE)
        # Read states, claim, insert the running row, store the outcome,
        # update the state. (The savepoint only exists inside the test's
        # transaction.)
        statements = [
            q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]
        assert len(statements) == 5, statements


class CountingSettings:
    """Django's settings, counting the reads of each name."""

    def __init__(self) -> None:
        self.reads: Counter[str] = Counter()

    def __getattr__(self, name: str) -> object:
        self.reads[name] += 1
        return getattr(django_settings, name)


def test_a_tick_reads_each_setting_once_and_the_next_tick_again(clock, settings, monkeypatch):
    counting = CountingSettings()
    monkeypatch.setattr(conf_module, "django_settings", counting)
    run_crons("tests.jobs.FailingJob", EVERY_MINUTE, *MANY_JOB_PATHS[:5])
    assert counting.reads["CRONJOBS_LEASE_SECONDS"] == 1
    assert max(counting.reads.values()) == 1, counting.reads.most_common(3)
    # A setting changed between two ticks holds for the next one.
    settings.CRONJOBS_MESSAGE_MAX_LENGTH = 300
    clock.at(T0 + timedelta(minutes=1))
    run_crons("tests.jobs.FailingJob")
    message = CronJobLog.objects.filter(code="tests.failing").latest("pk").message
    assert len(message) <= 300


MANY_JOB_PATHS = [f"tests.many_jobs.Job{i}" for i in range(50)]


def test_retention_deletes_old_rows_in_batches_but_keeps_each_jobs_latest(clock, settings):
    settings.CRONJOBS_DELETE_LOGS_OLDER_THAN = 1
    settings.CRONJOBS_RETENTION_BATCH_SIZE = 7
    old = T0 - timedelta(days=3)
    CronJobLog.objects.bulk_create(
        CronJobLog(code="tests.daily", start_time=old, end_time=old, is_success=True)
        for _ in range(30)
    )
    latest = CronJobLog.objects.create(
        code="tests.daily", start_time=old, end_time=old, is_success=True
    )
    CronJobState.objects.create(job_name="tests.daily", last_run_id=latest.pk)
    running = CronJobLog.objects.create(
        code="tests.daily", start_time=old, status=RunStatus.RUNNING
    )
    run_crons("tests.daily")
    assert set(CronJobLog.objects.values_list("pk", flat=True)) == {latest.pk, running.pk}


def test_old_django_cron_setting_names_still_work(clock, settings):
    settings.DJANGO_CRON_DELETE_LOGS_OLDER_THAN = 1
    old = T0 - timedelta(days=3)
    CronJobLog.objects.create(code="x", start_time=old, end_time=old, is_success=True)
    run_crons("tests.daily")
    assert not CronJobLog.objects.filter(code="x").exists()


def test_call_command_does_not_raise_for_a_failed_job(clock):
    out = run_crons("tests.jobs.FailingJob")
    assert "[✘] tests.failing" in out
    call_command("runcrons", "tests.jobs.Missing", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_command_line_exit_status():
    ok = runcrons_command(EVERY_MINUTE)
    assert ok.returncode == 0, ok.stderr
    failed = runcrons_command("tests.jobs.FailingJob", EVERY_MINUTE, "--force")
    assert failed.returncode == 1
    assert "[✔] tests.every_minute" in failed.stdout
    broken = runcrons_command("tests.jobs.Missing", EVERY_MINUTE, "--force")
    assert broken.returncode == 2
    assert (
        "ERROR tests.jobs.Missing: (django_cronjobs.E001) No configured cron job" in broken.stdout
    )
    assert "Make sure these are valid cron class names: tests.jobs.Missing" in broken.stdout
    assert "[✔] tests.every_minute" in broken.stdout
    assert "Traceback" not in broken.stderr


def test_a_database_error_in_a_job_inside_the_callers_transaction(clock):
    # This test runs inside a transaction, as Django's TestCase does.
    out = run_crons("tests.jobs.DatabaseErrorJob", EVERY_MINUTE)
    assert "[✘] tests.database_error" in out
    assert "[✔] tests.every_minute" in out
    failed = CronJobLog.objects.get(code="tests.database_error")
    assert "IntegrityError" in failed.message
    assert not CronJobState.objects.filter(job_name="tests.duplicate").exists()


def test_a_schedule_that_cannot_be_computed_breaks_only_its_job(clock, monkeypatch):
    def explode(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(jobs.DailyJob.schedule, "plan", explode)
    report = Runner().run(["tests.jobs.DailyJob", EVERY_MINUTE])
    assert [result.outcome for result in report.results] == ["broken", "succeeded"]
    assert "OverflowError" in report.broken[0].detail


def test_django_cron_style_h_mm_times(clock):
    clock.at(datetime(2025, 1, 6, 6, 30, 5, tzinfo=UTC))
    assert "[✔] tests.django_cron_times" in run_crons("tests.jobs.DjangoCronTimesJob")
    assert CronJobLog.objects.get().ran_at_time.isoformat() == "06:30:00"


def test_a_scheduled_job_held_by_a_live_database_lock_says_so(clock):
    CronJobLock.objects.create(
        job_name="tests.every_minute", locked=True, lock_expires_at=T0 + timedelta(minutes=1)
    )
    report = Runner(write=lambda line: None).run([EVERY_MINUTE])
    assert [result.outcome for result in report.results] == ["locked"]


def test_a_slot_recorded_as_missed_by_a_stale_process_still_runs(clock):
    # Another process recorded our slot as missed between our claim and insert.
    from django_cronjobs.store import claims

    ensure_states(["tests.every_minute"])
    assert claims.claim("tests.every_minute", T0, None)
    claims.record_missed("tests.every_minute", [T0], False, "Missed")
    run = claims.start_run("tests.every_minute", T0, None)
    assert run is not None
    stored = CronJobLog.objects.get()
    assert (stored.pk, stored.status, stored.end_time) == (run.pk, RunStatus.RUNNING, None)


def test_django_cron_helpers(clock):
    import django_cronjobs
    from django_cronjobs.backends.lock.cache import CacheLock
    from django_cronjobs.backends.lock.database import DatabaseLock
    from django_cronjobs.backends.lock.file import FileLock
    from django_cronjobs.locks import lock_backend_class

    assert lock_backend_class("django_cronjobs.backends.lock.file.FileLock") is FileLock
    assert {CacheLock, DatabaseLock, FileLock} <= {
        lock_backend_class(n) for n in ("cache", "database", "file")
    }
    assert django_cronjobs.get_current_time() == T0
    assert django_cronjobs.get_class("tests.jobs.DailyJob") is jobs.DailyJob
    assert jobs.EveryFiveMinutesJob.get_time_until_run() == timedelta(0)
    run_crons("tests.jobs.EveryFiveMinutesJob")
    clock.at(T0 + timedelta(minutes=2))
    assert jobs.EveryFiveMinutesJob.get_time_until_run() == timedelta(minutes=3)


def test_time_until_run_counts_a_retry_after_a_failed_run(clock):
    jobs.RetryingJob.fail = True
    run_crons("tests.jobs.RetryingJob")  # fails at T0: retried 5 minutes later
    clock.at(T0 + timedelta(minutes=2))
    assert jobs.RetryingJob.get_time_until_run() == timedelta(minutes=3)
    clock.at(T0 + timedelta(minutes=6))
    assert jobs.RetryingJob.get_time_until_run() == timedelta(0)


def test_time_until_run_is_the_next_slot_when_only_missed_slots_are_past(clock):
    run_crons("tests.jobs.SkippingJob")  # runs the slot of T0
    clock.at(T0 + timedelta(hours=3, minutes=30))
    # 01:00, 02:00 and 03:00 are missed (skipped): nothing runs before 04:00.
    assert jobs.SkippingJob.get_time_until_run() == timedelta(minutes=30)


@pytest.mark.django_db(transaction=True)
def test_a_large_clock_skew_is_warned_about(caplog):
    import time_machine

    Runner().run([EVERY_MINUTE])  # creates the state rows
    report = Runner().run([EVERY_MINUTE])
    assert abs(report.clock_skew) < 5
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=3), tick=True):
        report = Runner().run([EVERY_MINUTE])
    assert 170 < report.clock_skew < 190
    assert "clock is +18" in caplog.text or "clock is +17" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_code_the_database_cannot_store_breaks_only_its_job():
    # On PostgreSQL, a NUL byte in one code failed every tick with "database
    # unavailable" (exit status 3) and no job ran.
    process = runcrons_command("tests.broken_jobs.NulCodeJob", "tests.broken_jobs.GoodJob")
    assert process.returncode == 2, process.stderr
    assert (
        "ERROR tests.broken_jobs.NulCodeJob: (django_cronjobs.E020) "
        "NulCodeJob.code contains control characters: "
        "'broken.nul\\x00code'." in process.stdout
    )
    assert "\x00" not in process.stdout
    assert "[✔] broken.good" in process.stdout
    assert "database unavailable" not in process.stderr
    assert list(CronJobLog.objects.values_list("code", flat=True)) == ["broken.good"]


@pytest.mark.parametrize(
    ("error", "line", "status"),
    [
        ("OperationalError", "database unavailable: connection refused", 3),
        ("DataError", "database error: DataError: connection refused", 1),
        ("ProgrammingError", "database error: ProgrammingError: connection refused", 1),
        ("IntegrityError", "database error: IntegrityError: connection refused", 1),
    ],
)
def test_only_a_database_out_of_reach_is_unavailable(monkeypatch, error, line, status):
    import django.db
    from django.core.management.base import CommandError

    def fail(self, names=None):
        raise getattr(django.db, error)("connection refused\nDETAIL: more")

    monkeypatch.setattr(Runner, "run", fail)
    with pytest.raises(CommandError) as raised:
        run_crons()
    assert str(raised.value) == line
    assert raised.value.returncode == status


def test_entries_that_are_not_paths_are_broken_and_the_others_run(clock, settings):
    settings.CRON_CLASSES = [EVERY_MINUTE, 42, jobs.DailyJob]
    out = run_crons(silent=True)  # call_command does not raise for them
    assert out.splitlines() == [
        "ERROR 42: (django_cronjobs.E015) CRON_CLASSES must list dotted paths, not 42.",
        "ERROR <class 'tests.jobs.DailyJob'>: (django_cronjobs.E015) "
        "CRON_CLASSES must list dotted paths, "
        "not <class 'tests.jobs.DailyJob'>.",
    ]
    assert list(CronJobLog.objects.values_list("code", flat=True)) == ["tests.every_minute"]
    report = Runner(force=True).run()
    assert [(result.code, result.outcome) for result in report.results] == [
        ("42", "broken"),
        ("<class 'tests.jobs.DailyJob'>", "broken"),
        ("tests.every_minute", "succeeded"),
    ]


@pytest.mark.parametrize("value", ["tests.jobs.EveryMinuteJob", 5, None])
def test_a_cron_classes_that_is_not_a_list_is_broken(clock, settings, value):
    settings.CRON_CLASSES = value
    out = run_crons(silent=True)
    assert out.splitlines() == [
        "ERROR CRON_CLASSES: (django_cronjobs.E015) "
        f"CRON_CLASSES must be a list of dotted paths, not {value!r}."
    ]
    assert not CronJobLog.objects.exists()
    assert [result.outcome for result in Runner().run().results] == ["broken"]


def test_naming_a_job_is_not_confused_with_a_broken_entry(clock, settings):
    settings.CRON_CLASSES = [EVERY_MINUTE, 42]
    assert run_crons("42", silent=True).startswith("ERROR 42: (django_cronjobs.E001) ")
    assert run_crons("tests.every_minute", silent=True) == ""


def test_code_that_patches_the_package_logger_sees_django_crons_lines(clock, settings):
    # django-cron's own test_requires_code, with the import name changed.
    from unittest import mock

    with mock.patch("django_cronjobs.logger") as logger:
        out = run_crons("tests.jobs.NoCodeJob", force=True)
    assert "does not have a code attribute" in out
    logger.info.assert_called_once_with("Cron class 'NoCodeJob' does not have a code attribute")
    # A failure with DJANGO_CRON_OUTPUT_ERRORS, too.
    settings.DJANGO_CRON_OUTPUT_ERRORS = True
    with mock.patch("django_cronjobs.logger") as logger:
        run_crons("tests.jobs.FailingJob", force=True)
    (template, code, message), _ = logger.error.call_args
    assert (template, code) == ("%s cronjob error:\n%s", "tests.failing")
    assert "Traceback" in message


def test_a_failed_run_says_why_on_the_console(clock):
    # The exception's last line, so the mail cron sends tells the reason.
    out = run_crons("tests.jobs.FailingJob", force=True)
    (line,) = [line for line in out.splitlines() if line.startswith("[✘]")]
    assert line == "[✘] tests.failing 0.000 s: ValueError: boom"
    # -v 2: the whole traceback after it, indented.
    out = run_crons("tests.jobs.FailingJob", force=True, verbosity=2)
    lines = out.splitlines()
    at = lines.index("[✘] tests.failing 0.000 s: ValueError: boom")
    assert lines[at + 1] == "    Traceback (most recent call last):"
    assert lines[-1] == "    ValueError: boom"


def test_a_failure_reason_is_the_exceptions_line_or_the_messages_first():
    from django_cronjobs.text.log_text import failure_reason

    traceback = "Traceback (most recent call last):\n  File \"x.py\"\nKeyError: 'feed'\n"
    assert failure_reason("failed", traceback) == "KeyError: 'feed'"
    assert failure_reason("timed_out", "Timed out after 5 s: stopped with SIGTERM.") == (
        "Timed out after 5 s: stopped with SIGTERM."
    )
    noted = traceback + "[the job left a database transaction open: it was rolled back]"
    assert failure_reason("failed", noted) == "KeyError: 'feed'"
    assert failure_reason("failed", "") == "failed"
    assert len(failure_reason("failed", "x" * 500)) == 200
    # A database error's message runs over lines ('LINE 1: ...', '^'): its first counts.
    stack = 'Traceback (most recent call last):\n  File "x.py"\n'
    database = stack + 'ProgrammingError: relation "x" does not exist\nLINE 1: SELECT\n    ^\n'
    assert failure_reason("failed", database) == 'ProgrammingError: relation "x" does not exist'
    # Chained exceptions: the last traceback's.
    chained = (
        traceback
        + "\nDuring handling of the above exception...\n\n"
        + traceback.replace("KeyError: 'feed'", "RuntimeError: outer")
    )
    assert failure_reason("failed", chained) == "RuntimeError: outer"
    group = (
        '  + Exception Group Traceback (most recent call last):\n  |   File "x.py"\n'
        "  | ExceptionGroup: many (1 sub-exception)\n  +-+---- 1 ----\n    | ValueError: no\n"
    )
    assert failure_reason("failed", group) == "ExceptionGroup: many (1 sub-exception)"


def test_a_traceback_cut_to_size_keeps_its_exception_line():
    from django_cronjobs.text.log_text import as_log_text, failure_reason

    stack = '  File "x.py", line 1, in f\n    pass\n' * 20_000
    message = as_log_text(f"Traceback (most recent call last):\n{stack}ValueError: deep\n", 100_000)
    assert len(message) <= 100_000
    assert "characters cut" in message
    assert failure_reason("failed", message) == "ValueError: deep"


def test_an_impossible_concurrency_is_refused_from_python_too():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must be a whole number, 1 or more"):
        run_crons(concurrency=0)


@pytest.mark.django_db(transaction=True)
def test_the_closing_error_line_names_each_failed_job_and_why():
    # With --silent (django-cron printed nothing for a failure) cron mails
    # this stderr line alone.
    process = runcrons_command("tests.jobs.FailingJob", "--silent", "--force")
    assert process.returncode == 1
    assert process.stdout == ""
    assert "CommandError: cron jobs failed: tests.failing (ValueError: boom)" in process.stderr


def test_a_dry_run_says_what_would_run_and_runs_nothing(clock):
    out = run_crons("tests.jobs.EveryMinuteJob", "tests.jobs.DailyJob", dry_run=True)
    assert out.splitlines()[2:] == [
        "[✔] tests.every_minute: would run (--dry-run: not run, not recorded)",
        "[ ] tests.daily",
    ]
    assert not CronJobLog.objects.exists()


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_an_impossible_concurrency_is_refused(value):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must be a whole number, 1 or more"):
        run_crons(f"--concurrency={value}")


@pytest.mark.django_db(transaction=True)
def test_a_name_that_matches_no_job_says_so_and_exits_2():
    process = runcrons_command("tests.every_minnute")  # a typo in a code
    assert process.returncode == 2
    (line,) = [line for line in process.stdout.splitlines() if line.startswith("ERROR")]
    assert line.startswith(
        "ERROR tests.every_minnute: (django_cronjobs.E001) No configured cron job has the code "
        "or path 'tests.every_minnute', and it does not import ("
    )
    assert not CronJobLog.objects.exists()
