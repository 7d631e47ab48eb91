"""The due entries of a tick, made into jobs the tick plans and runs like the others.

Each due entry becomes its job's class with the entry's schedule and kwargs
(:func:`..entries.job_classes.entry_job_class`) and the copy of its state row
that its schedule is evaluated with: nothing before the entry's last write
counts (:func:`..entries.due.counted_history`). From there the runner plans,
claims, runs and records it as any job: exactly once per (job, entry, slot).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from ..entries.due import counted_history
from ..entries.job_classes import entry_job_class
from ..jobs.base import ConfiguredJob, CronJobBase
from ..models import UNSUCCESSFUL
from ..store.due_entries import DueEntry
from ..store.job_states import JobState


def entry_jobs(
    due: list[DueEntry],
    jobs: Mapping[str, type[CronJobBase]],
    paused_jobs: Collection[str] = (),
) -> list[tuple[ConfiguredJob, JobState]]:
    """The job and state a tick plans for each due entry (whose state is known).

    An entry is paused while it is disabled, and while its job is paused.
    """
    planned = []
    for item in due:
        entry, state = item.entry, item.state
        assert state is not None
        job_class = entry_job_class(jobs[entry.job], entry.key, entry.schedule, entry.kwargs)
        count_from_last_write(state, entry.counts_from)
        state.paused = not entry.enabled or entry.job in paused_jobs
        planned.append((ConfiguredJob(entry.run_name, job_class), state))
    return planned


def count_from_last_write(state: JobState, counts_from: datetime) -> None:
    """Make ``state`` say what the entry's schedule may count: nothing before its last write.

    Only the tick's copy changes; the claims compare the row itself.
    """
    history = counted_history(counts_from, state.last_slot, state.failed_at)
    state.last_slot = history.last_slot
    state.first_seen = history.first_seen
    if history.failed_at is None and state.last_status in UNSUCCESSFUL:
        state.last_started_at = None  # a failure before the write is not retried
    # The due moment lives on the entry, not on its state row.
    state.next_due, state.due_key = None, ""
