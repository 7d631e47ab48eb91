"""The example's jobs: one for each way of scheduling."""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.mail import mail_admins
from django.utils import timezone

from django_cronjobs import CronJobBase, Schedule


class Heartbeat(CronJobBase):
    """Every minute: proves the crontab line works; the log shows the load."""

    code = "chores.heartbeat"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        one, five, fifteen = os.getloadavg()
        return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


class ClearExpiredSessions(CronJobBase):
    """Every hour: what ``manage.py clearsessions`` does, with a count."""

    code = "chores.clear_expired_sessions"
    schedule = Schedule(run_every_mins=60)

    def do(self) -> str:
        deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        return f"{deleted} expired sessions deleted"


class DailySignupReport(CronJobBase):
    """At 07:30 Berlin time on weekdays: mail the admins yesterday's sign-ups.

    A failure is retried 15 minutes later instead of waiting for tomorrow.
    """

    code = "chores.daily_signup_report"
    schedule = Schedule(
        run_at_times=["07:30"],
        run_weekly_on_days=[0, 1, 2, 3, 4],
        retry_after_failure_mins=15,
        timezone="Europe/Berlin",
    )

    def do(self) -> str:
        since = timezone.now() - timedelta(days=1)
        count = get_user_model().objects.filter(date_joined__gte=since).count()
        mail_admins("Sign-ups", f"{count} people signed up since {since:%Y-%m-%d %H:%M}.")
        return f"{count} sign-ups reported to {len(settings.ADMINS)} admins"


class WeeklyDigest(CronJobBase):
    """Mondays at 06:00 (a cron expression): a summary of last week's runs."""

    code = "chores.weekly_digest"
    schedule = Schedule(cron="0 6 * * 1", timezone="Europe/Berlin")

    def do(self) -> str:
        from django_cronjobs.models import CronJobLog

        week = CronJobLog.objects.filter(start_time__gte=timezone.now() - timedelta(days=7))
        # failed() leaves out running runs and missed slots, whose is_success is
        # False too (for code that reads the log as django-cron wrote it).
        failed = week.failed().count()
        missed = week.filter(status="missed").count()
        ran = week.exclude(status="missed").count()
        return f"{ran} runs last week, {failed} failed; {missed} slots missed"


class Reminder(CronJobBase):
    """No schedule of its own: one entry per user who asked for a reminder, at their hour.

    ``Reminder.entries.schedule(key=user.username, kwargs={"username": user.username},
    schedule=Schedule(cron="H 9 * * 1-5", timezone="Europe/Berlin"))`` adds one; the
    Cron entries page lists, edits, pauses and runs them.
    """

    code = "chores.reminder"
    schedule = None

    def do(self, *, username: str) -> str:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            return f"no user {username!r}: nothing to remind"
        user.email_user("Reminder", "This is the reminder you asked for.")
        return f"reminded {username}"
