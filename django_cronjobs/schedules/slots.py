"""Slot arithmetic: which scheduled instants fall between two moments.

Pure functions and small value objects, no ORM and no clock. Every run belongs
to a *slot*, an aware UTC datetime in whole minutes, computed from the schedule
and the previous slot, never from "now" alone, so every process and host that
looks at the same history computes the same slot.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from .wallclock import MINUTE, floor_minute, instants_of, local_wall_time

if TYPE_CHECKING:
    from croniter import croniter

# Daylight-saving shifts are at most two hours; searching three hours either
# side of a wall-clock bound catches every instant whose order differs from the
# order of its local time.
DST_MARGIN = timedelta(hours=3)
# How far back or forward a search walks before it gives up on a schedule whose
# day filters never match (run_monthly_on_days=[31] in a 30-day month, say).
SEARCH_LIMIT_DAYS = 4 * 366
MAX_MATCHES = 200_000

CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class DayFilter:
    """Days on which a schedule may run, in its own time zone (None: any)."""

    weekdays: frozenset[int] | None = None  # 0 = Monday, as in django-cron
    monthdays: frozenset[int] | None = None

    def allows(self, day: date) -> bool:
        if self.weekdays is not None and day.weekday() not in self.weekdays:
            return False
        return self.monthdays is None or day.day in self.monthdays


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant at which ``day`` begins in ``zone``."""
    return instants_of(datetime.combine(day, time()), zone, fixed_time=True)[0]


