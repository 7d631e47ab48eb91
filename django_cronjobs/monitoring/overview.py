"""Where each configured job stands: next run, last outcome, overdue, failing.

What ``manage.py cronjobs`` prints and monitors check, from the state rows
(one query for all jobs); nothing here reads the log.

A job's next run is worked out only when asked for, and read from the state
row's stored next due moment while that is valid (see :mod:`.due_times`):
evaluating a schedule costs far more than the rest of a job's status, and a
page of thousands of jobs shows the next runs of few.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.utils import timezone

from ..jobs.base import ConfiguredJob, CronJobBase, load_jobs
from ..models import UNSUCCESSFUL, CronJobState, RunStatus
from ..schedules.schedule import CURRENT_SLOT_SECONDS, ENTRIES_ONLY
from ..store.due_times import stored_next_due
from ..store.job_states import JobState, read_states

# A job is overdue when it has been due this long without a run: runcrons
# runs a slot within CURRENT_SLOT_SECONDS, and a tick may come a minute late.
OVERDUE_AFTER = timedelta(seconds=CURRENT_SLOT_SECONDS + 60)


@dataclass
class JobStatus:
    """One job of CRON_CLASSES, as its state row and schedule describe it.

    ``state`` is what a tick reads (:class:`JobState`) or the full row.
    """

    code: str
    job_class: type[CronJobBase]
    state: JobState | CronJobState | None
    now: datetime

    @cached_property
    def next_run(self) -> datetime | None:
        """When the job is next due (in the past: due now); None: at every call."""
        return next_run(self.job_class, self.state, self.now)

    @property
    def schedule(self) -> str:
        return self.job_class.schedule.describe()

    @property
    def entries_only(self) -> bool:
        """It has no schedule of its own: it runs only through its entries."""
        return self.job_class.schedule is ENTRIES_ONLY

    @property
    def last_status(self) -> str:
        return self.state.last_status if self.state is not None else ""

    @property
    def last_started(self) -> datetime | None:
        return self.state.last_started_at if self.state is not None else None

    @property
    def paused(self) -> bool:
        return self.state is not None and self.state.paused

    @property
    def run_requested(self) -> bool:
        return self.state is not None and self.state.run_requested_at is not None

    @property
    def running(self) -> bool:
        return self.last_status == RunStatus.RUNNING

    @property
    def failing(self) -> bool:
        """Its last run did not succeed."""
        return self.last_status in UNSUCCESSFUL

    @property
    def overdue(self) -> bool:
        """Due for longer than OVERDUE_AFTER without a run starting (never when paused)."""
        if self.state is None or self.paused or self.running or self.next_run is None:
            return False
        return self.now - self.next_run > OVERDUE_AFTER

    @property
    def unhealthy(self) -> bool:
        """Overdue, or failing and not paused: what monitors alert on.

        Pausing a failing job is how an operator acknowledges it.
        """
        return not self.paused and (self.overdue or self.failing)

    @property
    def health(self) -> str:
        """``paused``, ``overdue``, ``failing``, ``running``, ``ok`` or ``never run``."""
        if self.paused:
            return "paused"
        if self.overdue:
            return "overdue"
        if self.failing:
            return "failing"
        if self.running:
            return "running"
        if self.state is None or not self.last_status:
            return "never run"
        return "ok"


def job_statuses(
    now: datetime | None = None,
    states: Mapping[str, JobState | CronJobState] | None = None,
) -> list[JobStatus]:
    """Every runnable job of CRON_CLASSES, in its order.

    ``states`` are the jobs' state rows by code; by default they are read
    as a tick reads them.
    """
    now = now or timezone.now()
    if states is None:
        states = read_states().states
    return [
        JobStatus(entry.code, entry.job_class, states.get(entry.code), now)
        for entry in load_jobs()
        if entry.runnable and entry.job_class is not None
    ]


@dataclass
class Standing:
    """Where the whole configuration stands, as monitors judge it.

    ``status`` is ``broken`` (an entry of CRON_CLASSES does not load: that
    job never runs), ``failing`` (a job is overdue or failing), ``no jobs``
    (CRON_CLASSES lists none: check W002) or ``ok``.
    """

    jobs: list[JobStatus]
    broken: list[ConfiguredJob]

    @cached_property
    def unhealthy(self) -> list[JobStatus]:
        return [job for job in self.jobs if job.unhealthy]

    @property
    def status(self) -> str:
        if self.broken:
            return "broken"
        if self.unhealthy:
            return "failing"
        return "ok" if self.jobs else "no jobs"


def standing() -> Standing:
    """Every configured job's status, and the entries of CRON_CLASSES that are broken."""
    return Standing(job_statuses(), [entry for entry in load_jobs() if entry.problems])


def next_run(
    job_class: type[CronJobBase], state: JobState | CronJobState | None, now: datetime
) -> datetime | None:
    """When ``job_class`` is next due given its state; None when at every call."""
    schedule = job_class.schedule
    if schedule.every_invocation:
        return None
    if state is not None:
        stored = stored_next_due(job_class, state)
        if stored is not None:
            return stored  # what schedule.next_due gives, without evaluating it
        due = schedule.next_due_from(state)
        if due is not None:
            return due
        if state.last_slot is None:
            return state.first_seen or now  # an interval job that never ran: due at once
    elif schedule.run_every_mins:
        return now  # a new interval job runs at the next tick
    upcoming = schedule.next_slots(now, 1)
    return upcoming[0] if upcoming else None


def upcoming_runs(
    job_class: type[CronJobBase], state: JobState | CronJobState | None, now: datetime, count: int
) -> list[datetime]:
    """The next ``count`` slots of ``job_class`` after ``now``, in its schedule's zone."""
    schedule = job_class.schedule
    previous = state.last_slot if state is not None else None
    after = now if previous is None or previous < now else previous
    slots = schedule.next_slots(after, count, previous_slot=previous)
    return [slot.astimezone(schedule.zone) for slot in slots]
