"""One slot of one job through claim, execution and record: the path every run takes.

The runner sends each run it decided on through :class:`SlotRuns`; a batch
sends the runs it cannot run together the same way, and reports the runs it
did through the same methods. A run is claimed by compare-and-set on its
job's state row (see :mod:`django_cronjobs.store.claims`), holds its job's
lock, has its ``running`` row before ``do()`` starts, and gets its outcome
stored; then its line is written, and failure mails are sent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.utils import timezone

from .. import signals
from ..check_ids import E019
from ..databases import database_for_write, in_transaction
from ..exceptions import LockBackendUnavailable
from ..jobs.base import CronJobBase, Problem
from ..locks import LockBackend
from ..locks.base import guards_in_claim
from ..models import CronJobLog, RunStatus
from ..monitoring.notifications import notify_after_runs
from ..schedules.schedule import SlotPlan
from ..store import claims
from ..store.job_states import JobState
from .clock_guard import ClockWatch
from .execution import Execution
from .tick_output import TickOutput

logger = logging.getLogger("django_cronjobs")

# A connection left idle this long while a job ran is checked before reuse.
IDLE_CONNECTION_SECONDS = 60


class SlotRuns:
    """Claims, runs and records single slots for one tick.

    ``concurrency`` above 1 runs each job in a child process; with
    ``signals_handled``, SIGTERM and SIGINT reach ``do()`` through the
    execution; ``stop`` stops the runs of threads running side by side.
    ``watch_clock`` looks at the clocks after each run (not in a dry run).
    """

    def __init__(
        self,
        output: TickOutput,
        clock: ClockWatch,
        *,
        concurrency: int = 1,
        signals_handled: bool = False,
        stop: threading.Event | None = None,
        watch_clock: bool = True,
    ) -> None:
        self.output = output
        self.clock = clock
        self.concurrency = concurrency
        self.signals_handled = signals_handled
        self.stop_event = stop or threading.Event()
        self._watch_clock = watch_clock
        self._connection_used = time.monotonic()

    @property
    def defers_signals(self) -> bool:
        """Whether SIGTERM and SIGINT are held back around a run's records here."""
        return self.signals_handled and threading.current_thread() is threading.main_thread()

    def watch_clock(self) -> None:
        """Stop claiming (and say so once) while this host's clock is far ahead."""
        reason = self.clock.look()
        if reason is not None:
            self.output.clock_refused(reason)

    def run_slot(
        self,
        job_class: type[CronJobBase],
        slot: datetime | None,
        state: JobState,
        lock_class: type[LockBackend] | None,
        missed: SlotPlan | None,
        *,
        request: datetime | None = None,
    ) -> bool:
        """Claim and run one slot; False when the job cannot run now.

        ``missed`` are slots recorded as missed once the claim is ours.
        ``request`` is the job's ``run_requested_at`` when this is the
        requested run: the claim takes the request with the run.

        Called with SIGTERM and SIGINT held back, so that they never cut the
        run's records in half; they reach do() itself (see Execution).
        """
        code = job_class.run_name()
        lock = None
        if lock_class is not None and not job_class.ALLOW_PARALLEL_RUNS:
            lock = lock_class(job_class, self.output.silent)
        database_lock = lock is not None and guards_in_claim(lock)
        alias = job_class.task_backend()
        if alias is not None and not self._can_hand_over(job_class, alias, lock, database_lock):
            return False
        if not self._take_lock(code, lock, database_lock):
            return False
        try:
            execution = Execution(
                job_class,
                slot,
                lock,
                database_lock,
                signals_handled=self.signals_handled,
                signals_deferred=self.defers_signals,
                isolated=self.concurrency > 1 or (crashed_last_time(state) and can_spawn()),
                stop=self.stop_event,
            )
            self.refresh_connection()
            claim_lock = lock if database_lock else None
            if not claims.claim(code, slot, claim_lock, request=request):
                self.not_claimed(code, state, claim_lock)
                return False
            return self._claimed(execution, alias, missed)
        finally:
            if lock is not None and not database_lock:
                self._release(code, lock)

    def _can_hand_over(
        self,
        job_class: type[CronJobBase],
        alias: str,
        lock: LockBackend | None,
        database_lock: bool,
    ) -> bool:
        """Whether the job can go to the task backend ``alias``; reported broken if not."""
        from ..queued.enqueue import usable

        problem = usable(job_class, alias, lock is None or database_lock)
        if problem:
            self.output.broken(job_class.run_name(), Problem(E019.id, problem))
        return not problem

    def _take_lock(self, code: str, lock: LockBackend | None, database_lock: bool) -> bool:
        """Take a lock that the claim does not take itself; False when the job cannot run."""
        if lock is None or database_lock:
            return True
        try:
            if lock.lock():
                return True
        except LockBackendUnavailable as error:
            # Fail closed: without its lock the job could run twice at once.
            self.output.lock_backend_failed(code, error)
            return False
        self.output.locked(code, lock)
        return False

    def _claimed(self, execution: Execution, alias: str | None, missed: SlotPlan | None) -> bool:
        """Run (or hand over) the slot now ours; False when the job cannot run again."""
        code, job_class = execution.code, execution.job_class
        try:
            if missed is not None:
                self.write_missed(job_class, missed)
            run = execution.start() if alias is None else _enqueue(execution, alias)
        except BaseException:
            if execution.lock_token:
                claims.release_lock(code, execution.lock_token)
            raise
        if run is None:
            self.output.not_run(code)
            return False
        if alias is not None and run.status in (RunStatus.ENQUEUED, RunStatus.RUNNING):
            self.output.handed_over(run, alias)
            # Its lock is the worker's now: the job's next slots wait.
            return execution.lock_token is None
        if alias is None:
            try:
                execution.run(run)
            finally:
                self.ran(run, job_class)
        else:
            self.ran(run, job_class)  # the backend ran it at once
        notify_after_runs({code: job_class})
        return True

    def not_claimed(self, code: str, state: JobState, database_lock: LockBackend | None) -> None:
        """Report a slot that another process has, or a job whose lock is held."""
        if database_lock is not None and lock_held(state):
            self.output.locked(code, database_lock)
        else:
            self.output.not_run(code)

    def ran(self, run: CronJobLog, job_class: type[CronJobBase] | None = None) -> None:
        """Report a run whose outcome is stored."""
        self._connection_used = time.monotonic()
        if self._watch_clock:
            self.watch_clock()  # the job may have moved this process's clock
        self.output.ran(run, job_class)

    def record_missed(self, job_class: type[CronJobBase], plan: SlotPlan) -> None:
        """Slots missed with none to run: claim the latest so one process records them."""
        if claims.claim(job_class.run_name(), plan.missed[-1], None, running=False):
            self.write_missed(job_class, plan)

    @staticmethod
    def write_missed(job_class: type[CronJobBase], plan: SlotPlan) -> None:
        claims.record_missed(
            job_class.code,
            plan.missed,
            plan.more_missed,
            "Missed: runcrons did not run this slot in time.",
            entry=job_class.entry_key,
        )
        logger.warning("Cron job %s missed %d slot(s)", job_class.run_name(), len(plan.missed))
        signals.send(
            signals.cron_slots_missed,
            job_class.configured_class(),
            code=job_class.code,
            entry=job_class.entry_key,
            slots=list(plan.missed),
        )

    def refresh_connection(self) -> None:
        """Between jobs, reconnect if the connection broke or sat idle through a long job.

        A tick counts as one request: with CONN_MAX_AGE=0, Django's own
        close_old_connections() would reconnect before every job.
        """
        if in_transaction():
            return
        idle = time.monotonic() - self._connection_used
        aliases = {DEFAULT_DB_ALIAS, database_for_write()}
        broken = any(connections[alias].errors_occurred for alias in aliases)
        if broken or idle > IDLE_CONNECTION_SECONDS:
            close_old_connections()

    def _release(self, code: str, lock: LockBackend) -> None:
        try:
            lock.release()
        except LockBackendUnavailable as error:
            # The run is recorded; the lock expires with its lease.
            logger.warning("Releasing the lock of cron job %s failed: %s", code, error)
            self.output.lock_backend_failed(code, error)


def _enqueue(execution: Execution, alias: str) -> CronJobLog | None:
    """Hand the claimed run to the task backend ``alias`` (see :mod:`..queued.enqueue`)."""
    from ..queued.enqueue import enqueue

    return enqueue(
        execution.job_class,
        execution.slot,
        execution.ran_at_time(),
        execution.lock_token,
        alias,
    )


def crashed_last_time(state: JobState) -> bool:
    """Whether the job's last run died with the process that ran it."""
    return state.last_status == RunStatus.ABANDONED


def can_spawn() -> bool:
    """Whether a child process can set Django up again: it needs DJANGO_SETTINGS_MODULE."""
    return bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


def lock_held(state: JobState) -> bool:
    """Whether the state read at the start of the tick showed a live database lock."""
    expires = state.lock_expires_at
    return state.locked and (expires is None or expires >= timezone.now())