@dataclass(frozen=True)
class IntervalRule:
    """``run_every_mins=N``: each slot follows the previous one by N minutes.

    Slots follow real elapsed time, so a daylight-saving jump changes nothing,
    and they never drift when cron fires a few seconds late.
    """

    minutes: int

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def latest(
        self, previous: datetime | None, now: datetime, days: DayFilter, zone: tzinfo
    ) -> datetime | None:
        if previous is None:
            slot = floor_minute(now)
            return slot if days.allows(slot.astimezone(zone).date()) else None
        if previous + self.step > now:
            return None
        slot = previous + self.step * ((now - previous) // self.step)
        day = slot.astimezone(zone).date()
        if days.allows(day):
            return slot
        # The latest slot lies on a filtered-out day: take the last slot of the
        # latest allowed day since the previous slot.
        first_day = previous.astimezone(zone).date()
        while day > first_day:
            day -= timedelta(days=1)
            if not days.allows(day):
                continue
            end = local_midnight(day + timedelta(days=1), zone)
            slot = previous + self.step * ((end - previous - MINUTE) // self.step)
            if slot > previous and slot.astimezone(zone).date() == day:
                return slot
        return None

    def recent(
        self, since: datetime, now: datetime, days: DayFilter, zone: tzinfo, limit: int
    ) -> list[datetime]:
        """Up to ``limit`` latest slots in (since, now] on the grid through ``since``."""
        found: list[datetime] = []
        while len(found) < limit:
            slot = self.latest(since, now, days, zone)
            if slot is None:
                break
            found.append(slot)
            now = slot - MINUTE
        return found

    def following(
        self, after: datetime, anchor: datetime, days: DayFilter, zone: tzinfo
    ) -> Iterator[datetime]:
        """Slots after ``after`` on the grid through ``anchor``, ascending."""
        steps = max((after - anchor) // self.step + 1, 1)
        slot = anchor + self.step * steps
        horizon = after + timedelta(days=SEARCH_LIMIT_DAYS)
        while slot <= horizon:
            day = slot.astimezone(zone).date()
            if days.allows(day):
                yield slot
                slot += self.step
                continue
            allowed = next_allowed_day(day, days)
            if allowed is None:
                return
            # The first grid point on or after the start of the allowed day.
            start = local_midnight(allowed, zone)
            slot = anchor + self.step * -((anchor - start) // self.step)


def _dst_margin(zone: tzinfo, moment: datetime) -> timedelta:
    """DST_MARGIN if the zone changes its offset near ``moment``, else nothing."""
    before = (moment - DST_MARGIN).astimezone(zone).utcoffset()
    after = (moment + DST_MARGIN).astimezone(zone).utcoffset()
    return DST_MARGIN if before != after else timedelta(0)


def next_allowed_day(day: date, days: DayFilter) -> date | None:
    """The first day after ``day`` that ``days`` allows, if one comes soon."""
    for offset in range(1, SEARCH_LIMIT_DAYS):
        candidate = day + timedelta(days=offset)
        if days.allows(candidate):
            return candidate
    return None


def previous_allowed_day(day: date, days: DayFilter) -> date | None:
    """The last day before ``day`` that ``days`` allows, if one came not long ago."""
    for offset in range(1, SEARCH_LIMIT_DAYS):
        candidate = day - timedelta(days=offset)
        if days.allows(candidate):
            return candidate
    return None


class WallClockRule:
    """Local wall-clock times (``run_at_times`` or a cron expression).

    Subclasses produce naive local matches in either direction; this class maps
    them to instants with the daylight-saving rule of :mod:`.wallclock`.
    """

    fixed_time: bool = True

    def descending(self, start: datetime) -> Iterator[datetime]:
        """Naive local matches at or before ``start``, latest first."""
        raise NotImplementedError

    def ascending(self, start: datetime) -> Iterator[datetime]:
        """Naive local matches after ``start``, earliest first."""
        raise NotImplementedError

    def _allowed_descending(self, start: datetime, days: DayFilter) -> Iterator[datetime]:
        """:meth:`descending`, jumping over the days the filter forbids.

        Gives up SEARCH_LIMIT_DAYS before ``start``: the filter and the
        rule may have no day in common.
        """
        horizon = start - timedelta(days=SEARCH_LIMIT_DAYS)
        while True:
            for wall in self.descending(start):
                if wall < horizon:
                    return
                if days.allows(wall.date()):
                    yield wall
                    continue
                allowed = previous_allowed_day(wall.date(), days)
                if allowed is None:
                    return
                start = datetime.combine(allowed, time(23, 59))
                break
            else:
                return

    def _allowed_ascending(self, start: datetime, days: DayFilter) -> Iterator[datetime]:
        """:meth:`ascending`, jumping over the days the filter forbids (for a while)."""
        horizon = start + timedelta(days=SEARCH_LIMIT_DAYS)
        while True:
            for wall in self.ascending(start):
                if wall > horizon:
                    return
                if days.allows(wall.date()):
                    yield wall
                    continue
                allowed = next_allowed_day(wall.date(), days)
                if allowed is None:
                    return
                start = datetime.combine(allowed, time()) - MINUTE
                break
            else:
                return

    def latest(
        self, since: datetime, now: datetime, days: DayFilter, zone: tzinfo
    ) -> datetime | None:
        """The latest instant in (since, now] at which this rule fires."""
        found = self.recent(since, now, days, zone, limit=1)
        return found[0] if found else None

    def recent(
        self, since: datetime, now: datetime, days: DayFilter, zone: tzinfo, limit: int
    ) -> list[datetime]:
        """Up to ``limit`` latest instants in (since, now], latest first."""
        # Local times and instants keep their order except around a daylight-
        # saving change, where the search widens by DST_MARGIN.
        newest_wall = local_wall_time(now, zone) + _dst_margin(zone, now)
        oldest_wall = local_wall_time(since, zone) - _dst_margin(zone, since)
        found: list[datetime] = []
        bound: datetime | None = None  # walls below it only give instants past the limit
        for count, wall in enumerate(self._allowed_descending(newest_wall, days)):
            if wall <= oldest_wall or count > MAX_MATCHES or (bound is not None and wall < bound):
                break
            found.extend(
                instant
                for instant in instants_of(wall, zone, fixed_time=self.fixed_time)
                if since < instant <= now
            )
            if bound is None and len(found) >= limit:
                last_needed = sorted(set(found), reverse=True)[limit - 1]
                bound = local_wall_time(last_needed, zone) - _dst_margin(zone, last_needed)
        return sorted(set(found), reverse=True)[:limit]

    def following(self, after: datetime, days: DayFilter, zone: tzinfo) -> Iterator[datetime]:
        """Instants after ``after``, ascending (a few may come out of order at DST)."""
        start = local_wall_time(after, zone) - DST_MARGIN
        for count, wall in enumerate(self._allowed_ascending(start, days)):
            if count > MAX_MATCHES:
                return
            for instant in instants_of(wall, zone, fixed_time=self.fixed_time):
                if instant > after:
                    yield instant


class AtTimesRule(WallClockRule):
    """``run_at_times=["HH:MM", ...]``: fixed local times every (allowed) day."""

    fixed_time = True

    def __init__(self, times: Sequence[time]) -> None:
        self.times = sorted(set(times))

    def descending(self, start: datetime) -> Iterator[datetime]:
        day = start.date()
        for _ in range(SEARCH_LIMIT_DAYS):
            for at in reversed(self.times):
                wall = datetime.combine(day, at)
                if wall <= start:
                    yield wall
            day -= timedelta(days=1)

    def ascending(self, start: datetime) -> Iterator[datetime]:
        day = start.date()
        for _ in range(SEARCH_LIMIT_DAYS):
            for at in self.times:
                wall = datetime.combine(day, at)
                if wall > start:
                    yield wall
            day += timedelta(days=1)


class CronRule(WallClockRule):
    """A five-field cron expression, evaluated on local wall-clock time.

    As in cronie, an expression with ``*`` at the start of its minute or hour
    field is a wildcard schedule (it follows elapsed time through DST); any
    other is a fixed-time schedule.
    """

    def __init__(self, expression: str) -> None:
        self.expression = expand_cron_macro(expression)
        minute, hour = self.expression.split()[:2]
        self.fixed_time = not (minute.startswith("*") or hour.startswith("*"))

    def _matches(self, start: datetime, step: Callable[[croniter], datetime]) -> Iterator[datetime]:
        # Imported on first use: most projects never need it, and every
        # runcrons process would pay for the import.
        from croniter import CroniterBadDateError, croniter

        iterator = croniter(self.expression, start)
        try:
            while True:
                yield step(iterator)
        except CroniterBadDateError:
            return

    def descending(self, start: datetime) -> Iterator[datetime]:
        # croniter's get_prev is strictly before its start.
        return self._matches(start + MINUTE, lambda it: it.get_prev(datetime))

    def ascending(self, start: datetime) -> Iterator[datetime]:
        return self._matches(start, lambda it: it.get_next(datetime))


def expand_cron_macro(expression: str) -> str:
    """``@daily`` and friends as five fields; other expressions unchanged."""
    text = " ".join(expression.split())
    return CRON_MACROS.get(text.lower(), text)


@functools.lru_cache(maxsize=4096)
def cron_rule(expression: str) -> CronRule:
    """A parsed cron rule, shared by every job and tick that uses the expression."""
    return CronRule(expression)
