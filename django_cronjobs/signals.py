"""Signals around each run, for error trackers, metrics and notifications.

``cron_job_started`` is sent when a run's row exists and just before ``do()``;
``cron_job_finished`` once its outcome is stored. Both are sent with
``sender`` the job class (the one in CRON_CLASSES, also for a run of one of
its entries) and the keyword arguments ``code``, ``entry`` (the entry's key,
empty for the job's own schedule) and ``run`` (the CronJobLog row);
``cron_job_finished`` adds ``status`` (a RunStatus value) and ``succeeded``.
They are sent in the runcrons process, also for jobs that run in a child
process. A receiver that raises is logged and does not change
the run or stop the tick.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger("django_cronjobs")

cron_job_started = Signal()
cron_job_finished = Signal()


def send(signal: Signal, sender: type, **arguments: Any) -> None:
    """Send ``signal``; log (never raise) what its receivers raise."""
    for receiver, outcome in signal.send_robust(sender, **arguments):
        if isinstance(outcome, Exception):
            logger.error(
                "%s, a receiver of %s, raised %r for cron job %s",
                getattr(receiver, "__qualname__", receiver),
                "cron_job_started" if signal is cron_job_started else "cron_job_finished",
                outcome,
                arguments.get("code"),
            )  # django.dispatch logs the traceback itself
