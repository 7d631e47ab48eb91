"""``manage.py cronjobs``: list, next, status --check, crontab; and Schedule.describe()."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_cronjobs import Schedule
from django_cronjobs.models import CronJobState, RunStatus
from tests.conftest import command_line_env, run_crons

T0 = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def cronjobs(*args: str) -> str:
    out = StringIO()
    call_command("cronjobs", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (Schedule(run_every_mins=0), "at every runcrons call"),
        (Schedule(run_every_mins=1), "every minute"),
        (Schedule(run_every_mins=90), "every 90 minutes"),
        (Schedule(run_every_mins=120), "every 2 hours"),
        (Schedule(run_every_mins=1440), "every day"),
        (
            Schedule(run_at_times=["14:00", "2:30"], timezone="Europe/Berlin"),
            "every day at 02:30 and 14:00 Europe/Berlin",
        ),
        (Schedule(cron="*/15  * * * *", timezone="UTC"), "every 15 minutes"),
        (Schedule(cron="0 0 L  * *", timezone="UTC"), 'cron "0 0 L * *" UTC'),
        (
            Schedule(run_at_times=["07:30"], timezone="UTC", run_weekly_on_days=[4, 0, 1, 2, 3]),
            "every day at 07:30 UTC, on Monday to Friday",
        ),
        (
            Schedule(run_every_mins=60, run_weekly_on_days=[5, 6, 0]),
            "every hour, on Monday, Saturday, Sunday",
        ),
        (
            Schedule(run_every_mins=1440, run_monthly_on_days=[15, 1]),
            "every day, on day 1, 15 of the month",
        ),
        (
            Schedule(run_every_mins=60, retry_after_failure_mins=5),
            "every hour; a failed run is retried 5 minutes later",
        ),
    ],
)
def test_schedules_read_as_plain_english(schedule, text):
    assert schedule.describe() == text


@pytest.mark.django_db
def test_list_shows_schedule_next_and_last_run(clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    lines = cronjobs("list", "--wide").splitlines()
    assert lines[0].split() == ["CODE", "NEXT", "RUN", "STATUS", "LAST", "RUN", "SCHEDULE"]
    every_minute = next(line for line in lines if line.startswith("tests.every_minute "))
    assert every_minute.endswith("every minute")
    assert "2025-01-06 00:01 UTC  succeeded" in every_minute  # next
    assert "2025-01-06 00:00 UTC" in every_minute  # last
    daily = next(line for line in lines if line.startswith("tests.daily "))
    assert "every day at 02:30 and 14:00 UTC" in daily
    assert "2025-01-06 02:30 UTC  never run" in daily


@pytest.mark.django_db
def test_list_fits_100_columns_and_a_paused_job_says_paused(clock, settings):
    settings.CRON_CLASSES = [*settings.CRON_CLASSES, "tests.jobs.LongScheduleJob"]
    run_crons()
    cronjobs("pause", "tests.daily")
    lines = cronjobs("list").splitlines()
    assert lines[0].split() == ["CODE", "NEXT", "RUN", "STATUS", "SCHEDULE"]
    assert max(map(len, lines)) <= 100
    daily = next(line for line in lines if line.startswith("tests.daily "))
    assert daily.split()[1:3] == ["paused", "-"]  # no next run; its last status
    # The long schedule wraps under its column.
    at = next(n for n, line in enumerate(lines) if line.startswith("tests.long_schedule "))
    column = lines[0].index("SCHEDULE")
    assert lines[at + 1][:column].strip() == ""
    assert lines[at + 1][column:].strip()


@pytest.mark.django_db
def test_next_lists_upcoming_runs_in_the_schedules_zone(clock, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    clock.at(T0 + timedelta(hours=5))
    assert cronjobs("next", "tests.daily", "-n", "3").splitlines() == [
        "2025-01-06 14:00 Europe/Berlin",
        "2025-01-07 02:30 Europe/Berlin",
        "2025-01-07 14:00 Europe/Berlin",
    ]
    # By dotted path too; -n below 1 and unknown jobs are clear errors.
    assert len(cronjobs("next", "tests.jobs.DailyJob").splitlines()) == 5
    with pytest.raises(CommandError, match="at least 1"):
        cronjobs("next", "tests.daily", "-n", "0")
    with pytest.raises(CommandError, match="No configured cron job"):
        cronjobs("next", "tests.nope")


@pytest.mark.django_db
def test_status_check_is_ok_when_all_is_well(clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    out = cronjobs("status", "--check")
    assert out.splitlines()[0] == "CRONJOBS OK - 3 jobs"
    assert "tests.every_minute: ok; last succeeded 2025-01-06 00:00 UTC" in out


@pytest.mark.django_db
def test_status_check_exits_2_naming_failing_and_overdue_jobs(clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    CronJobState.objects.filter(job_name="tests.every_five_minutes").update(
        last_status=RunStatus.FAILED
    )
    # No runcrons for ten minutes: the minutely job is overdue.
    clock.at(T0 + timedelta(minutes=10))
    out = StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("cronjobs", "status", "--check", stdout=out)
    assert exit_status.value.code == 2
    first = out.getvalue().splitlines()[0]
    assert first.startswith("CRONJOBS CRITICAL - 2 of 3: ")
    assert "tests.every_minute (overdue)" in first
    # Overdue wins over failing for a job that is both.
    assert "tests.every_five_minutes (overdue)" in first
    # Without --check the same report exits 0.
    assert "tests.daily: never run; no run yet" in cronjobs("status")


@pytest.mark.django_db
def test_a_failing_job_that_waits_for_its_retry_is_failing_not_overdue(clock, settings):
    settings.CRON_CLASSES = ["tests.jobs.RetryingJob"]
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    clock.at(T0 + timedelta(minutes=4))
    assert cronjobs("status") == (
        "tests.retrying: failing; last failed 2025-01-06 00:00 UTC; next 2025-01-06 00:05 UTC\n"
    )


@pytest.mark.django_db(transaction=True)
def test_crontab_prints_the_line_for_this_interpreter_and_manage_py(tmp_path):
    manage = tmp_path / "manage.py"
    manage.write_text(
        "import sys\nfrom django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    result = subprocess.run(
        [sys.executable, str(manage), "cronjobs", "crontab"],
        capture_output=True,
        text=True,
        env=command_line_env(),
        cwd=tmp_path,
        check=True,
    )
    line = result.stdout.splitlines()[-1]
    assert line.startswith(f"* * * * * cd {tmp_path} && DJANGO_SETTINGS_MODULE=tests.settings ")
    assert line.endswith(f"{sys.executable} {manage} runcrons --silent")


def test_crontab_without_manage_py_asks_for_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["django-admin"])
    with pytest.raises(CommandError, match="--manage-py"):
        cronjobs("crontab")
    assert (
        cronjobs("crontab", "--manage-py", "/srv/app/manage.py")
        .rstrip()
        .endswith("/srv/app/manage.py runcrons --silent")
    )


@pytest.mark.django_db
def test_pause_resume_and_run_set_the_flags_runcrons_honours(clock):
    clock.at(T0 + timedelta(seconds=5))
    assert cronjobs("pause", "tests.jobs.EveryMinuteJob") == "tests.every_minute paused.\n"
    assert cronjobs("pause", "tests.every_minute") == "tests.every_minute was already paused.\n"
    line = next(line for line in cronjobs("list").splitlines() if "every_minute" in line)
    assert line.split()[1:3] == ["paused", "-"]
    assert "[ ] tests.every_minute (paused)" in run_crons()
    assert cronjobs("run", "tests.every_minute") == (
        "tests.every_minute will run at the next runcrons.\n"
    )
    assert "already requested" in cronjobs("run", "tests.every_minute")
    assert "[✔] tests.every_minute" in run_crons()
    assert cronjobs("resume", "tests.every_minute") == "tests.every_minute resumed.\n"
    assert cronjobs("resume", "tests.every_minute") == "tests.every_minute was not paused.\n"
    with pytest.raises(CommandError, match="No configured cron job"):
        cronjobs("pause", "tests.nope")


@pytest.mark.django_db
def test_a_paused_failing_job_does_not_fail_the_check(clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    CronJobState.objects.filter(job_name="tests.every_five_minutes").update(
        last_status=RunStatus.FAILED
    )
    cronjobs("pause", "tests.every_five_minutes")
    clock.at(T0 + timedelta(hours=2))  # every job overdue but the paused one
    CronJobState.objects.exclude(job_name="tests.every_five_minutes").update(
        last_status=RunStatus.SUCCEEDED
    )
    out = cronjobs("status")
    assert "tests.every_five_minutes: paused; last failed" in out
