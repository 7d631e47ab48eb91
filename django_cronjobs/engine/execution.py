"""Running one claimed slot of one job: do() under a heartbeat, then the outcome."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, time
from typing import TypeVar

from django.db import DatabaseError, close_old_connections, connection, transaction

from .. import signals
from ..conf import conf
from ..databases import in_transaction
from ..exceptions import Interrupted
from ..jobs.base import CronJobBase, job_path
from ..jobs.package_logger import package_logger
from ..locks.base import LockBackend
from ..models import CronJobLog, RunStatus
from ..store import claims
from ..store.processes import confined_to_this_process
from ..store.retention import delete_older_successes, keep_newest_runs
from ..text.log_text import as_ascii, as_log_text, first_line
from .heartbeat import Heartbeat
from .interruption import signals_delivered

T = TypeVar("T")

logger = logging.getLogger("django_cronjobs")


@dataclass
class Execution:
    """One run of ``job_class`` for ``slot``, after the slot was claimed.

    ``lock`` is the job's overlap lock, if any; ``database_lock`` says the
    lock was taken by the claim itself (the ``database`` backend) and is
    dropped with the outcome.
    """

    job_class: type[CronJobBase]
    slot: datetime | None
    lock: LockBackend | None
    database_lock: bool
    signals_handled: bool = False
    signals_deferred: bool = False
    """The runner holds SIGTERM/SIGINT back around this run; let them reach do()."""
    isolated: bool = False
    """Run do() in a child process even without a timeout (concurrent ticks)."""
    stop: threading.Event | None = None
    """Set by the runner when the tick is interrupted (concurrent ticks)."""

    @property
    def code(self) -> str:
        """The job's code, or ``code[key]`` for an entry's run: its state row's name."""
        return self.job_class.run_name()

    @property
    def lock_token(self) -> str | None:
        if self.database_lock and self.lock is not None:
            return getattr(self.lock, "token", None)
        return None

    def start(self) -> CronJobLog | None:
        """Record the run as running; None (and the lock dropped) if the slot has a run."""
        job_class = self.job_class
        run = claims.start_run(
            job_class.code, self.slot, self.ran_at_time(), entry=job_class.entry_key
        )
        if run is None and self.lock_token:
            claims.release_lock(self.code, self.lock_token)
        return run

    def ran_at_time(self) -> time | None:
        """The run_at_times entry this slot is for: django-cron's ``ran_at_time``."""
        schedule = self.job_class.schedule
        if self.slot is None or not schedule.run_at_times:
            return None
        local = self.slot.astimezone(schedule.zone).time()
        return local if local in schedule.at_times else None

    def run(self, run: CronJobLog) -> None:
        """Run do() and record its outcome, whatever happens.

        An interruption (SIGINT, SIGTERM) is recorded, then raised again.
        """
        with Heartbeat(run, self.lock_token, None if self.database_lock else self.lock) as beats:
            interruption = self.perform(run)
        recorded = self.record(run)
        if beats.missed_beats:
            logger.warning(
                "Cron job %s: outcome stored (%s) after %d heartbeat(s) failed during the run",
                run.code,
                run.status,
                beats.missed_beats,
            )
        self.finish(run, recorded=recorded)
        if interruption is not None:
            raise interruption

    def perform(self, run: CronJobLog) -> BaseException | None:
        """Run do() and put its outcome on ``run``, without storing it.

        Returns the interruption to raise once the outcome is stored.
        """
        logger.info("Running cron job %s (slot %s)", run.run_name, run.slot)
        signals.send(
            signals.cron_job_started,
            self.job_class.configured_class(),
            code=run.code,
            entry=run.entry,
            run=run,
        )
        outside_transaction = not connection.in_atomic_block
        interruption = self._outcome(run, outside_transaction)
        if outside_transaction:
            discard_leaked_transaction(run)
        return interruption

    def finish(self, run: CronJobLog, *, recorded: bool = True) -> None:
        """After the outcome is stored: log it, prune old successes, send the signal.

        ``recorded`` False: the run was declared abandoned before its outcome
        could be stored, and that verdict was already signalled; no second one.
        """
        if run.is_success:
            logger.info("Cron job %s succeeded", run.run_name)
            if self.job_class.remove_successful_cron_logs or conf.REMOVE_SUCCESSFUL_LOGS:
                delete_older_successes(run.code, run.pk, entry=run.entry)
            elif self.job_class.KEEP_RUNS is not None:
                keep_newest_runs(run.code, run.entry, self.job_class.KEEP_RUNS)
        else:
            logger.warning("Cron job %s ended %s", run.run_name, run.status)
            if conf.OUTPUT_ERRORS:
                package_logger().error("%s cronjob error:\n%s", run.run_name, run.message)
        if recorded:
            signals.send_run_finished(self.job_class.configured_class(), run)

    def _outcome(self, run: CronJobLog, outside_transaction: bool) -> BaseException | None:
        """Run do() here or in a child; put the outcome on ``run``.

        Returns the interruption to raise once the outcome is recorded.
        """
        limit = conf.MESSAGE_MAX_LENGTH
        timeout = self.job_class.timeout()
        try:
            with signals_delivered(self.signals_deferred):
                if timeout is not None or self.isolated:
                    from .isolation import run_in_child

                    child = run_in_child(
                        job_path(self.job_class),
                        timeout,
                        limit,
                        self.stop,
                        self.job_class.entry_kwargs,
                    )
                    run.status, run.message = child.status, child.message
                    run.is_success = child.status == RunStatus.SUCCEEDED
                    return None
                # Inside a caller's transaction (a TestCase, a Celery task) the
                # job gets a savepoint, so that a database error in it fails
                # the run without breaking the caller's transaction.
                # A process the job forks ends right where do() does, before
                # the savepoint's SQL (on the parent's connection) is sent.
                with (
                    nullcontext() if outside_transaction else transaction.atomic(),
                    confined_to_this_process(),
                ):
                    result = self.job_class().do(**self.job_class.entry_kwargs)
        except Interrupted as error:
            return self._interrupted(run, error)
        except KeyboardInterrupt as error:
            if not self.signals_handled:
                return self._interrupted(run, error)  # this is how SIGINT arrives
            run.status, run.is_success = RunStatus.FAILED, False
            run.message = as_log_text(traceback.format_exc(), limit)
        except (Exception, SystemExit):
            # sys.exit() in a job fails the run, not runcrons.
            run.status, run.is_success = RunStatus.FAILED, False
            run.message = as_log_text(traceback.format_exc(), limit)
        else:
            run.status, run.is_success = RunStatus.SUCCEEDED, True
            run.message = as_log_text(result, limit)
        return None

    @staticmethod
    def _interrupted(run: CronJobLog, error: BaseException) -> BaseException:
        run.status, run.is_success = RunStatus.INTERRUPTED, False
        run.message = as_log_text(
            f"Interrupted ({error!r}):\n{traceback.format_exc()}", conf.MESSAGE_MAX_LENGTH
        )
        return error

    def record(self, run: CronJobLog) -> bool:
        """Store the outcome; a message the database refuses is stored escaped.
        False when the run had been declared abandoned meanwhile."""
        return store_outcomes(
            [run],
            lambda: claims.finish_run(run, self.lock_token),
            lambda error: logger.warning(
                "Storing the outcome of %s failed (%s: %s); retrying",
                run.code,
                type(error).__name__,
                first_line(error),
            ),
        )


