"""The tick's plan: what to do with one job, decided from its class, its state and now.

Pure: no database and no clock of its own (``now`` is passed in), so every
decision can be tested without a database or time-machine. The runner acts
on the plan: claims and runs its slots, records its missed slots, skips a
paused job's slots, reports a job not due or broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..check_ids import E011
from ..jobs.base import CronJobBase, Problem
from ..schedules.schedule import SlotPlan
from ..store.due_times import known_not_due
from ..store.job_states import JobState


@dataclass(frozen=True)
class JobPlan:
    """What one tick does with one job (besides a requested run, see :func:`requested_run`).

    ``slots`` are the runs to claim, oldest first; ``(None,)`` is one run
    without a slot (``--force``, or a schedule that runs at every call).
    ``slot_plan`` is what the schedule said, with the slots missed (recorded
    with the first run, or alone).
    """

    slots: tuple[datetime | None, ...] = ()
    slot_plan: SlotPlan = field(default_factory=SlotPlan)
    paused: bool = False
    """Its slots pass unrun and unrecorded until it is resumed."""
    known_not_due: bool = False
    """The due moment stored on its state says not yet: the schedule was not evaluated."""
    broken: Problem | None = None
    """The schedule passed the checks yet failed here (``error`` says how)."""
    error: Exception | None = None

    @property
    def missed(self) -> list[datetime]:
        """The slots missed, oldest first."""
        return self.slot_plan.missed


# The plans of an idle tick, made once: most jobs of most ticks get one of these.
PAUSED = JobPlan(paused=True)
KNOWN_NOT_DUE = JobPlan(known_not_due=True)
ONE_RUN_WITHOUT_SLOT = JobPlan(slots=(None,))


def requested_run(state: JobState, *, force: bool) -> datetime | None:
    """When someone asked for a run of the job (the admin's "Run now"), if they did.

    The requested run comes before the job's plan, once and without a slot;
    ``--force`` runs the job anyway.
    """
    return None if force else state.run_requested_at


def plan_job(
    job_class: type[CronJobBase], state: JobState, now: datetime, *, force: bool = False
) -> JobPlan:
    """What the tick does with ``job_class`` at ``now``, given its ``state``."""
    schedule = job_class.schedule
    if state.paused and not force:
        return PAUSED
    if force or schedule.every_invocation:
        return ONE_RUN_WITHOUT_SLOT
    if known_not_due(job_class, state, now):
        return KNOWN_NOT_DUE
    try:
        slots = schedule.plan_from(state, now)
    except Exception as error:
        # A schedule that passed the checks yet cannot be evaluated must not
        # stop the other jobs.
        problem = Problem(E011.id, f"schedule failed: {error!r}")
        return JobPlan(broken=problem, error=error)
    return JobPlan(slots=tuple(slots.run), slot_plan=slots)


def batchable(plan: JobPlan, *, requested: bool, force: bool) -> datetime | None:
    """The one slot of a plan that may join a batch of quick runs, or None.

    A run without a slot, several slots, missed slots to record, a forced or
    a requested run each take the one-run path.
    """
    if force or requested or plan.missed or len(plan.slots) != 1:
        return None
    return plan.slots[0]
