"""The job classes django-cron 0.6.0's test suite imports as ``test_crons``.

Its suite (tests.py in django-cron's distribution) names them by path; they
are written here after what that suite expects of each.
"""

from __future__ import annotations

import time

from django_cronjobs import CronJobBase, Schedule


class TestSuccessCronJob(CronJobBase):
    code = "test_success_cron_job"
    schedule = Schedule(run_every_mins=0)

    def do(self) -> None:
        return None


class TestErrorCronJob(CronJobBase):
    code = "test_error_cron_job"
    schedule = Schedule(run_every_mins=0)

    def do(self) -> None:
        raise RuntimeError("this job always fails")


class Test5minsCronJob(CronJobBase):
    code = "test_run_every_mins"
    schedule = Schedule(run_every_mins=5)

    def do(self) -> None:
        return None


class TestRunAtTimesCronJob(CronJobBase):
    code = "test_run_at_times"
    # django-cron's own spelling of the hours: "0:00", not "00:00".
    schedule = Schedule(run_at_times=["0:00", "0:05"])

    def do(self) -> None:
        return None


class Wait3secCronJob(CronJobBase):
    code = "test_wait_3_seconds"
    schedule = Schedule(run_every_mins=5)

    def do(self) -> None:
        time.sleep(3)


class RunOnWeekendCronJob(CronJobBase):
    code = "run_on_weekend"
    schedule = Schedule(run_weekly_on_days=[5, 6], run_at_times=["0:00"])

    def do(self) -> None:
        return None


class RunOnMonthDaysCronJob(CronJobBase):
    code = "run_on_month_days"
    schedule = Schedule(run_monthly_on_days=[1, 10, 20], run_at_times=["0:00"])

    def do(self) -> None:
        return None


class NoCodeCronJob(CronJobBase):
    schedule = Schedule(run_every_mins=0)

    def do(self) -> None:
        return None