def store_outcomes(
    runs: Sequence[CronJobLog],
    store: Callable[[], T],
    log_refusal: Callable[[DatabaseError], None],
) -> T:
    """``store()`` the outcomes of ``runs``; if the database refuses, log it with
    ``log_refusal`` and store them again, their messages escaped as ASCII.
    Returns what ``store()`` returned.

    A column whose charset cannot hold a message (MySQL's utf8mb3 and an
    emoji) must not cost the run its outcome. An error the second time is raised.
    """
    try:
        return store()
    except DatabaseError as error:
        log_refusal(error)
    if not in_transaction():
        close_old_connections()  # the refusal may have broken the connection
    for run in runs:
        run.message = as_ascii(run.message)
    return store()


def discard_leaked_transaction(run: CronJobLog) -> None:
    """Drop a transaction that ``do()`` opened and never closed.

    Without this the outcome would be written inside the job's transaction
    and never committed. Closing the connection rolls the job's uncommitted
    work back, as its process ending would; the run's message says so, and
    the next query opens a fresh connection.
    """
    if not connection.in_atomic_block and connection.get_autocommit():
        return
    logger.error("Cron job %s left a transaction open; rolling it back", run.code)
    # The job's atomic blocks never exit: forget them, or Django refuses the
    # close and every later query.
    connection.in_atomic_block = False
    connection.atomic_blocks = []
    connection.savepoint_ids = []
    connection.needs_rollback = False
    connection.close()
    run.message += "\n[the job left a database transaction open: it was rolled back]"
