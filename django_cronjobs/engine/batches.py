"""Quick jobs due in one tick, run as a batch.

A run on its own costs three commits: its claim, its ``running`` row and its
outcome. When several jobs whose last run was quick are due in one tick,
the runner takes them a batch at a time instead: one transaction claims all
their slots and writes their ``running`` rows, the jobs run one after the
other under one heartbeat, and one transaction stores their outcomes and
drops their locks. Each run is still claimed exactly once, holds its job's
lock, has its row before its job starts, and gets its outcome.

A batch holds the jobs whose last runs add up to at most
``CRONJOBS_BATCH_SECONDS`` (and at most :data:`MOST_RUNS` of them); outcomes
are stored at the latest when that much time has passed since the last
store. So a crash (SIGKILL, OOM, a lost host) can lose the outcomes of about
that much work: those runs, and the claimed ones that had not started, are
recorded abandoned, as any run whose process died. An interruption (SIGTERM,
SIGINT) stores what ran, and gives back the slots that had not started: the
next tick runs them.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from ..conf import conf, is_finite_seconds
from ..jobs.base import CronJobBase
from ..locks import LockBackend
from ..locks.base import guards_in_claim
from ..models import CronJobLog, RunStatus
from ..monitoring.notifications import notify_after_runs
from ..store import batch_claims
from ..store.claims import Claim
from ..store.job_states import MOMENTS, JobState
from .execution import Execution, store_outcomes
from .heartbeat import LeaseKeeper
from .interruption import signal_pending, signals_deferred
from .slot_runs import SlotRuns

logger = logging.getLogger("django_cronjobs")

MOST_RUNS = 100
"""Runs claimed in one statement at most."""

PARAMETERS_PER_RUN = 13
"""Query parameters a run adds to the batch's largest statement (SQLite allows 999)."""

STARTED = MOMENTS.index("last_started_at")
FINISHED = MOMENTS.index("last_finished_at")
QUICK_OUTCOMES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


def batch_seconds() -> float:
    """``CRONJOBS_BATCH_SECONDS`` as a number; 0 (no batches) when it is not one
    (the system check django_cronjobs.E018 reports it)."""
    value = conf.BATCH_SECONDS
    return float(value) if is_finite_seconds(value, zero=True) else 0.0


