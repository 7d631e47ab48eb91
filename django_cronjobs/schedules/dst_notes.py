"""Where a fixed-time schedule meets a daylight saving change of its zone.

A fixed local time in the hour a zone skips does not exist that day: the
run comes right after the jump. One in the hour a zone repeats happens
twice: the run comes once, at the first pass. Both are the rules of
:mod:`.wallclock`; these notes say so beside the times ``cronjobs next``
prints, and feed the system check W003. Schedules that follow elapsed time
(intervals, cron expressions with ``*`` in the minute or hour) get none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from .slots import local_midnight
from .wallclock import instants_of, local_wall_time

if TYPE_CHECKING:
    from .schedule import Schedule

# A day holds this many notes at most (a cron expression may name every
# minute of the skipped hour).
NOTES_PER_DAY = 3


@dataclass(frozen=True)
class DstNote:
    """A local time of the schedule that does not exist, or happens twice, on ``day``."""

    day: date
    wanted: datetime
    """The local time the schedule names (naive)."""
    skipped: bool
    """True: the hour is skipped that day; False: it is repeated."""
    runs_at: datetime
    """When it runs instead, in the zone."""

    def text(self) -> str:
        """``02:30 does not exist on 2027-03-28: runs at 03:00`` and the like."""
        wanted = f"{self.wanted:%H:%M}"
        if self.skipped:
            return f"{wanted} does not exist on {self.day}: runs at {self.runs_at:%H:%M}"
        return (
            f"{wanted} happens twice on {self.day}: runs once, at the first "
            f"({self.runs_at.tzname()})"
        )


def dst_notes(schedule: Schedule, start: datetime, days: int = 366) -> list[DstNote]:
    """The notes of ``schedule`` on the transition days of its zone in ``days`` from ``start``."""
    zone = schedule.zone
    rules = [rule for rule in schedule.wall_clock_rules if rule.fixed_time]
    if not rules:
        return []
    notes = []
    for day in transition_days(zone, local_wall_time(start, zone).date(), days):
        if not schedule.day_filter.allows(day):
            continue
        found: list[DstNote] = []
        for rule in rules:
            for wall in rule.ascending(datetime.combine(day, time()) - timedelta(minutes=1)):
                if wall.date() != day or len(found) >= NOTES_PER_DAY:
                    break
                note = _note(wall, zone)
                if note is not None:
                    found.append(note)
        notes += sorted(set(found), key=lambda note: note.wanted)[:NOTES_PER_DAY]
    return notes


def _note(wall: datetime, zone: tzinfo) -> DstNote | None:
    earlier = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if earlier == later:
        return None
    runs_at = instants_of(wall, zone, fixed_time=True)[0].astimezone(zone)
    skipped = local_wall_time(earlier, zone) != wall
    return DstNote(wall.date(), wall, skipped, runs_at)


def transition_days(zone: tzinfo, first: date, days: int) -> list[date]:
    """The local dates from ``first`` on (for ``days``) on which ``zone`` changes offset."""
    found = []
    day = first
    offset = _offset_at_midnight(zone, day)
    for _ in range(days):
        following = _offset_at_midnight(zone, day + timedelta(days=1))
        if following != offset:
            found.append(day)
        day, offset = day + timedelta(days=1), following
    return found


def _offset_at_midnight(zone: tzinfo, day: date) -> timedelta | None:
    return local_midnight(day, zone).astimezone(zone).utcoffset()
