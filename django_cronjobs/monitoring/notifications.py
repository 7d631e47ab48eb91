"""Mail ADMINS when a job keeps failing, once per failure streak, and when it recovers.

The engine counts each job's consecutive unsuccessful runs in its state row
(``failure_streak``: failed, timed out, interrupted or abandoned; a missed
slot neither counts nor breaks a streak). When a streak reaches the job's
``MIN_NUM_FAILURES`` the admins get one mail; the next success sends one
more. Across hosts each mail is sent once: sending is claimed by a
conditional UPDATE of ``alerted_at``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.core.mail import mail_admins
from django.utils import timezone

from ..conf import conf
from ..jobs.base import CronJobBase, job_path, load_jobs
from ..models import CronJobLog, CronJobState

logger = logging.getLogger("django_cronjobs")

# How much of the last run's message a mail quotes.
MESSAGE_EXCERPT = 4000


def notify_after_runs(jobs: Mapping[str, type[CronJobBase]]) -> None:
    """With CRONJOBS_NOTIFY_FAILURES, send the mails due about ``jobs`` after their runs.

    Telling about failures must not become one: an error here is logged, and
    the tick (or the task) goes on.
    """
    if not jobs or not conf.NOTIFY_FAILURES:
        return
    try:
        notify_failures(jobs)
    except Exception:
        logger.exception("Checking cron jobs %s for failure mails failed", ", ".join(jobs))


def notify_failures(jobs: Mapping[str, type[CronJobBase]] | None = None) -> list[str]:
    """Send the mails that are due about ``jobs`` (code: class; default every job of
    CRON_CLASSES); return their subjects.

    One query finds the jobs to write about; each mail then costs one UPDATE.
    """
    if jobs is None:
        jobs = {
            entry.code: entry.job_class
            for entry in load_jobs()
            if entry.runnable and entry.job_class is not None
        }
    if not jobs:
        return []
    rows = CronJobState.objects.filter(job_name__in=jobs).exclude(
        failure_streak=0, alerted_at__isnull=True
    )
    sent = []
    for state in rows.only("job_name", "failure_streak", "alerted_at", "last_run_id"):
        job_class = jobs[state.job_name]
        threshold = max(1, int(getattr(job_class, "MIN_NUM_FAILURES", 10) or 1))
        if state.alerted_at is None and state.failure_streak >= threshold:
            subject = _send_failing(job_class, state)
        elif state.alerted_at is not None and state.failure_streak == 0:
            subject = _send_recovered(job_class, state)
        else:
            continue
        if subject:
            sent.append(subject)
    return sent


def _send_failing(job_class: type[CronJobBase], state: CronJobState) -> str | None:
    rows = CronJobState.objects.filter(job_name=state.job_name, alerted_at__isnull=True)
    if not rows.update(alerted_at=timezone.now()):
        return None  # another process sends it
    last = None
    if state.last_run_id is not None:
        last = CronJobLog.objects.filter(pk=state.last_run_id).first()
    subject = (
        f"{conf.FAILURE_EMAIL_PREFIX}Cron job {state.job_name} failed "
        f"{state.failure_streak} times in a row"
    )
    lines = [
        f"The cron job {state.job_name} ({job_path(job_class)}) has "
        f"not succeeded in its last {state.failure_streak} runs.",
        f"Schedule: {job_class.schedule.describe()}.",
    ]
    if last is not None:
        lines += [
            "",
            f"Last run: {last.status}, started {last.start_time:%Y-%m-%d %H:%M:%S %Z} on "
            f"{last.hostname or 'an unknown host'}.",
            "",
            last.message[-MESSAGE_EXCERPT:],
        ]
    lines += ["", "You will get one more mail when it succeeds again."]
    if _mail(subject, "\n".join(lines)):
        return subject
    CronJobState.objects.filter(job_name=state.job_name).update(alerted_at=None)  # retry later
    return None


def _send_recovered(job_class: type[CronJobBase], state: CronJobState) -> str | None:
    rows = CronJobState.objects.filter(
        job_name=state.job_name, alerted_at__isnull=False, failure_streak=0
    )
    if not rows.update(alerted_at=None):
        return None
    subject = f"{conf.FAILURE_EMAIL_PREFIX}Cron job {state.job_name} succeeded again"
    body = (
        f"The cron job {state.job_name} succeeded again after the failures reported on "
        f"{state.alerted_at:%Y-%m-%d %H:%M:%S %Z}."
    )
    if _mail(subject, body):
        return subject
    return None


def _mail(subject: str, body: str) -> bool:
    try:
        mail_admins(subject, body)  # raises when it cannot send
    except Exception:
        logger.exception("Mailing ADMINS about cron jobs failed: %s", subject)
        return False
    logger.info("Mailed ADMINS: %s", subject)
    return True
