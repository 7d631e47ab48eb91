"""The statements behind entries in a tick: read the due ones, then store when they are next due.

An idle tick costs one indexed read that returns nothing, whatever the number
of entries: ``next_due`` is stored on each entry and kept right by every
write (see :mod:`django_cronjobs.models.entries`). A tick that ran entries
reads their state rows again afterwards and stores each entry's next due
moment with one UPDATE, guarded by ``counts_from`` so that an edit made
meanwhile keeps the moment it set.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, DateTimeField, F, Q, Value, When

from ..entries.due import next_due_of
from ..models import CronEntry, CronJobState, RunStatus, failed_at
from .claims import insert_ignoring_duplicates
from .job_states import JobState

# An entry whose run goes on (in a worker, or on another host) is read again
# this soon: a run whose process died is then found within a minute or two.
RUNNING_RECHECK = timedelta(minutes=1)


@dataclass
class DueEntry:
    """An entry a tick found due, with its state row (None before its first run)."""

    entry: CronEntry
    state: JobState | None


def read_due_entries(codes: Collection[str], now: datetime, limit: int) -> list[DueEntry]:
    """The entries of the jobs ``codes`` due at ``now``, most overdue first, at most ``limit``."""
    if not codes or limit <= 0:
        return []
    rows = (
        CronEntry.objects.filter(job__in=sorted(codes), next_due__lte=now)
        .select_related("state")
        .order_by("next_due", "pk")[:limit]
    )
    due = []
    for entry in rows:
        state = getattr(entry, "state", None)
        due.append(DueEntry(entry, JobState.of_row(state) if state is not None else None))
    return due


def ensure_entry_states(due: Sequence[DueEntry], now: datetime, *, write: bool = True) -> None:
    """Create the state rows of the entries that have none, and put a copy on each.

    ``write=False`` (a dry run) puts the copies on without creating the rows.
    """
    missing = [item for item in due if item.state is None]
    if not missing:
        return
    if not write:
        for item in missing:
            item.state = JobState(None, item.entry.run_name, first_seen=now)
        return
    rows = [
        CronJobState(job_name=item.entry.run_name, entry_id=item.entry.pk, first_seen=now)
        for item in missing
    ]
    rows.sort(key=lambda row: row.job_name)  # one lock order for every process
    insert_ignoring_duplicates(CronJobState, rows)
    for item in missing:
        item.state = JobState(None, item.entry.run_name, first_seen=now)


def store_next_due(entries: Sequence[CronEntry], now: datetime) -> None:
    """After a tick ran ``entries``: store when each is next due, from its state row.

    One read and one UPDATE for all of them. An entry changed since the tick
    read it (``counts_from`` moved) keeps the moment its change stored.
    """
    if not entries:
        return
    states = {
        row.entry_id: row
        for row in CronJobState.objects.filter(entry_id__in=[entry.pk for entry in entries]).only(
            "entry_id", "last_slot", "last_status", "last_started_at"
        )
    }
    whens = []
    for entry in entries:
        state = states.get(entry.pk)
        if state is None:
            moment = next_due_of(entry)
        else:
            moment = next_due_of(
                entry, state.last_slot, failed_at(state.last_status, state.last_started_at)
            )
            if state.last_status in (RunStatus.RUNNING, RunStatus.ENQUEUED) and moment is not None:
                moment = min(moment, now + RUNNING_RECHECK)
        if moment != entry.next_due:
            whens.append(
                When(
                    Q(pk=entry.pk, counts_from=entry.counts_from),
                    then=Value(moment, output_field=DateTimeField()),
                )
            )
    if whens:
        CronEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
            next_due=Case(*whens, default=F("next_due"))
        )
