"""The engine of one tick: pick the due jobs, claim, run, record.

``Runner(...).run()`` is what ``manage.py runcrons`` does, callable from any
Python code. It never raises for a failed job or a broken CRON_CLASSES entry:
the outcome is in the returned :class:`TickReport` and in CronJobLog.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.utils import timezone

from ..conf import conf, held_for_a_tick
from ..databases import database_for_write, in_transaction
from ..exceptions import Interrupted, LockBackendUnavailable
from ..jobs.base import CronJobBase, JobEntry, JobNames, Problem, load_jobs
from ..jobs.package_logger import package_logger
from ..locks import LockBackend, lock_backend_class
from ..models import CronJobLog, RunStatus
from ..monitoring import controls
from ..monitoring.notifications import notify_failures
from ..schedules.schedule import SlotPlan
from ..store import claims, due_times
from ..store.job_states import JobState, StatesRead, ensure_states, read_states
from ..store.retention import delete_old_logs
from ..text.log_text import failure_reason
from .batches import Batch
from .clock_guard import DatabaseClock, clock_ahead_message, slot_to_count_from, slots_ahead
from .console_lines import (
    ARROW,
    BALLOT_X,
    CHECK_MARK,
    HEADER,
    broken_line,
    not_due_line,
    run_line,
    would_run_line,
)
from .execution import Execution
from .interruption import interrupt_on_signals, signals_deferred
from .recovery import abandon_dead_runs
from .reports import JobResult, TickReport
from .side_by_side import run_side_by_side

logger = logging.getLogger("django_cronjobs")

# The problems django-cron raised as BadCronJobError: not a job class, no code.
BAD_CRON_JOB_CHECKS = ("django_cronjobs.E002", "django_cronjobs.E003")
# A connection left idle this long while a job ran is checked before reuse.
IDLE_CONNECTION_SECONDS = 60


class Runner:
    """Runs the due jobs among ``names`` (default: CRON_CLASSES) once.

    ``names`` are codes, dotted class paths or job classes themselves.

    ``force`` runs every job now, outside its schedule (the run has no slot);
    ``dry_run`` reports what is due without running or recording anything;
    ``write`` receives each line runcrons prints, ``silent`` keeps all but the
    error lines back. ``handle_signals`` (for the command line) turns SIGTERM
    and SIGINT into an interruption; then a KeyboardInterrupt that a job
    raises itself is just a failed run. Without it, SIGINT's KeyboardInterrupt
    interrupts the tick. ``concurrency`` (default ``CRONJOBS_CONCURRENCY``)
    runs up to that many due jobs at once, each in its own child process
    with its own database connections. A failed run's line gives its reason
    (the exception's last line); ``show_messages`` (``-v 2``) adds the whole
    message, as ``CRONJOBS_OUTPUT_ERRORS`` does.
    """

    def __init__(
        self,
        *,
        force: bool = False,
        dry_run: bool = False,
        silent: bool = False,
        write: Callable[[str], None] | None = None,
        handle_signals: bool = False,
        concurrency: int | None = None,
        show_messages: bool = False,
    ) -> None:
        self.force = force
        self.show_messages = show_messages
        self.dry_run = dry_run
        self.silent = silent
        self.handle_signals = handle_signals
        self.concurrency = max(1, concurrency or conf.CONCURRENCY)
        self._write = write or (lambda line: None)
        self._output_lock = threading.Lock()
        self.stop_event = threading.Event()
        self._connection_used = time.monotonic()
        self.report = TickReport()
        self.signals_handled = False
        self._next_due: list[JobState] = []
        self._batch: Batch | None = None
        self._database_clock = DatabaseClock(None)
        self._clock_refused: str | None = None
        """Why no slot is claimed (this host's clock is far ahead), or None."""

    def say(self, line: str) -> None:
        if not self.silent:
            self.shout(line)

    def shout(self, line: str) -> None:
        """Print even when silent: what is broken must reach cron mail."""
        with self._output_lock:
            self._write(line)

    def run(self, names: JobNames | None = None) -> TickReport:
        self.report = TickReport()
        self._next_due = []
        self._clock_refused = None
        if self.handle_signals:
            with interrupt_on_signals() as self.signals_handled:
                self._run_interruptibly(names)
        else:
            self._run_interruptibly(names)
        return self.report

    def _run_interruptibly(self, names: JobNames | None) -> None:
        try:
            with held_for_a_tick():
                self._tick(names)
        except (KeyboardInterrupt, Interrupted) as error:
            self.report.interrupted = error
            self.shout(f"Interrupted ({error!r}): the running job was recorded as interrupted.")

    def _tick(self, names: JobNames | None) -> None:
        for line in HEADER:
            self.say(line)
        entries = load_jobs(names)
        for entry in entries:
            for problem in entry.problems:
                self._broken(entry.code, problem, entry.name)
        runnable = [entry for entry in entries if entry.runnable]
        if not runnable:
            return
        try:
            lock_class = lock_backend_class(conf.LOCK_BACKEND)
        except (ImportError, AttributeError) as error:
            # Running without the overlap lock the project asked for could run
            # a job twice at once: fail closed.
            for entry in runnable:
                self._broken(
                    entry.code, Problem("django_cronjobs.E014", f"Unknown lock backend: {error}")
                )
            return
        known = read_states()
        self._check_clock(known)
        self._database_clock = DatabaseClock(known.database_now)
        states = ensure_states([entry.code for entry in runnable], known.states)
        if not self.dry_run:
            self._take_back_future_slots(states)
            self._watch_clock()
        held: set[str] = set()
        if not self.dry_run and self._may_have_dead_runs(runnable, states):
            held = self._recover_dead_runs(runnable, states)
        todo = []
        for entry in runnable:
            if entry.code in held and not self._parallel(entry):
                # Its run lives on this host, late heartbeat or not.
                self.say(f"[ ] {entry.code}")
                self.report.results.append(JobResult(entry.code, "locked"))
            else:
                todo.append((entry, states[entry.code]))
        # A job whose last run died with its process may kill this one too:
        # it goes after the others (and into a child process, see run_slot).
        todo.sort(key=lambda job: crashed_last_time(job[1]))
        # Inside a caller's transaction, other connections cannot see what it
        # wrote (or would wait on its locks): one job after the other there.
        concurrent = self.concurrency > 1 and not in_transaction()
        if concurrent and len(todo) > 1 and not self.dry_run:
            run_side_by_side(
                todo,
                lambda job: self._tick_job(*job, lock_class),
                self.concurrency,
                self.stop_event,
            )
        else:
            self._batch = Batch(self, lock_class)
            try:
                for entry, state in todo:
                    self._tick_job(entry, state, lock_class)
                self._run_batch()
            finally:
                self._batch = None
        if not self.dry_run:
            due_times.store_next_due(self._next_due)
            delete_old_logs()
            if not in_transaction():
                close_old_connections()

    def _check_clock(self, known: StatesRead) -> None:
        """Warn when this host's clock and the database's disagree by much."""
        if known.database_now is None:
            return
        skew = (timezone.now() - known.database_now).total_seconds()
        self.report.clock_skew = skew
        if abs(skew) > conf.CLOCK_SKEW_WARNING:
            logger.warning(
                "This host's clock is %+.0f s off the database's: slots may run early or "
                "late, and leases (%s s) may expire early; keep clocks in sync (NTP)",
                skew,
                conf.LEASE_SECONDS,
            )

    def _recover_dead_runs(self, runnable: list[JobEntry], states: dict[str, JobState]) -> set[str]:
        """Record the runs whose process died as abandoned; the codes whose run lives on.

        An abandoned run of a job this tick was asked to run is a failure of
        the tick (exit status 1); one of another job is told, not counted.
        """
        scan = abandon_dead_runs()
        classes = {entry.code: entry.job_class for entry in runnable if entry.job_class}
        for run in scan.abandoned:
            self.shout(f"[{BALLOT_X}] {run.code}: {run.message.splitlines()[0]}")
            if run.code in classes:
                self.report.results.append(JobResult(run.code, RunStatus.ABANDONED, run))
            state = states.get(run.code)
            if state is not None and state.last_status == RunStatus.RUNNING:
                state.last_status = RunStatus.ABANDONED  # as the scan wrote it
        abandoned = {run.code for run in scan.abandoned}
        self.notify({code: job for code, job in classes.items() if code in abandoned and job})
        return scan.held

    def _take_back_future_slots(self, states: dict[str, JobState]) -> None:
        """A last slot far ahead of the database's clock was claimed by a wrong clock:
        the job counts from now instead of waiting for that moment."""
        limit = conf.clock_skew_limit
        if limit is None:
            return
        for state in slots_ahead(states, self._database_clock, limit):
            now = timezone.now()
            wrong = state.last_slot
            if wrong is None or self._database_clock.seconds_ahead(now) > limit:
                continue  # this host's clock is wrong too: its ticks claim nothing
            slot = slot_to_count_from(now)
            if claims.take_back_slot(state.job_name, wrong, slot):
                logger.warning(
                    "Cron job %s: its last slot %s was ahead of the database's clock; "
                    "it counts from now",
                    state.job_name,
                    wrong,
                )
                self.say(
                    f"{state.job_name}: last slot {wrong:%Y-%m-%d %H:%M} was ahead of "
                    "the database's clock; counting from now"
                )
            state.last_slot, state.next_due, state.due_key = slot, None, ""

    def _watch_clock(self) -> None:
        """Note (and say once) that this host's clock is far ahead of the database's.

        Checked when the tick starts and after each run of this process (only a
        job can move the clock under a tick), not for every job: from then on
        the tick claims nothing.
        """
        limit = conf.clock_skew_limit
        now = timezone.now()
        ahead = self._database_clock.seconds_ahead(now)
        if limit is None or ahead <= limit:
            self._clock_refused = None
            return
        told = self._clock_refused is not None
        self._clock_refused = clock_ahead_message(now, ahead)
        if not told:
            logger.error("Cron jobs not run: %s", self._clock_refused)
            self.shout(f"[{BALLOT_X}] {self._clock_refused}")

    def _refused_by_clock(self, code: str) -> bool:
        """Report ``code`` as not run while the clock is far ahead."""
        if self._clock_refused is None:
            return False
        self._run_batch()
        self.report.results.append(JobResult(code, "clock_ahead", detail=self._clock_refused))
        return True

    @staticmethod
    def _parallel(entry: JobEntry) -> bool:
        return entry.job_class is not None and entry.job_class.ALLOW_PARALLEL_RUNS

    def _may_have_dead_runs(self, entries: list[JobEntry], states: dict[str, JobState]) -> bool:
        # Only then is the log read: an idle tick stays one query.
        return any(state.last_status == RunStatus.RUNNING for state in states.values()) or any(
            self._parallel(entry) for entry in entries
        )

    # -- one job --------------------------------------------------------------

    def _broken(self, code: str, problem: Problem, name: str | None = None) -> None:
        """Report a broken entry: its line names it as configured (``name``: a code
        used twice is told apart from the job that keeps it by its class path)."""
        line = broken_line(name or code, problem)
        self.shout(line)
        if problem.check_id in BAD_CRON_JOB_CHECKS and not self.silent:
            # Where and how django-cron logged its BadCronJobError: its words alone.
            package_logger().info(problem.console or problem.message)
        self.report.results.append(JobResult(code, "broken", detail=problem.message))

    def _plan(self, job_class: type[CronJobBase], state: JobState) -> SlotPlan:
        return job_class.schedule.plan(
            state.last_slot,
            timezone.now(),
            first_seen=state.first_seen,
            failed_at=due_times.failed_at(state),
        )

    def _tick_job(
        self, entry: JobEntry, state: JobState, lock_class: type[LockBackend] | None
    ) -> None:
        job_class = entry.job_class
        assert job_class is not None
        code = entry.code
        if self._refused_by_clock(code):
            return
        requested = not self.force and state.run_requested_at is not None
        if requested:
            self._run_requested(job_class, state, lock_class)
        if not self.force and state.paused:
            self._run_batch()
            self._skip_paused(job_class, state, told=requested)
            return
        slots: list[datetime | None]
        if self.force or job_class.schedule.every_invocation:
            plan, slots = SlotPlan(), [None]  # one run without a slot
        elif due_times.known_not_due(job_class, state, timezone.now()):
            if not requested:
                self._not_due(code, SlotPlan(), job_class, state)
            return
        else:
            try:
                plan = self._plan(job_class, state)
            except Exception as error:
                # A schedule that passed the checks yet cannot be evaluated
                # must not stop the other jobs.
                logger.exception("Cannot compute the schedule of cron job %s", code)
                self._run_batch()
                self._broken(code, Problem("django_cronjobs.E011", f"schedule failed: {error!r}"))
                return
            slots = list(plan.run)
        if self.dry_run:
            if slots or not requested:
                self.say(would_run_line(code) if slots else f"[ ] {code}")
                self.report.results.append(JobResult(code, "would_run" if slots else "not_due"))
            return
        if plan.missed and not plan.run:
            self._record_missed(code, plan)
        elif not slots and due_times.note_not_due(job_class, state):
            self._next_due.append(state)
        if not slots:
            if not requested or plan.missed:
                self._not_due(code, plan, job_class, state)
            return
        batch = self._batch
        if batch is not None:
            slot, seconds = slots[0], None
            if (
                len(slots) == 1
                and slot is not None
                and not (plan.missed or self.force or requested)
            ):
                seconds = batch.accepts(job_class, state)
            if slot is not None and seconds is not None:
                batch.add(job_class, slot, state, seconds)
                return
            batch.run()  # the jobs before this one run first
        for index, slot in enumerate(slots):
            missed = plan if index == 0 and plan.missed else None
            with signals_deferred(self.defers_signals):
                ran = self.run_slot(job_class, slot, state, lock_class, missed)
            if not ran:
                break

    def _run_requested(
        self, job_class: type[CronJobBase], state: JobState, lock_class: type[LockBackend] | None
    ) -> None:
        """The run someone asked for (the admin's "Run now"): once, without a slot."""
        if self.dry_run:
            self.say(would_run_line(job_class.code))
            self.report.results.append(JobResult(job_class.code, "would_run"))
            return
        self._run_batch()
        with signals_deferred(self.defers_signals):
            self.run_slot(job_class, None, state, lock_class, None, request=state.run_requested_at)

    def _skip_paused(
        self, job_class: type[CronJobBase], state: JobState, *, told: bool = False
    ) -> None:
        """A paused job's slots pass unrun and unrecorded, claimed so none runs later.

        ``told``: the job's requested run has had its line; one line per job.
        """
        code = job_class.code
        if not told:
            self.say(f"[ ] {code} (paused)")
        self.report.results.append(JobResult(code, "paused"))
        if self.dry_run or job_class.schedule.every_invocation:
            return
        if due_times.known_not_due(job_class, state, timezone.now()):
            return
        try:
            skipped = controls.skip_passed_slots(job_class, state, timezone.now())
        except Exception:
            logger.exception("Cannot compute the schedule of cron job %s", code)
            return
        if skipped and due_times.note_not_due(job_class, state):
            self._next_due.append(state)

    def notify(self, jobs: dict[str, type[CronJobBase]]) -> None:
        """With CRONJOBS_NOTIFY_FAILURES, mail about these jobs' failure streaks."""
        if not jobs or not conf.NOTIFY_FAILURES:
            return
        try:
            notify_failures(jobs)
        except Exception:
            # Telling about failures must not become one.
            logger.exception("Checking cron jobs %s for failure mails failed", ", ".join(jobs))

    def _not_due(
        self, code: str, plan: SlotPlan, job_class: type[CronJobBase], state: JobState
    ) -> None:
        def report() -> None:
            self.say(not_due_line(code, plan, job_class, state))
            self.report.results.append(JobResult(code, "missed" if plan.missed else "not_due"))

        if self._batch is not None:
            self._batch.in_order(report)  # after the runs queued before it
        else:
            report()

    def _run_batch(self) -> None:
        """Run the quick jobs queued so far (see :mod:`django_cronjobs.engine.batches`)."""
        if self._batch is not None:
            self._batch.run()

    def _record_missed(self, code: str, plan: SlotPlan) -> None:
        """Slots missed with none to run: claim the latest so one process records them."""
        if claims.claim(code, plan.missed[-1], None, running=False):
            self._write_missed(code, plan)

    def _write_missed(self, code: str, plan: SlotPlan) -> None:
        claims.record_missed(
            code,
            plan.missed,
            plan.more_missed,
            "Missed: runcrons did not run this slot in time.",
        )
        logger.warning("Cron job %s missed %d slot(s)", code, len(plan.missed))

    def refresh_connection(self) -> None:
        """Between jobs, reconnect if the connection broke or sat idle through a long job.

        A tick counts as one request: with CONN_MAX_AGE=0, Django's own
        close_old_connections() would reconnect before every job.
        """
        if in_transaction():
            return
        idle = time.monotonic() - self._connection_used
        broken = any(connections[alias].errors_occurred for alias in self._aliases())
        if broken or idle > IDLE_CONNECTION_SECONDS:
            close_old_connections()

    @staticmethod
    def _aliases() -> set[str]:
        return {DEFAULT_DB_ALIAS, database_for_write()}

    @property
    def defers_signals(self) -> bool:
        return self.signals_handled and threading.current_thread() is threading.main_thread()

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

        ``request`` is the job's ``run_requested_at`` when this is the
        requested run: the claim takes the request with the run.

        Called with SIGTERM and SIGINT held back, so that they never cut the
        run's records in half; they reach do() itself (see Execution).
        """
        code = job_class.code
        lock = None
        if lock_class is not None and not job_class.ALLOW_PARALLEL_RUNS:
            lock = lock_class(job_class, self.silent)
        database_lock = lock is not None and _guards_in_claim(lock)
        alias = job_class.task_backend()
        if alias is not None:
            from ..queued.enqueue import usable

            problem = usable(job_class, alias, lock is None or database_lock)
            if problem:
                self._broken(code, Problem("django_cronjobs.E019", problem))
                return False
        try:
            if lock is not None and not database_lock and not lock.lock():
                self._locked(code, lock)
                return False
        except LockBackendUnavailable as error:
            # Fail closed: without its lock the job could run twice at once.
            self.shout(f"[{BALLOT_X}] {code}: {error}")
            self.report.results.append(JobResult(code, "lock_backend_failed", detail=str(error)))
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
            if not claims.claim(code, slot, lock if database_lock else None, request=request):
                self.not_claimed(code, state, lock if database_lock else None)
                return False
            try:
                if missed is not None:
                    self._write_missed(code, missed)
                run = execution.start() if alias is None else self._enqueue(execution, alias)
            except BaseException:
                if execution.lock_token:
                    claims.release_lock(code, execution.lock_token)
                raise
            if run is None:
                self.say(f"[ ] {code}")
                self.report.results.append(JobResult(code, "not_due"))
                return False
            if alias is not None:
                return self._handed_over(execution, run, alias)
            try:
                execution.run(run)
            finally:
                self.ran(run, job_class)
            self.notify({code: job_class})
            return True
        finally:
            if lock is not None and not database_lock:
                self._release(code, lock)

    @staticmethod
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

    def _handed_over(self, execution: Execution, run: CronJobLog, alias: str) -> bool:
        """Report a run handed to a task backend; False when the job cannot run again
        in this tick (a worker holds its lock)."""
        code = execution.code
        if run.status in (RunStatus.ENQUEUED, RunStatus.RUNNING):
            self.say(f"[{ARROW}] {code} (task {run.task_id} on {alias})")
            self.report.results.append(JobResult(code, str(run.status), run))
            # Its lock is the worker's now: the job's next slots wait.
            return execution.lock_token is None
        self.ran(run, execution.job_class)  # the backend ran it at once
        self.notify({code: execution.job_class})
        return True

    def not_claimed(self, code: str, state: JobState, database_lock: LockBackend | None) -> None:
        """Report a slot that another process has, or a job whose lock is held."""
        if database_lock is not None and _lock_held(state):
            self._locked(code, database_lock)
        else:
            self.say(f"[ ] {code}")
            self.report.results.append(JobResult(code, "not_due"))

    def ran(self, run: CronJobLog, job_class: type[CronJobBase] | None = None) -> None:
        """Report a run whose outcome is stored: its slot in the job's zone and how long
        it took; a failure says why."""
        self._connection_used = time.monotonic()
        if not self.dry_run:
            self._watch_clock()  # the job may have moved this process's clock
        line = run_line(run, job_class)
        if run.is_success:
            self.say(f"[{CHECK_MARK}] {line}")
        else:
            self.say(f"[{BALLOT_X}] {line}: {failure_reason(run.status, run.message)}")
            if self.show_messages or conf.OUTPUT_ERRORS:
                # One write: lines of jobs failing side by side do not mix.
                self.say("\n".join(f"    {line}" for line in run.message.splitlines()))
        self.report.results.append(JobResult(run.code, run.status, run))

    def _release(self, code: str, lock: LockBackend) -> None:
        try:
            lock.release()
        except LockBackendUnavailable as error:
            # The run is recorded; the lock expires with its lease.
            logger.warning("Releasing the lock of cron job %s failed: %s", code, error)
            self.shout(f"[{BALLOT_X}] {code}: {error}")
            self.report.results.append(JobResult(code, "lock_backend_failed", detail=str(error)))

    def _locked(self, code: str, lock: LockBackend) -> None:
        line = lock.lock_failed_message()
        self.say(line)
        if not self.silent:
            package_logger().info(line)  # as django-cron logged a lock held elsewhere
        self.report.results.append(JobResult(code, "locked"))


def crashed_last_time(state: JobState) -> bool:
    """Whether the job's last run died with the process that ran it."""
    return state.last_status == RunStatus.ABANDONED


def can_spawn() -> bool:
    """Whether a child process can set Django up again: it needs DJANGO_SETTINGS_MODULE."""
    return bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


def _lock_held(state: JobState) -> bool:
    """Whether the state read at the start of the tick showed a live database lock."""
    expires = state.lock_expires_at
    return state.locked and (expires is None or expires >= timezone.now())


def _guards_in_claim(lock: LockBackend) -> bool:
    # A custom backend written for django-cron lacks the flag.
    return bool(getattr(lock, "guards_in_claim", False))


__all__ = ["JobResult", "Runner", "TickReport"]
