"""When an entry is due: its schedule counted from its last write, not from before it.

A schedule that is created, changed or enabled again counts from that moment
(``counts_from``): its first slot is the first one after the write, so an
edit never runs at once and never catches up on the slots before it. This
module turns an entry's history into the history its schedule is evaluated
with; nothing here reads a clock or a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..schedules.schedule import Schedule
from ..schedules.wallclock import floor_minute


class EntryLike(Protocol):
    """The columns of an entry that decide when it is due."""

    @property
    def enabled(self) -> bool: ...

    @property
    def counts_from(self) -> datetime: ...

    @property
    def schedule(self) -> Schedule: ...


@dataclass(frozen=True)
class CountedHistory:
    """An entry's past as its schedule sees it: nothing before ``counts_from``."""

    last_slot: datetime | None
    first_seen: datetime | None
    failed_at: datetime | None


def counted_history(
    counts_from: datetime,
    last_slot: datetime | None,
    failed_at: datetime | None,
) -> CountedHistory:
    """The history an entry's schedule is evaluated with.

    The minute of the write counts as the last slot, unless a later slot was
    claimed since; a failure before the write is not retried.
    """
    anchor = floor_minute(counts_from)
    if last_slot is None or last_slot < anchor:
        last_slot = anchor
    if failed_at is not None and failed_at < counts_from:
        failed_at = None
    return CountedHistory(last_slot=last_slot, first_seen=counts_from, failed_at=failed_at)


def next_due_of(
    entry: EntryLike, last_slot: datetime | None = None, failed_at: datetime | None = None
) -> datetime | None:
    """When ``entry`` is next due, given its last claimed slot and failure (None: disabled)."""
    if not entry.enabled:
        return None
    history = counted_history(entry.counts_from, last_slot, failed_at)
    return entry.schedule.next_due_from(history)
