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
from typing import TYPE_CHECKING

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from . import batch_claims
from .base import CronJobBase
from .batch_claims import Claim
from .conf import conf
from .databases import in_transaction
from .execution import Execution
from .heartbeat import LeaseKeeper
from .interruption import signals_deferred
from .job_states import MOMENTS, JobState
from .locks import LockBackend
from .log_text import as_ascii
from .models import CronJobLog, RunStatus

if TYPE_CHECKING:
    from .runner import Runner

logger = logging.getLogger("django_cronjobs")

MOST_RUNS = 100
"""Runs claimed in one statement at most."""

STARTED = MOMENTS.index("last_started_at")
FINISHED = MOMENTS.index("last_finished_at")
QUICK_OUTCOMES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


def batch_seconds() -> float:
    """``CRONJOBS_BATCH_SECONDS`` as a number; 0 (no batches) when it is not one
    (the system check django_cronjobs.E018 reports it)."""
    value = conf.BATCH_SECONDS
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0.0
    return float(value)


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
    done: bool = False

    @property
    def job_class(self) -> type[CronJobBase]:
        return self.execution.job_class


class Batch:
    """The quick jobs of a tick waiting to run together (see the module)."""

    def __init__(self, runner: Runner, lock_class: type[LockBackend] | None) -> None:
        self.runner = runner
        self.lock_class = lock_class
        self.budget = batch_seconds()
        self.entries: list[Queued | Callable[[], None]] = []
        """The queued runs, and the lines of the jobs between them that did not run."""
        self.runs = 0
        self.seconds = 0.0

    def accepts(self, job_class: type[CronJobBase], state: JobState) -> float | None:
        """The job's expected seconds, if it may run in a batch (its slot aside)."""
        runner = self.runner
        if (
            not self.budget
            or runner.concurrency != 1
            or self.lock_class is None
            or not getattr(self.lock_class, "guards_in_claim", False)
            or job_class.ALLOW_PARALLEL_RUNS
            or job_class.timeout() is not None
            or job_class.task_backend() is not None
        ):
            return None
        seconds = last_run_seconds(state)
        return seconds if seconds is not None and seconds <= self.budget else None

    def add(
        self, job_class: type[CronJobBase], slot: datetime, state: JobState, seconds: float
    ) -> None:
        """Queue the job for ``slot``; runs the batch first if it is full."""
        if self.runs >= MOST_RUNS or self.seconds + seconds > self.budget:
            self.run()
        runner = self.runner
        execution = Execution(
            job_class,
            slot,
            None,
            False,
            signals_handled=runner.signals_handled,
            signals_deferred=runner.defers_signals,
            stop=runner.stop_event,
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
            with signals_deferred(self.runner.defers_signals):
                if self._run_together(entries):
                    return
        self._run_one_at_a_time(entries)

    def _run_one_at_a_time(self, entries: list[Queued | Callable[[], None]]) -> None:
        for entry in entries:
            if isinstance(entry, Queued):
                with signals_deferred(self.runner.defers_signals):
                    self.runner.run_slot(
                        entry.job_class, entry.claim.slot, entry.state, self.lock_class, None
                    )
            else:
                entry()

    def _run_together(self, entries: list[Queued | Callable[[], None]]) -> bool:
        """Claim, run and record the queued runs together; False if they must go one at a time."""
        token = uuid.uuid4().hex
        queued = [entry for entry in entries if isinstance(entry, Queued)]
        self.runner.refresh_connection()
        if batch_claims.claim_and_start([item.claim for item in queued], token) is None:
            return False
        keeper = BatchHeartbeat(
            [item.claim.run for item in queued if item.claim.run is not None], token
        )
        pending: list[Queued | Callable[[], None]] = []
        stored_at = time.monotonic()
        interruption: BaseException | None = None
        with keeper:
            try:
                for entry in entries:
                    pending.append(entry)
                    run = entry.claim.run if isinstance(entry, Queued) else None
                    if run is None:
                        continue
                    assert isinstance(entry, Queued)
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
                unstarted = [item for item in queued if item.claim.run and not item.done]
                batch_claims.give_back(
                    [item.claim for item in unstarted],
                    {item.claim.code: item.state for item in unstarted},
                    token,
                )
        if interruption is not None:
            raise interruption
        return True

    def _store(
        self, pending: list[Queued | Callable[[], None]], token: str, keeper: BatchHeartbeat
    ) -> None:
        """Store the outcomes of the finished runs in ``pending``, then report them in order."""
        finished = [item for item in pending if isinstance(item, Queued) and item.done]
        runs = [item.claim.run for item in finished if item.claim.run is not None]
        if runs:
            self._finish(runs, token)
            keeper.forget(runs)
        runner = self.runner
        for item in pending:
            if not isinstance(item, Queued):
                item()
                continue
            run = item.claim.run
            if run is None:
                lock = self.lock_class(item.job_class, runner.silent) if self.lock_class else None
                runner.not_claimed(item.job_class.code, item.state, lock)
            elif item.done:
                runner.ran(run)
                item.execution.finish(run)
        runner.notify({item.claim.code: item.job_class for item in finished})

    @staticmethod
    def _finish(runs: list[CronJobLog], token: str) -> None:
        """Store outcomes; messages the database refuses are stored escaped."""
        try:
            batch_claims.finish_runs(runs, token)
            return
        except DatabaseError as error:
            logger.warning(
                "Storing the outcomes of %d runs failed (%s); retrying", len(runs), error
            )
        if not in_transaction():
            close_old_connections()
        for run in runs:
            run.message = as_ascii(run.message)
        batch_claims.finish_runs(runs, token)


class BatchHeartbeat(LeaseKeeper):
    """Keeps the leases and locks of a batch's runs alive until their outcomes are stored."""

    def __init__(self, runs: list[CronJobLog], token: str) -> None:
        super().__init__(f"batch of {len(runs)}")
        self.token = token
        self._runs = {run.pk: run for run in runs}
        self._guard = threading.Lock()

    def forget(self, runs: list[CronJobLog]) -> None:
        with self._guard:
            for run in runs:
                self._runs.pop(run.pk, None)

    def beat(self) -> None:
        with self._guard:
            runs = list(self._runs.values())
        if runs:
            batch_claims.renew_leases(runs, self.token)
