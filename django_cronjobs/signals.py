"""Signals around each run, for error trackers, metrics and notifications.

``cron_job_started`` is sent when a run's row exists and just before ``do()``;
``cron_job_finished`` once its outcome is stored. Both are sent with
``sender`` the job class (the one in CRON_CLASSES, also for a run of one of
its entries) and the keyword arguments ``code``, ``entry`` (the entry's key,
empty for the job's own schedule) and ``run`` (the CronJobLog row);
``cron_job_finished`` adds ``status`` (a RunStatus value) and ``succeeded``.
It is also sent, with ``status`` ``abandoned``, for a run that the tick found
dead (its process gone, its lease run out), by the process that recorded it.
They are sent in the runcrons process, also for jobs that run in a child
process, and in the task worker for a run handed to a task backend.

``cron_slots_missed`` is sent once per set of slots recorded ``missed`` (the
schedule's ``missed_slots``), with ``sender``, ``code`` and ``entry`` as above and
``slots`` (the list of missed slots, the latest hundred at most).

``cron_tick_finished`` is sent at the end of each tick (one runcrons, one
round of cronloop; not for ``--dry-run``), with ``sender`` the Runner class,
``report`` (its TickReport) and ``seconds`` (how long the tick took).

A receiver that raises is logged and does not change the run or stop the tick.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger("django_cronjobs")

cron_job_started = Signal()
cron_job_finished = Signal()
cron_slots_missed = Signal()
cron_tick_finished = Signal()


def send(signal: Signal, sender: type, **arguments: Any) -> None:
    """Send ``signal``; log (never raise) what its receivers raise."""
    for receiver, outcome in signal.send_robust(sender, **arguments):
        if isinstance(outcome, Exception):
            logger.error(
                "%s, a receiver of %s, raised %r for cron job %s",
                getattr(receiver, "__qualname__", receiver),
                _name(signal),
                outcome,
                arguments.get("code"),
            )  # django.dispatch logs the traceback itself


def send_run_finished(sender: type | None, run: Any) -> None:
    """``cron_job_finished`` for ``run``, whose outcome is stored. ``sender`` None:
    the class configured with the run's code, if any (no class, no signal)."""
    if sender is None:
        from .jobs.base import load_jobs

        classes = {entry.code: entry.job_class for entry in load_jobs() if entry.runnable}
        sender = classes.get(run.code)
        if sender is None:
            return
    send(
        cron_job_finished,
        sender,
        code=run.code,
        entry=run.entry,
        run=run,
        status=run.status,
        succeeded=run.is_success,
    )


_NAMES = {
    id(cron_job_started): "cron_job_started",
    id(cron_job_finished): "cron_job_finished",
    id(cron_slots_missed): "cron_slots_missed",
    id(cron_tick_finished): "cron_tick_finished",
}


def _name(signal: Signal) -> str:
    return _NAMES.get(id(signal), repr(signal))
