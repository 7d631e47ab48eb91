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

from django.db import connections, transaction

from ..databases import database_for_write
from ..entries.due import next_due_of
from ..models import CronEntry, CronJobState, RunStatus, failed_at
from .claims import insert_ignoring_duplicates
from .deadlocks import retrying_deadlocks
from .job_states import JobState
from .update_sql import update_joined

# An entry whose run goes on (in a worker, or on another host) is read again
# this soon: a run whose process died is then found within a minute or two.
RUNNING_RECHECK = timedelta(minutes=1)
# How long the entries a tick took stay its own before another tick may take them.
ENTRY_LEASE = timedelta(minutes=2)


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
    return [_due(entry) for entry in rows]


def take_due_entries(codes: Collection[str], now: datetime, limit: int) -> list[DueEntry]:
    """:func:`read_due_entries`, and the entries taken: their due moment moves a
    lease ahead, so that the ticks of other hosts take other entries.

    Where the database skips locked rows (PostgreSQL, MySQL 8, MariaDB 10.6),
    ticks running at once take disjoint entries; elsewhere (SQLite, which
    runs one writer at a time) two ticks may take the same entry, and its
    claim decides. An entry that does not run (its previous run holds the
    lock) is taken again after the lease, not at once. A tick that dies
    before storing the next due moments leaves its entries due again once
    the lease has passed; the claims keep each slot to one run anyway.
    """
    if not codes or limit <= 0:
        return []
    database = database_for_write()
    rows = CronEntry.objects.using(database)
    leased = now + ENTRY_LEASE

    def take() -> list[int]:
        with transaction.atomic(using=database):
            due = rows.filter(job__in=sorted(codes), next_due__lte=now).order_by("next_due", "pk")
            if connections[database].features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            pks = list(due.values_list("pk", flat=True)[:limit])
            if pks:
                rows.filter(pk__in=pks, next_due__lte=now).update(next_due=leased)
            return pks

    # Hosts taking and storing at once may deadlock (MySQL): the loser tries again.
    pks = retrying_deadlocks(take)
    if not pks:
        return []
    taken = read_entries(pks)
    for item in taken:
        item.entry.next_due = leased  # as stored: the moment the tick compares with
    return taken


def read_entries(pks: Sequence[int]) -> list[DueEntry]:
    """The entries ``pks`` with their state rows, in the order of ``pks``."""
    rows = CronEntry.objects.filter(pk__in=list(pks)).select_related("state")
    order = {pk: index for index, pk in enumerate(pks)}
    return [_due(entry) for entry in sorted(rows, key=lambda entry: order[entry.pk])]


def _due(entry: CronEntry) -> DueEntry:
    state = getattr(entry, "state", None)
    return DueEntry(entry, JobState.of_row(state) if state is not None else None)


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

    One read and one UPDATE for all of them (on SQLite and MySQL, one per
    ROWS_PER_UPDATE), joined to the new moments: its cost grows with the
    rows, not with their square as a CASE's would. An entry changed since
    the tick read it (``counts_from`` moved) keeps the moment its change
    stored.
    """
    if not entries:
        return
    states = {
        row.entry_id: row
        for row in CronJobState.objects.filter(entry_id__in=[entry.pk for entry in entries]).only(
            "entry_id", "last_slot", "last_status", "last_started_at", "run_requested_at"
        )
    }
    moments = []
    for entry in entries:
        state = states.get(entry.pk)
        if state is None:
            moment = next_due_of(entry)
        else:
            moment = next_due_of(
                entry, state.last_slot, failed_at(state.last_status, state.last_started_at)
            )
            if state.run_requested_at is not None:
                moment = now  # requested meanwhile: the next tick runs it
            elif state.last_status in (RunStatus.RUNNING, RunStatus.ENQUEUED) and moment:
                moment = min(moment, now + RUNNING_RECHECK)
        if moment != entry.next_due:
            moments.append((entry.pk, entry.counts_from, moment))
    if moments:
        moments.sort()  # one lock order for every host
        retrying_deadlocks(lambda: _write_next_due(moments))


def _write_next_due(moments: list[tuple[int, datetime, datetime | None]]) -> None:
    """One UPDATE joined to the rows' new moments, each row only while its
    ``counts_from`` is the one read."""
    update_joined(CronEntry, moments, match=("id", "counts_from"), assign=("next_due",))
