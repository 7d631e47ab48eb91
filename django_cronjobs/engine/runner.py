"""The tick: load the jobs, read their states, plan each job, claim, execute, record.

``Runner(...).run()`` is what ``manage.py runcrons`` does, callable from any
Python code. It never raises for a failed job or a broken CRON_CLASSES entry:
the outcome is in the returned :class:`TickReport` and in CronJobLog.

The runner only sequences the phases; each lives in its own module and none
calls back into the runner:

1. load: :func:`django_cronjobs.jobs.base.load_jobs` (broken entries reported);
2. read: :func:`django_cronjobs.store.job_states.read_states`, one query;
3. plan: :func:`.plan.plan_job`, pure, per job;
4. claim, execute and record: :class:`.slot_runs.SlotRuns` for one slot,
   :class:`.batches.Batch` for quick runs together, :func:`.side_by_side.run_side_by_side`
   for ``--concurrency``;
5. then the stored due moments and retention, in :mod:`django_cronjobs.store`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import close_old_connections
from django.utils import timezone

from .. import signals
from ..check_ids import E014
from ..conf import conf, held_for_a_tick
from ..databases import in_transaction
from ..exceptions import Interrupted
from ..jobs.base import ConfiguredJob, CronJobBase, JobNames, Problem, load_jobs
from ..locks import LockBackend, lock_backend_class
from ..models import RunStatus
from ..monitoring import controls
from ..monitoring.notifications import notify_after_runs
from ..schedules.schedule import SlotPlan
from ..store import claims, due_entries, due_times
from ..store.due_entries import DueEntry
from ..store.job_states import JobState, StatesRead, ensure_states, read_states
from ..store.retention import delete_old_logs, job_ages
from ..store.schedule_sets import JobSet, job_set_of
from ..text.console_lines import HEADER
from .batches import Batch
from .clock_guard import ClockWatch, DatabaseClock, slot_to_count_from, slots_ahead
from .entry_runs import entry_jobs
from .interruption import interrupt_on_signals, signals_deferred
from .plan import JobPlan, batchable, plan_job, requested_run
from .recovery import abandon_dead_runs
from .side_by_side import run_side_by_side
from .slot_runs import SlotRuns, crashed_last_time
from .tick_output import JobResult, TickOutput, TickReport

logger = logging.getLogger("django_cronjobs")

# A tick that finds more due entries than one read takes keeps taking them
# for this long (then the next tick goes on): well within the minute.
ENTRY_ROUNDS_SECONDS = 45


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
        self.dry_run = dry_run
        self.silent = silent
        self.show_messages = show_messages
        self.handle_signals = handle_signals
        self.concurrency = max(1, concurrency or conf.CONCURRENCY)
        self._write = write
        self.stop_event = threading.Event()
        self.signals_handled = False
        self.output = TickOutput(write, silent=silent, show_messages=show_messages)
        self.runs = SlotRuns(self.output, ClockWatch())
        self._next_due: list[JobState] = []
        self._code_states: dict[str, JobState] = {}

    @property
    def report(self) -> TickReport:
        """What the last tick did, job by job."""
        return self.output.report

    def run(self, names: JobNames | None = None) -> TickReport:
        self.output = TickOutput(self._write, silent=self.silent, show_messages=self.show_messages)
        self._next_due = []
        began = time.monotonic()
        with held_for_a_tick():
            if self.handle_signals:
                with interrupt_on_signals() as self.signals_handled:
                    self._run_interruptibly(names)
            else:
                self._run_interruptibly(names)
            if not self.dry_run:
                signals.send(
                    signals.cron_tick_finished,
                    type(self),
                    report=self.report,
                    seconds=time.monotonic() - began,
                )
        return self.report

    def _run_interruptibly(self, names: JobNames | None) -> None:
        try:
            self._tick(names)
        except (KeyboardInterrupt, Interrupted) as error:
            self.report.interrupted = error
            self.output.shout(
                f"Interrupted ({error!r}): the running job was recorded as interrupted."
            )

    # -- the phases -------------------------------------------------------------

    def _tick(self, names: JobNames | None) -> None:
        for line in HEADER:
            self.output.say(line)
        configured = load_jobs()
        runnable = self._load(configured if names is None else load_jobs(names))
        if not runnable:
            return
        try:
            lock_class = lock_backend_class(conf.LOCK_BACKEND)
        except (ImportError, AttributeError) as error:
            # Running without the overlap lock the project asked for could run
            # a job twice at once: fail closed.
            problem = Problem(E014.id, f"Unknown lock backend: {error}")
            for entry in runnable:
                self.output.broken(entry.code, problem)
            return
        job_set = self._job_set(runnable)
        known = read_states(timezone.now(), job_set=job_set)
        self._check_clock(known)
        self.runs = SlotRuns(
            self.output,
            ClockWatch(DatabaseClock(known.database_now)),
            concurrency=self.concurrency,
            signals_handled=self.signals_handled,
            stop=self.stop_event,
            watch_clock=not self.dry_run,
        )
        ticking = self._ticking(runnable, known)
        states = ensure_states([entry.code for entry in ticking], known.states)
        if not self.dry_run:
            self._take_back_future_slots(states)
            self.runs.watch_clock()
        started = time.monotonic()
        due: list[DueEntry] = []
        if known.entries_due is not False:
            due, added = self._add_due_entries(runnable, states)
            ticking += added
        self._run_jobs(self._todo(ticking, states, also=runnable), lock_class)
        if not self.dry_run:
            if known.set_changed and self._set_stays_valid(runnable):
                due_times.store_next_due(self._next_due, job_set=job_set, rows_read=known.rows_read)
            else:
                due_times.store_next_due(self._next_due)
            due_entries.store_next_due([item.entry for item in due], timezone.now())
            self._run_entries_left(runnable, len(due), lock_class, started)
            # Every configured job's own ages, whichever jobs this tick runs.
            delete_old_logs(ages=job_ages(configured))
            if not in_transaction():
                close_old_connections()

    def _run_jobs(
        self, todo: list[tuple[ConfiguredJob, JobState]], lock_class: type[LockBackend] | None
    ) -> None:
        """Plan and run ``todo`` in order: side by side with ``--concurrency``, else
        one after the other with quick runs in batches."""
        # Inside a caller's transaction, other connections cannot see what it
        # wrote (or would wait on its locks): one job after the other there.
        concurrent = self.concurrency > 1 and not in_transaction()
        if concurrent and len(todo) > 1 and not self.dry_run:
            run_side_by_side(
                todo,
                lambda job: self._tick_job(*job, lock_class, None),
                self.concurrency,
                self.stop_event,
            )
        else:
            batch = Batch(self.runs, lock_class)
            for entry, state in todo:
                self._tick_job(entry, state, lock_class, batch)
            batch.run()

    def _run_entries_left(
        self,
        runnable: list[ConfiguredJob],
        taken: int,
        lock_class: type[LockBackend] | None,
        started: float,
    ) -> None:
        """While a read took as many due entries as it may, take more, for up to
        ENTRY_ROUNDS_SECONDS of the tick: one host drains a crowded minute."""
        if taken < conf.ENTRIES_PER_TAKE:
            return
        jobs = [job for job in runnable if job.job_class and not job.job_class.entry_key]
        while (
            taken >= conf.ENTRIES_PER_TAKE
            and time.monotonic() - started < ENTRY_ROUNDS_SECONDS
            and not self.stop_event.is_set()
        ):
            states: dict[str, JobState] = {}
            due, added = self._add_due_entries(jobs, states, code_states=self._code_states)
            if not due:
                return
            self._run_jobs(self._todo(added, states), lock_class)
            due_entries.store_next_due([item.entry for item in due], timezone.now())
            taken = len(due)

    def _load(self, entries: list[ConfiguredJob]) -> list[ConfiguredJob]:
        """Those of ``entries`` that can run; the broken ones reported."""
        for entry in entries:
            for problem in entry.problems:
                self.output.broken(entry.code, problem, entry.name)
        return [entry for entry in entries if entry.runnable]

    def _job_set(self, runnable: list[ConfiguredJob]) -> JobSet | None:
        """The set of jobs whose stored due moments a silent tick may trust unread.

        A tick that prints a line per job, runs them all (``--force``) or
        reports them (``--dry-run``) reads every job's state instead.
        """
        if not self.silent or self.force or self.dry_run:
            return None
        return job_set_of(runnable)

    def _ticking(self, runnable: list[ConfiguredJob], known: StatesRead) -> list[ConfiguredJob]:
        """The jobs the tick looks at: those whose state was read. The others of a
        recorded set are not due (their stored moment says so) and only reported."""
        if not known.only_due:
            return list(runnable)
        ticking = [job for job in runnable if job.code in known.states]
        self.output.not_due_unread(job.code for job in runnable if job.code not in known.states)
        return ticking

    def _set_stays_valid(self, runnable: list[ConfiguredJob]) -> bool:
        """Whether the due moment of every job of the set, stored or left by this
        tick, is its schedule's: then the set may be recorded. (A broken entry of
        CRON_CLASSES is no job of the set.)"""
        codes = {job.code for job in runnable}
        unsure = [
            result
            for result in self.report.with_outcome("broken", "clock_ahead", "lock_backend_failed")
            if result.code in codes
        ]
        return not unsure and not self.stop_event.is_set() and self.report.interrupted is None

    def _add_due_entries(
        self,
        jobs: list[ConfiguredJob],
        states: dict[str, JobState],
        *,
        code_states: dict[str, JobState] | None = None,
    ) -> tuple[list[DueEntry], list[ConfiguredJob]]:
        """Take the due entries of ``jobs``: the entries and their jobs (each the
        entry's class), whose states are added to ``states``.

        ``--force`` runs the jobs' own schedules now; entries keep to their slots.
        A dry run reads them without taking them. ``code_states`` are the
        jobs' own states (default: ``states``), for their pauses.
        """
        if self.force:
            return [], []
        self._code_states = dict(code_states if code_states is not None else states)
        classes = {job.code: job.job_class for job in jobs if job.job_class is not None}
        now = timezone.now()
        if self.dry_run:
            due = due_entries.read_due_entries(classes, now, conf.ENTRIES_PER_TAKE)
        else:
            due = due_entries.take_due_entries(classes, now, conf.ENTRIES_PER_TAKE)
        due_entries.ensure_entry_states(due, now, write=not self.dry_run)
        paused = [code for code, state in self._code_states.items() if state.paused]
        added = []
        for job, state in entry_jobs(due, classes, paused):
            added.append(job)
            states[job.code] = state
        return due, added

    def _todo(
        self,
        runnable: list[ConfiguredJob],
        states: dict[str, JobState],
        *,
        also: Sequence[ConfiguredJob] = (),
    ) -> list[tuple[ConfiguredJob, JobState]]:
        """The jobs to plan, in order; those whose run lives on in a process are told.

        ``also``: the tick's other jobs, whose runs side by side may have died too.
        """
        held: set[str] = set()
        everyone = [*runnable, *also]
        if not self.dry_run and self._may_have_dead_runs(everyone, states):
            held = self._recover_dead_runs(everyone, states)
        todo = []
        for entry in runnable:
            if entry.code in held and not _parallel(entry):
                # Its run lives on this host, late heartbeat or not.
                self.output.not_run(entry.code, "locked")
            else:
                todo.append((entry, states[entry.code]))
        # A job whose last run died with its process may kill this one too:
        # it goes after the others (and into a child process, see SlotRuns).
        todo.sort(key=lambda job: crashed_last_time(job[1]))
        return todo

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

    def _recover_dead_runs(
        self, runnable: list[ConfiguredJob], states: dict[str, JobState]
    ) -> set[str]:
        """Record the runs whose process died as abandoned; the codes whose run lives on.

        An abandoned run of a job this tick was asked to run is a failure of
        the tick (exit status 1); one of another job is told, not counted.
        """
        scan = abandon_dead_runs()
        classes = {entry.code: entry.job_class for entry in runnable if entry.job_class}
        for run in scan.abandoned:
            self.output.abandoned(run, counted=run.code in classes)
            state = states.get(run.code)
            if state is not None and state.last_status == RunStatus.RUNNING:
                state.last_status = RunStatus.ABANDONED  # as the scan wrote it
            # Also a run of a job this tick does not run: it ended all the same.
            signals.send_run_finished(classes.get(run.code), run)
        abandoned = {run.code for run in scan.abandoned}
        notify_after_runs({code: job for code, job in classes.items() if code in abandoned and job})
        return scan.held

    def _take_back_future_slots(self, states: dict[str, JobState]) -> None:
        """A last slot far ahead of the database's clock was claimed by a wrong clock:
        the job counts from now instead of waiting for that moment."""
        limit = conf.clock_skew_limit
        if limit is None:
            return
        for state in slots_ahead(states, self.runs.clock.clock, limit):
            now = timezone.now()
            wrong = state.last_slot
            if wrong is None or self.runs.clock.clock.seconds_ahead(now) > limit:
                continue  # this host's clock is wrong too: its ticks claim nothing
            slot = slot_to_count_from(now)
            if claims.take_back_slot(state.job_name, wrong, slot):
                logger.warning(
                    "Cron job %s: its last slot %s was ahead of the database's clock; "
                    "it counts from now",
                    state.job_name,
                    wrong,
                )
                self.output.say(
                    f"{state.job_name}: last slot {wrong:%Y-%m-%d %H:%M} was ahead of "
                    "the database's clock; counting from now"
                )
            state.last_slot, state.next_due, state.due_key = slot, None, ""

    def _may_have_dead_runs(
        self, entries: list[ConfiguredJob], states: dict[str, JobState]
    ) -> bool:
        # Only then is the log read: an idle tick stays one query.
        return any(state.last_status == RunStatus.RUNNING for state in states.values()) or any(
            map(_parallel, entries)
        )

    # -- one job: plan, then act on the plan --------------------------------------

    def _tick_job(
        self,
        entry: ConfiguredJob,
        state: JobState,
        lock_class: type[LockBackend] | None,
        batch: Batch | None,
    ) -> None:
        """Plan the job, then act on its plan. A batch (when jobs run one after the
        other) takes quick runs; whatever else acts lets the runs queued before it
        go first, and lines that only report wait for them in order."""
        job_class = entry.job_class
        assert job_class is not None
        code = entry.code
        flush = batch.run if batch is not None else _nothing
        refused = self.runs.clock.refused
        if refused is not None:
            flush()
            self.output.clock_ahead(code, refused)
            return
        request = requested_run(state, force=self.force)
        if request is not None:
            self._run_requested(job_class, state, lock_class, request, flush)
        told = request is not None  # one line per job: the requested run's
        plan = plan_job(job_class, state, timezone.now(), force=self.force)
        if plan.paused:
            flush()
            self._skip_paused(job_class, state, told=told)
        elif plan.known_not_due:
            if not told:
                self._not_due(code, SlotPlan(), job_class, state, batch)
        elif plan.broken is not None:
            logger.error("Cannot compute the schedule of cron job %s", code, exc_info=plan.error)
            flush()
            self.output.broken(code, plan.broken)
        elif self.dry_run:
            if plan.slots:
                self.output.would_run(code)
            elif not told:
                self.output.not_run(code)
        elif not plan.slots:
            self._nothing_to_run(job_class, state, plan, batch, told=told)
        else:
            self._run(job_class, state, plan, lock_class, batch, told=told)

    def _run_requested(
        self,
        job_class: type[CronJobBase],
        state: JobState,
        lock_class: type[LockBackend] | None,
        request: datetime,
        flush: Callable[[], None],
    ) -> None:
        """The run someone asked for (the admin's "Run now"): once, without a slot."""
        if self.dry_run:
            self.output.would_run(job_class.run_name())
            return
        flush()
        with signals_deferred(self.runs.defers_signals):
            self.runs.run_slot(job_class, None, state, lock_class, None, request=request)

    def _nothing_to_run(
        self,
        job_class: type[CronJobBase],
        state: JobState,
        plan: JobPlan,
        batch: Batch | None,
        *,
        told: bool,
    ) -> None:
        """Record the slots missed with none to run, or note when the job is next due."""
        code = job_class.run_name()
        if plan.missed:
            self.runs.record_missed(job_class, plan.slot_plan)
        elif due_times.note_not_due(job_class, state):
            self._next_due.append(state)
        if not told or plan.missed:
            self._not_due(code, plan.slot_plan, job_class, state, batch)

    def _run(
        self,
        job_class: type[CronJobBase],
        state: JobState,
        plan: JobPlan,
        lock_class: type[LockBackend] | None,
        batch: Batch | None,
        *,
        told: bool,
    ) -> None:
        """Run the plan's slots: a quick one joins the batch, others run one by one."""
        if batch is not None:
            slot = batchable(plan, requested=told, force=self.force)
            seconds = batch.accepts(job_class, state) if slot is not None else None
            if slot is not None and seconds is not None:
                batch.add(job_class, slot, state, seconds)
                return
            batch.run()  # the jobs before this one run first
        for index, slot in enumerate(plan.slots):
            missed = plan.slot_plan if index == 0 and plan.missed else None
            with signals_deferred(self.runs.defers_signals):
                ran = self.runs.run_slot(job_class, slot, state, lock_class, missed)
            if not ran:
                break

    def _skip_paused(
        self, job_class: type[CronJobBase], state: JobState, *, told: bool = False
    ) -> None:
        """A paused job's slots pass unrun and unrecorded, claimed so none runs later.

        ``told``: the job's requested run has had its line; one line per job.
        """
        code = job_class.run_name()
        self.output.paused(code, told=told)
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

    def _not_due(
        self,
        code: str,
        plan: SlotPlan,
        job_class: type[CronJobBase],
        state: JobState,
        batch: Batch | None,
    ) -> None:
        """The job's line, after the runs queued before it."""

        def report() -> None:
            self.output.not_due(code, plan, job_class, state)

        if batch is not None:
            batch.in_order(report)
        else:
            report()


def _parallel(entry: ConfiguredJob) -> bool:
    return entry.job_class is not None and entry.job_class.ALLOW_PARALLEL_RUNS


def _nothing() -> None:
    pass


__all__ = ["JobResult", "Runner", "TickReport"]
