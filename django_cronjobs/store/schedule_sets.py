"""Which jobs' stored due moments a tick may trust without reading their rows.

Each job's state row stores when the job is next due (see :mod:`.due_times`),
checked against a digest of the schedule it was worked out from. Checking
it takes the row, so a tick that checks every job reads every row. A
:class:`~django_cronjobs.models.ScheduleSet` row says instead, for a whole
set of jobs, which schedules their stored moments were last worked out
from: while the set's schedules, the number of jobs' state rows and their
highest id are unchanged, a tick reads only the rows that are due or
otherwise need it, and its cost no longer grows with the number of jobs.

Every write that changes what a row's due moment depends on (a claim, an
outcome, a run given up for dead) clears the moment, and a moment is stored
only where the row still holds what it was worked out from; a deploy that
changes a schedule changes the set's digest; a row created or deleted
changes the count or the highest id. A tick that finds the set changed
reads every row, stores their due moments, and records the set again.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from ..jobs.base import ConfiguredJob
from ..models import ScheduleSet


@dataclass(frozen=True)
class JobSet:
    """A set of jobs a tick runs: digests of their codes and of their schedules."""

    jobs: str
    schedules: str


def job_set_of(jobs: Sequence[ConfiguredJob]) -> JobSet:
    """The digests of ``jobs``: the same for the same jobs in any order.

    A process ticks the same configured jobs again and again (the objects
    :func:`~django_cronjobs.jobs.base.load_jobs` reuses while nothing
    changed): their set is worked out once, then only recognised.
    """
    global _last
    if _last is not None and len(_last[0]) == len(jobs) and all(map(operator.is_, _last[0], jobs)):
        return _last[1]
    described = sorted(
        (job.code, job.job_class.schedule.fingerprint, str(job.job_class.schedule.zone))
        for job in jobs
        if job.job_class is not None
    )
    codes = "\n".join(code for code, _, _ in described)
    schedules = "\n".join("|".join(parts) for parts in described)
    found = JobSet(_digest(codes), _digest(schedules))
    _last = (tuple(jobs), found)  # holding the jobs, their ids cannot be reused
    return found


_last: tuple[tuple[ConfiguredJob, ...], JobSet] | None = None


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def record_job_set(found: JobSet, state_rows: int, state_max_id: int, database: str) -> None:
    """Record that every job of ``found`` has its due moment stored for its schedule,
    and how many jobs' state rows there were when they were read, with their highest id.

    Called inside the transaction that stored the last of those moments.
    """
    ScheduleSet.objects.using(database).update_or_create(
        jobs=found.jobs,
        defaults={
            "schedules": found.schedules,
            "state_rows": state_rows,
            "state_max_id": state_max_id,
            "stored_at": timezone.now(),
        },
    )
