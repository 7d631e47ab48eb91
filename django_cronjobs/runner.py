"""The engine of one tick: pick the due jobs, claim, run, record.

``Runner(...).run()`` is what ``manage.py runcrons`` does, callable from any
Python code. It never raises for a failed job or a broken CRON_CLASSES entry:
the outcome is in the returned :class:`TickReport` and in CronJobLog.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from . import claims
from .base import CronJobBase, JobEntry, Problem, load_jobs
from .conf import conf
from .exceptions import LockBackendUnavailable
from .locks import LockBackend, lock_backend_class
from .log_text import as_ascii, as_log_text
from .models import CronJobLog, CronJobState, RunStatus
from .retention import delete_old_logs, delete_older_successes

logger = logging.getLogger("django_cronjobs")

CHECK_MARK = "\N{HEAVY CHECK MARK}"
BALLOT_X = "\N{HEAVY BALLOT X}"
HEADER = ("Running Crons", "=" * 40)


@dataclass
class JobResult:
    """What one tick did with one job."""

    code: str
    outcome: str  # "succeeded", "failed", "not_due", "locked", "would_run", "broken"
    run: CronJobLog | None = None
    detail: str = ""


@dataclass
class TickReport:
    """Everything one tick did, job by job."""

    results: list[JobResult] = field(default_factory=list)

    def with_outcome(self, *outcomes: str) -> list[JobResult]:
        return [result for result in self.results if result.outcome in outcomes]

    @property
    def failed(self) -> list[JobResult]:
        return self.with_outcome("failed")

    @property
    def broken(self) -> list[JobResult]:
        return self.with_outcome("broken")

    @property
    def ran(self) -> list[JobResult]:
        return self.with_outcome("succeeded", "failed")


class Runner:
    """Runs the due jobs among ``names`` (default: CRON_CLASSES) once.

    ``force`` runs every job now, outside its schedule (the run has no slot);
    ``dry_run`` reports what is due without running or recording anything;
    ``write`` receives each line runcrons prints, ``silent`` keeps all but the
    error lines back.
    """

    def __init__(
        self,
        *,
        force: bool = False,
        dry_run: bool = False,
        silent: bool = False,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.force = force
        self.dry_run = dry_run
        self.silent = silent
        self._write = write or (lambda line: None)
        self.report = TickReport()

    def say(self, line: str) -> None:
        if not self.silent:
            self._write(line)

    def shout(self, line: str) -> None:
        """Print even when silent: broken configuration must reach cron mail."""
        self._write(line)

    def run(self, names: Sequence[str] | None = None) -> TickReport:
        self.report = TickReport()
        for line in HEADER:
            self.say(line)
        entries = load_jobs(names)
        for entry in entries:
            for problem in entry.problems:
                self._broken(entry.code, problem)
        runnable = [entry for entry in entries if entry.runnable]
        if not runnable:
            return self.report
        try:
            lock_class = lock_backend_class(conf.LOCK_BACKEND)
        except (ImportError, AttributeError) as error:
            # Running without the overlap lock the project asked for could run
            # a job twice at once: fail closed.
            for entry in runnable:
                self._broken(
                    entry.code,
                    Problem("django_cronjobs.E014", f"Unknown lock backend: {error}"),
                )
            return self.report
        states = claims.ensure_states([entry.code for entry in runnable], claims.read_states())
        for entry in runnable:
            self._tick_job(entry, states[entry.code], lock_class)
        if not self.dry_run:
            delete_old_logs()
            if not connection.in_atomic_block:
                close_old_connections()
        return self.report

    # -- one job --------------------------------------------------------------

    def _broken(self, code: str, problem: Problem) -> None:
        self.shout(problem.console or f"[{BALLOT_X}] {code}: {problem.message}")
        self.report.results.append(JobResult(code, "broken", detail=problem.message))

    def _tick_job(
        self, entry: JobEntry, state: CronJobState, lock_class: type[LockBackend] | None
    ) -> None:
        job_class = entry.job_class
        assert job_class is not None
        code = entry.code
        slot = self._due_slot(job_class, state)
        if slot is None and not (self.force or job_class.schedule.every_invocation):
            self.say(f"[ ] {code}")
            self.report.results.append(JobResult(code, "not_due"))
            return
        if self.dry_run:
            self.say(f"[{CHECK_MARK}] {code}")
            self.report.results.append(JobResult(code, "would_run"))
            return
        lock = None
        if lock_class is not None and not job_class.ALLOW_PARALLEL_RUNS:
            lock = lock_class(job_class, self.silent)
        try:
            if lock is not None and not _guards_in_claim(lock) and not lock.lock():
                self._locked(code, lock)
                return
        except LockBackendUnavailable as error:
            self.shout(f"[{BALLOT_X}] {code}: {error}")
            self.report.results.append(JobResult(code, "failed", detail=str(error)))
            return
        try:
            self._claim_and_run(job_class, code, slot, state, lock)
        finally:
            if lock is not None and not _guards_in_claim(lock):
                lock.release()

    def _due_slot(self, job_class: type[CronJobBase], state: CronJobState) -> datetime | None:
        schedule = job_class.schedule
        if self.force or schedule.every_invocation:
            return None
        failed_at = state.last_started_at if state.last_status == RunStatus.FAILED else None
        return schedule.due_slot(
            state.last_slot, timezone.now(), first_seen=state.first_seen, failed_at=failed_at
        )

    def _locked(self, code: str, lock: LockBackend) -> None:
        self.say(lock.lock_failed_message())
        self.report.results.append(JobResult(code, "locked"))

    def _claim_and_run(
        self,
        job_class: type[CronJobBase],
        code: str,
        slot: datetime | None,
        state: CronJobState,
        lock: LockBackend | None,
    ) -> None:
        database_lock = lock if lock is not None and _guards_in_claim(lock) else None
        if not claims.claim(code, slot, database_lock):
            if database_lock is not None and state.locked and slot is None:
                self._locked(code, database_lock)
            else:
                self.say(f"[ ] {code}")
                self.report.results.append(JobResult(code, "not_due"))
            return
        token: str | None = getattr(database_lock, "token", None)
        run = claims.start_run(code, slot, self._ran_at_time(job_class, slot))
        if run is None:
            # The state said the slot was free but the log has a run for it.
            if token:
                claims.release_lock(code, token)
            self.say(f"[ ] {code}")
            self.report.results.append(JobResult(code, "not_due"))
            return
        interrupted = self._execute(job_class, run)
        self._record(run, token)
        if interrupted:
            raise KeyboardInterrupt
        if run.is_success and (
            job_class.remove_successful_cron_logs or conf.REMOVE_SUCCESSFUL_LOGS
        ):
            delete_older_successes(code, run.pk)
        self.report.results.append(JobResult(code, run.status, run))

    @staticmethod
    def _ran_at_time(job_class: type[CronJobBase], slot: datetime | None) -> time | None:
        schedule = job_class.schedule
        if slot is None or not schedule.run_at_times:
            return None
        local = slot.astimezone(schedule.zone)
        return local.time() if f"{local:%H:%M}" in schedule.run_at_times else None

    def _execute(self, job_class: type[CronJobBase], run: CronJobLog) -> bool:
        """Run ``do()`` and put its outcome on ``run``; True if interrupted."""
        limit = conf.MESSAGE_MAX_LENGTH
        logger.info("Running cron job %s (slot %s)", run.code, run.slot)
        try:
            result = job_class().do()
        except KeyboardInterrupt:
            run.status, run.is_success = RunStatus.FAILED, False
            run.message = as_log_text("Interrupted:\n" + traceback.format_exc(), limit)
            self.say(f"[{BALLOT_X}] {run.code}")
            return True
        except (Exception, SystemExit):
            run.status, run.is_success = RunStatus.FAILED, False
            run.message = as_log_text(traceback.format_exc(), limit)
            self.say(f"[{BALLOT_X}] {run.code}")
            logger.warning("Cron job %s failed", run.code)
            if conf.OUTPUT_ERRORS:
                logger.error("%s cronjob error:\n%s", run.code, run.message)
        else:
            run.status, run.is_success = RunStatus.SUCCEEDED, True
            run.message = as_log_text(result, limit)
            self.say(f"[{CHECK_MARK}] {run.code}")
            logger.info("Cron job %s succeeded", run.code)
        return False

    @staticmethod
    def _record(run: CronJobLog, token: str | None) -> None:
        """Store the outcome; a message the database refuses is stored escaped."""
        try:
            claims.finish_run(run, token)
            return
        except DatabaseError as error:
            logger.warning("Storing the message of %s failed (%s); escaping it", run.code, error)
        if not connection.in_atomic_block:
            close_old_connections()
        run.message = as_ascii(run.message)
        claims.finish_run(run, token)


def _guards_in_claim(lock: LockBackend) -> bool:
    # A custom backend written for django-cron lacks the flag.
    return bool(getattr(lock, "guards_in_claim", False))
