"""The lines runcrons prints: django-cron's marks, each line saying when.

``[✔] code 02:02 0.004 s``, ``[ ] code next 2025-01-06 00:05 UTC``,
``[✘] code 02:02 0.004 s: reason``, ``ERROR name: (check id) text``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schedules.schedule import ENTRIES_ONLY
from .moments import clock_time, duration_text, in_zone, local_in

if TYPE_CHECKING:
    from ..jobs.base import CronJobBase, Problem
    from ..models import CronJobLog
    from ..schedules.schedule import SlotPlan
    from ..store.job_states import JobState

CHECK_MARK = "\N{HEAVY CHECK MARK}"
BALLOT_X = "\N{HEAVY BALLOT X}"
ARROW = "\N{RIGHTWARDS ARROW}"
HEADER = ("Running Crons", "=" * 40)


def run_line(run: CronJobLog, job_class: type[CronJobBase] | None) -> str:
    """``code 02:02 0.004 s``: the slot (in the job's zone; none for an unscheduled
    run) and the run's duration."""
    parts = [run.run_name]
    if run.slot is not None and job_class is not None:
        parts.append(clock_time(run.slot, job_class.schedule.zone))
    if run.end_time is not None:
        parts.append(duration_text((run.end_time - run.start_time).total_seconds()))
    return " ".join(parts)


# A missed-slot line names this many slots at most.
MISSED_NAMED = 5


def not_due_line(code: str, plan: SlotPlan, job_class: type[CronJobBase], state: JobState) -> str:
    """``[ ] code next 2025-01-06 00:05 UTC``, or the slots it missed."""
    zone = job_class.schedule.zone
    if plan.missed:
        slots = plan.missed[-MISSED_NAMED:]
        one_day = len({slot.astimezone(zone).date() for slot in plan.missed}) == 1
        write = clock_time if one_day else local_in
        named = ", ".join(write(slot, zone) for slot in slots)
        more = len(plan.missed) - len(slots)
        if plan.more_missed:
            named += f" (and more than {more} earlier)"
        elif more:
            named += f" (and {more} earlier)"
        return f"[ ] {code}: missed {named}"
    next_due = state.next_due
    if next_due:
        return f"[ ] {code} next {in_zone(next_due, zone)}"
    if job_class.schedule is ENTRIES_ONLY:
        return f"[ ] {code} (entries only)"
    return f"[ ] {code}"


def broken_line(name: str, problem: Problem) -> str:
    """The one line runcrons prints for a broken entry: no run mark, the check's id
    and text as ``manage.py check`` shows them."""
    text = " ".join((problem.console or problem.message).split())
    return f"ERROR {name}: ({problem.check_id}) {text}"


def would_run_line(code: str) -> str:
    """A dry run's line for a due job. It keeps django-cron's mark, which code
    written for django-cron (its own tests too) looks for, and says that
    nothing ran."""
    return f"[{CHECK_MARK}] {code}: would run (--dry-run: not run, not recorded)"