def most_runs() -> int:
    """Runs in one batch at most, within the database's limit of query parameters."""
    from django.db import connections

    from ..databases import database_for_write

    limit = connections[database_for_write()].features.max_query_params
    return MOST_RUNS if limit is None else min(MOST_RUNS, max(2, limit // PARAMETERS_PER_RUN))


def last_run_seconds(state: JobState) -> float | None:
    """How long the job's last run took; None when unknown or still running."""
    if state.last_status not in QUICK_OUTCOMES:
        return None
    started, finished = state.microseconds[STARTED], state.microseconds[FINISHED]
    if started is None or finished is None or finished < started:
        return None
    return (finished - started) / 1_000_000


@dataclass
class Queued:
    """A due job waiting in the batch."""

    execution: Execution
    claim: Claim
    state: JobState
    started: bool = False
    done: bool = False
    stored: bool = False
    recorded: bool = True
    """False once stored, if the run had been declared abandoned meanwhile."""
    given_back: bool = False

    @property
    def job_class(self) -> type[CronJobBase]:
        return self.execution.job_class


class Batch:
    """The quick jobs of a tick waiting to run together (see the module)."""

    def __init__(self, slot_runs: SlotRuns, lock_class: type[LockBackend] | None) -> None:
        self.slot_runs = slot_runs
        self.lock_class = lock_class
        self.budget = batch_seconds()
        self.most_runs = most_runs()
        self.entries: list[Queued | Callable[[], None]] = []
        """The queued runs, and the lines of the jobs between them that did not run."""
        self.runs = 0
        self.seconds = 0.0

    def accepts(self, job_class: type[CronJobBase], state: JobState) -> float | None:
        """The job's expected seconds, if it may run in a batch (its slot aside)."""
        if (
            not self.budget
            or self.slot_runs.concurrency != 1
            or self.lock_class is None
            or not guards_in_claim(self.lock_class)
            or job_class.ALLOW_PARALLEL_RUNS
            or job_class.timeout() is not None
            or job_class.task_backend() is not None
            or job_class.entry_key  # one statement names one job's state row and log
        ):
            return None
        seconds = last_run_seconds(state)
        return seconds if seconds is not None and seconds <= self.budget else None

    def add(
        self, job_class: type[CronJobBase], slot: datetime, state: JobState, seconds: float
    ) -> None:
        """Queue the job for ``slot``; runs the batch first if it is full."""
        if self.runs >= self.most_runs or self.seconds + seconds > self.budget:
            self.run()
        execution = Execution(
            job_class,
            slot,
            None,
            False,
            signals_handled=self.slot_runs.signals_handled,
            signals_deferred=self.slot_runs.defers_signals,
            stop=self.slot_runs.stop_event,
        )
        claim = Claim(job_class.code, slot, execution.ran_at_time())
        self.entries.append(Queued(execution, claim, state))
        self.runs += 1
        self.seconds += seconds

    def in_order(self, report: Callable[[], None]) -> None:
        """Report a job that does not run after the queued runs, in its place."""
        if self.runs:
            self.entries.append(report)
        else:
            report()

    def run(self) -> None:
        """Run what is queued (one job alone takes the usual path)."""
        entries, runs = self.entries, self.runs
        self.entries, self.runs, self.seconds = [], 0, 0.0
        if runs > 1:
            with signals_deferred(self.slot_runs.defers_signals):
                if self._run_together(entries):
                    return
        self._run_one_at_a_time(entries)

    def _run_one_at_a_time(self, entries: list[Queued | Callable[[], None]]) -> None:
        for entry in entries:
            if isinstance(entry, Queued):
                with signals_deferred(self.slot_runs.defers_signals):
                    self.slot_runs.run_slot(
                        entry.job_class, entry.claim.slot, entry.state, self.lock_class, None
                    )
            else:
                entry()

    def _run_together(self, entries: list[Queued | Callable[[], None]]) -> bool:
        """Claim, run and record the queued runs together; False if they must go one at a time."""
        token = uuid.uuid4().hex
        queued = [entry for entry in entries if isinstance(entry, Queued)]
        self.slot_runs.refresh_connection()
        if batch_claims.claim_and_start([item.claim for item in queued], token) is None:
            return False
        # A batch that takes much longer than its jobs' last runs did gives its
        # unstarted runs back, so that other hosts need not wait for them.
        keeper = BatchHeartbeat(queued, token, max(2 * self.budget, self.budget + 1.0))
        pending: list[Queued | Callable[[], None]] = []
        stored_at = time.monotonic()
        interruption: BaseException | None = None
        with keeper:
            try:
                try:
                    for entry in entries:
                        pending.append(entry)
                        if not isinstance(entry, Queued) or entry.claim.run is None:
                            continue
                        if signal_pending():
                            break  # SIGTERM/SIGINT: what has not started is given back
                        self.slot_runs.refresh_connection()
                        if not keeper.start(entry):
                            continue
                        run = entry.claim.run
                        run.start_time = timezone.now()
                        interruption = entry.execution.perform(run)
                        run.end_time = timezone.now()
                        entry.done = True
                        if interruption is not None:
                            break
                        if time.monotonic() - stored_at >= self.budget:
                            self._store(pending, token, keeper)
                            pending, stored_at = [], time.monotonic()
                finally:
                    self._store(pending, token, keeper)
            finally:
                keeper.give_back_unstarted()
        if interruption is not None:
            raise interruption
        if signal_pending():
            return True  # delivered as the batch's section ends
        # Runs given back while a slow job ran: one at a time now.
        self._run_one_at_a_time([item for item in queued if item.given_back])
        return True

    def _store(
        self, pending: list[Queued | Callable[[], None]], token: str, keeper: BatchHeartbeat
    ) -> None:
        """Store the outcomes of the finished runs in ``pending``, then report them in order.

        ``pending`` is consumed as it is reported: a failure half-way leaves
        the rest, and nothing is stored or reported twice.
        """
        finished = [
            item for item in pending if isinstance(item, Queued) and item.done and not item.stored
        ]
        runs = [item.claim.run for item in finished if item.claim.run is not None]
        if runs:
            recorded = {run.pk for run in self._finish(runs, token)}
            for item in finished:
                item.stored = True
                item.recorded = item.claim.run is not None and item.claim.run.pk in recorded
            keeper.forget(runs)
        slot_runs = self.slot_runs
        while pending:
            entry = pending.pop(0)
            if not isinstance(entry, Queued):
                entry()
                continue
            run = entry.claim.run
            if run is None:
                lock = (
                    self.lock_class(entry.job_class, slot_runs.output.silent)
                    if self.lock_class
                    else None
                )
                slot_runs.not_claimed(entry.job_class.code, entry.state, lock)
            elif entry.done:
                slot_runs.ran(run, entry.job_class)
                entry.execution.finish(run, recorded=entry.recorded)
        notify_after_runs({item.claim.code: item.job_class for item in finished})

    @staticmethod
    def _finish(runs: list[CronJobLog], token: str) -> list[CronJobLog]:
        """Store outcomes; messages the database refuses are stored escaped. The runs
        whose outcome was stored (not those declared abandoned meanwhile)."""
        return store_outcomes(
            runs,
            lambda: batch_claims.finish_runs(runs, token),
            lambda error: logger.warning(
                "Storing the outcomes of %d runs failed (%s); retrying", len(runs), error
            ),
        )


class BatchHeartbeat(LeaseKeeper):
    """Keeps the leases and locks of a batch's runs alive until their outcomes are stored.

    Once the batch has run ``give_back_after`` seconds, it gives back the
    runs that have not started (see :meth:`give_back_unstarted`).
    """

    def __init__(self, queued: list[Queued], token: str, give_back_after: float) -> None:
        super().__init__(f"a batch of {len(queued)} cron job runs")
        self.token = token
        self.queued = queued
        self._runs = {item.claim.run.pk: item.claim.run for item in queued if item.claim.run}
        self._guard = threading.Lock()
        self._give_back_at = time.monotonic() + give_back_after
        self._renewed_at = time.monotonic()

    def start(self, item: Queued) -> bool:
        """Mark ``item`` started, unless it was given back or its lease may have run out."""
        with self._guard:
            if item.given_back:
                return False
            if time.monotonic() - self._renewed_at >= conf.LEASE_SECONDS:
                # The heartbeat could not renew the lease: another host may
                # have abandoned the run and taken the lock.
                return False
            item.started = True
            return True

    def forget(self, runs: list[CronJobLog]) -> None:
        with self._guard:
            for run in runs:
                self._runs.pop(run.pk, None)

    def seconds_to_next_beat(self) -> float:
        until_give_back = self._give_back_at - time.monotonic()
        if until_give_back > 0:
            return max(0.01, min(until_give_back, conf.LEASE_SECONDS / 4))
        return conf.LEASE_SECONDS / 4

    def beat(self) -> None:
        if time.monotonic() >= self._give_back_at:
            self.give_back_unstarted()
        with self._guard:
            runs = list(self._runs.values())
        if runs:
            batch_claims.renew_leases(runs, self.token)
        self._renewed_at = time.monotonic()

    def give_back_unstarted(self) -> list[Queued]:
        """Give back the claims of the runs that have not started; returns them."""
        with self._guard:
            unstarted = [
                item
                for item in self.queued
                if item.claim.run is not None and not item.started and not item.given_back
            ]
            for item in unstarted:
                item.given_back = True
                self._runs.pop(item.claim.run.pk, None)  # type: ignore[union-attr]
        try:
            batch_claims.give_back(
                [item.claim for item in unstarted],
                {item.claim.code: item.state for item in unstarted},
                self.token,
            )
        except Exception:
            with self._guard:
                for item in unstarted:
                    item.given_back = False
            raise
        return unstarted
