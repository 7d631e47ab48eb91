"""Keeping a wrong clock from claiming, and from having claimed, slots far ahead.

A tick reads the database server's clock with the states. A job that moves
this process's clock (a leaked freezegun or time-machine, say) or a host
whose clock is far off would otherwise claim a slot years ahead: stored as
the job's last slot, it keeps the job from ever running again. So a tick
claims nothing while this host's clock is more than CRONJOBS_CLOCK_SKEW_LIMIT
ahead of the database's (carried forward by this process's monotonic clock),
and a stored last slot that far ahead is taken back, so the job counts from
now.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from ..conf import conf
from ..schedules.wallclock import floor_minute
from ..store.job_states import MOMENTS, JobState, to_microseconds

LAST_SLOT = MOMENTS.index("last_slot")


@dataclass(frozen=True)
class DatabaseClock:
    """The database's clock as read with the states (None: not measured)."""

    read: datetime | None
    monotonic: float = field(default_factory=time.monotonic)

    def now(self) -> datetime | None:
        """The database's clock now, by this process's monotonic clock since the read."""
        if self.read is None:
            return None
        return self.read + timedelta(seconds=time.monotonic() - self.monotonic)

    def seconds_ahead(self, moment: datetime) -> float:
        """How far ``moment`` is ahead of the database's clock now (0 when not measured)."""
        database_now = self.now()
        if database_now is None:
            return 0.0
        return (moment - database_now).total_seconds()


class ClockWatch:
    """Whether this host's clock is now too far ahead of the database's to claim slots.

    Looked at when a tick starts and after each run of its process (only a
    job can move the clock under a tick), not for every job.
    """

    def __init__(self, clock: DatabaseClock | None = None) -> None:
        self.clock = clock or DatabaseClock(None)
        self.refused: str | None = None
        """Why no slot is claimed (this host's clock is far ahead), or None."""

    def look(self) -> str | None:
        """Look at the clocks again; the reason to tell when claims have just stopped."""
        limit = conf.clock_skew_limit
        now = timezone.now()
        ahead = self.clock.seconds_ahead(now)
        if limit is None or ahead <= limit:
            self.refused = None
            return None
        told = self.refused is not None
        self.refused = clock_ahead_message(now, ahead)
        return None if told else self.refused


def clock_ahead_message(now: datetime, seconds: float) -> str:
    return (
        f"this host's clock reads {now:%Y-%m-%d %H:%M:%S}, {seconds:.0f} s ahead of the "
        "database's: no slot claimed (CRONJOBS_CLOCK_SKEW_LIMIT)"
    )


def slots_ahead(states: dict[str, JobState], clock: DatabaseClock, limit: float) -> list[JobState]:
    """The states whose last slot lies more than ``limit`` seconds ahead of the database.

    Compares the numbers the states hold: an idle tick turns none into a datetime.
    """
    database_now = clock.now()
    if database_now is None:
        return []
    bound = to_microseconds(database_now) + limit * 1_000_000  # a float: inf is allowed
    return [
        state
        for state in states.values()
        if (slot := state.microseconds[LAST_SLOT]) is not None and slot > bound
    ]


def slot_to_count_from(now: datetime) -> datetime:
    """The last slot a job taken back from a future slot gets: the minute before
    ``now``, so that it counts from now, as a schedule just created does."""
    return floor_minute(now) - timedelta(minutes=1)
