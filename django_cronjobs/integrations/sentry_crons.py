"""Sentry Crons: each run of a job checks in, and the monitor is configured from its schedule.

With ``sentry-sdk`` installed and initialised, ``CRONJOBS_SENTRY_CRONS = True``
(or ``SENTRY_CRONS = True`` on a job class) makes a run send an
``in_progress`` check-in just before ``do()`` and ``ok`` or ``error`` with
its duration once its outcome is stored. The first check-in carries a
monitor config worked out from the job's schedule (a crontab, or an interval
for ``run_every_mins``; the zone; a check-in margin; the max runtime from
the job's timeout), so Sentry creates the monitor and keeps it in step with
the code. Missed slots are Sentry's to detect. Entries do not check in:
a monitor per entry would be a monitor per customer.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..conf import conf
from .run_ids import run_uuid, seconds_taken

logger = logging.getLogger("django_cronjobs")

SLUG_LENGTH = 50


def enabled_for(job_class: type) -> bool:
    """Whether ``job_class`` checks in: its ``SENTRY_CRONS``, else the setting."""
    wanted = getattr(job_class, "SENTRY_CRONS", None)
    return bool(conf.SENTRY_CRONS if wanted is None else wanted)


def monitor_slug(job_class: type, code: str) -> str:
    """The job's ``SENTRY_MONITOR_SLUG``, else its code as a slug (``shop-send_digest``)."""
    slug = getattr(job_class, "SENTRY_MONITOR_SLUG", None)
    if slug:
        return str(slug)
    return re.sub(r"[^a-z0-9_-]+", "-", code.lower()).strip("-")[:SLUG_LENGTH] or "cron-job"


def monitor_config(job_class: type) -> dict[str, Any] | None:
    """Sentry's monitor config for the job's schedule; None when no crontab or
    interval says it (several times a day at different minutes, say)."""
    schedule = job_class.schedule  # type: ignore[attr-defined]
    described = _schedule(schedule)
    if described is None:
        return None
    config: dict[str, Any] = {
        "schedule": described,
        "timezone": str(schedule.zone),
        "checkin_margin": conf.SENTRY_CHECKIN_MARGIN,
    }
    timeout = getattr(job_class, "TIMEOUT_SECONDS", None) or conf.DEFAULT_TIMEOUT_SECONDS
    if timeout:
        config["max_runtime"] = max(1, -(-int(timeout) // 60))  # minutes, rounded up
    return config


def _schedule(schedule: Any) -> dict[str, Any] | None:
    if schedule.run_every_mins:
        if schedule.run_weekly_on_days is not None or schedule.run_monthly_on_days is not None:
            return None  # an interval on some days only: no single form says it
        return {"type": "interval", "value": int(schedule.run_every_mins), "unit": "minute"}
    fields = _crontab_fields(schedule)
    if fields is None:
        return None
    return {"type": "crontab", "value": fields}


def _crontab_fields(schedule: Any) -> str | None:
    """The schedule as one crontab: its cron expression (``H`` worked out), or
    ``run_at_times`` that share a minute or an hour; with the day filters."""
    if schedule.resolved_cron and schedule.run_at_times:
        return None
    weekdays, monthdays = schedule.run_weekly_on_days, schedule.run_monthly_on_days
    if schedule.resolved_cron:
        from ..schedules.slots import expand_cron_macro

        minute, hour, day, month, weekday = expand_cron_macro(schedule.resolved_cron).split()
    elif schedule.run_at_times:
        times = schedule.at_times
        minutes = sorted({at.minute for at in times})
        hours = sorted({at.hour for at in times})
        if len(minutes) > 1 and len(hours) > 1:
            return None  # "10:15 and 18:45" is no one crontab
        minute, hour = ",".join(map(str, minutes)), ",".join(map(str, hours))
        day, month, weekday = "*", "*", "*"
    else:
        return None
    if weekdays is not None or monthdays is not None:
        if (day, weekday) != ("*", "*"):
            return None
        if weekdays is not None:
            # Schedule: 0 = Monday; crontab: 0 = Sunday.
            weekday = ",".join(str((number + 1) % 7) for number in sorted(weekdays))
        if monthdays is not None:
            day = ",".join(map(str, sorted(monthdays)))
        if weekdays is not None and monthdays is not None:
            return None  # crontab would run on either; the schedule needs both
    return " ".join((minute, hour, day, month, weekday))


def started(sender: type, *, code: str, entry: str, run: Any, **_: Any) -> None:
    """``cron_job_started``: the ``in_progress`` check-in, with the monitor's config."""
    if entry or not enabled_for(sender):
        return
    from sentry_sdk.crons import capture_checkin

    capture_checkin(
        monitor_slug=monitor_slug(sender, code),
        check_in_id=run_uuid(run).hex,
        status="in_progress",
        monitor_config=monitor_config(sender),  # type: ignore[arg-type]
    )


def finished(sender: type, *, code: str, entry: str, run: Any, succeeded: bool, **_: Any) -> None:
    """``cron_job_finished``: ``ok`` or ``error``, with the run's duration.

    The check-in id comes from the run, so the tick that finds a run dead
    closes the check-in its dead process opened.
    """
    if entry or not enabled_for(sender):
        return
    from sentry_sdk.crons import capture_checkin

    capture_checkin(
        monitor_slug=monitor_slug(sender, code),
        check_in_id=run_uuid(run).hex,
        status="ok" if succeeded else "error",
        duration=seconds_taken(run),
        monitor_config=monitor_config(sender),  # type: ignore[arg-type]
    )


def connect() -> None:
    """Listen to the runs' signals, if sentry-sdk is installed (the app's ``ready()``)."""
    try:
        import sentry_sdk.crons  # noqa: F401
    except ImportError:
        return
    from ..signals import cron_job_finished, cron_job_started

    cron_job_started.connect(started, dispatch_uid="django_cronjobs.sentry_crons.started")
    cron_job_finished.connect(finished, dispatch_uid="django_cronjobs.sentry_crons.finished")
