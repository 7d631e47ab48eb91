"""Jobs that come with django_cronjobs (django-cron's ``django_cron.cron``)."""

from __future__ import annotations

from typing import Any

from .jobs.base import CronJobBase
from .monitoring.notifications import notify_failures
from .schedules.schedule import Schedule


class FailedRunsNotificationCronJob(CronJobBase):
    """Mails ADMINS when a job fails ``MIN_NUM_FAILURES`` times in a row, and when it recovers.

    django-cron's job of the same name, without the package it needed: list
    ``django_cronjobs.cron.FailedRunsNotificationCronJob`` in CRON_CLASSES (or
    set ``CRONJOBS_NOTIFY_FAILURES = True`` for the same check after every
    tick that ran a job, without this job). Unlike django-cron's, it mails
    once per failure streak, not at every tick, and once on recovery.
    """

    code = "django_cronjobs.FailedRunsNotificationCronJob"
    schedule = Schedule(run_every_mins=1)
    remove_successful_cron_logs = True  # one row a minute would bury the log

    def do(self) -> Any:
        sent = notify_failures()
        return "\n".join(sent) if sent else ""
