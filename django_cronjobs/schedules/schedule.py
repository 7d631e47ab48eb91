"""``Schedule``: when a job runs, in django-cron's words plus cron expressions.

A Schedule never raises on bad arguments: it keeps them, and :meth:`problems`
says what is wrong, so that one broken job is reported by a system check while
every other job keeps running.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from django.utils import timezone as django_timezone

from ..check_ids import E008, E010, E011, E013
from .cron_text import day_ranges, describe_cron
from .hashed_cron import HashError, has_hash, resolve_hashes
from .problems import (
    MAX_SECONDS,
    MissedSlots,
    ScheduleProblem,
    cron_problems,
    days_problems,
    is_seconds_within_a_day,
    minutes_problems,
    missed_problems,
    times_problems,
)
from .slots import (
    DST_MARGIN,
    AtTimesRule,
    DayFilter,
    IntervalRule,
    WallClockRule,
    cron_rule,
    expand_cron_macro,
)
from .wallclock import MINUTE, floor_minute, local_wall_time

# At most this many missed slots of one catch-up are recorded one by one.
MISSED_RECORD_LIMIT = 100
FAR_PAST = datetime(2001, 1, 1, tzinfo=UTC)
# A slot this recent is never missed: it runs, oldest first. It absorbs a
# crontab that fires late and hosts whose clocks disagree by up to 90 s.
CURRENT_SLOT_SECONDS = 120
# Changes whenever plan() decides differently for the same arguments: stored
# next_due moments computed by an older version are then recomputed.
PLAN_VERSION = 1


class JobHistory(Protocol):
    """What a schedule needs to know of a job's past: a state row, or a tick's copy of it."""

    @property
    def last_slot(self) -> datetime | None: ...

    @property
    def first_seen(self) -> datetime | None: ...

    @property
    def failed_at(self) -> datetime | None:
        """When the job's last run started, if that run did not succeed."""


@dataclass(frozen=True)
class SlotPlan:
    """What a tick does with one job: slots to run and slots missed, oldest first.

    ``more_missed`` says that slots older than those in ``missed`` were missed
    too (their number was past what is recorded one by one).
    """

    run: list[datetime] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)
    more_missed: bool = False


class Schedule:
    """When a job is due.

    django-cron's arguments keep their meaning: ``run_every_mins`` (0 means at
    every runcrons call), ``run_at_times`` (``["HH:MM", ...]`` local times),
    ``retry_after_failure_mins``, ``run_weekly_on_days`` (0 = Monday; also
    accepted under its older name ``run_on_days``), ``run_monthly_on_days``
    (1-31) and ``run_tolerance_seconds``. ``cron`` takes a five-field
    expression or a macro such as ``@hourly``, and ``timezone`` the zone in
    which local times are read (default: ``settings.TIME_ZONE``). The day
    filters restrict every other argument.

    A slot up to two minutes old always runs (oldest first): that absorbs a
    late crontab and hosts whose clocks disagree. When older slots passed
    while runcrons did not run (cron was down), ``missed_slots`` decides:
    ``"latest"`` (default) runs once, for the latest of them; ``"skip"`` runs
    none and waits for the next slot; ``"replay"`` runs each of them in
    order, at most ``replay_limit``. With ``starting_deadline_seconds``, a
    slot that could not start within that many seconds of its time is
    missed. Missed slots are recorded in CronJobLog with the status
    ``missed``.

    ``H`` in a cron field is a value picked from the job's code (and an
    entry's key), the same every time: ``cron="H 3 * * *"`` runs once between
    3:00 and 3:59 at a minute of the job's own, so jobs with equal schedules
    do not all start together (see :meth:`seeded`).
    """

    hash_seed: str = ""
    """What ``H`` in :attr:`cron` is worked out from; :meth:`seeded` sets it."""

    def __init__(
        self,
        run_every_mins: int | None = None,
        run_at_times: Iterable[str] | None = None,
        retry_after_failure_mins: int | None = None,
        run_weekly_on_days: Iterable[int] | None = None,
        run_monthly_on_days: Iterable[int] | None = None,
        run_tolerance_seconds: float = 0,
        run_on_days: Iterable[int] | None = None,
        *,
        cron: str | None = None,
        timezone: str | tzinfo | None = None,
        missed_slots: str = "latest",
        replay_limit: int = 10,
        starting_deadline_seconds: float | None = None,
    ) -> None:
        self.run_every_mins = run_every_mins
        self.run_at_times: Any = [] if run_at_times is None else run_at_times
        self.retry_after_failure_mins = retry_after_failure_mins
        self.run_weekly_on_days: Any = (
            run_weekly_on_days if run_weekly_on_days is not None else run_on_days
        )
        self.run_on_days = self.run_weekly_on_days
        self.run_monthly_on_days: Any = run_monthly_on_days
        self.run_tolerance_seconds = run_tolerance_seconds
        self.cron = cron
        self.timezone = timezone
        self.missed_slots = missed_slots
        self.replay_limit = replay_limit
        self.starting_deadline_seconds = starting_deadline_seconds

    def seeded(self, seed: str) -> Schedule:
        """This schedule with ``H`` in its cron worked out from ``seed``.

        A job class gets its schedule seeded with its code; an entry with its
        job's code and key. A schedule without ``H`` is returned as it is.
        """
        if not self.hashed or seed == self.hash_seed:
            return self
        copy = Schedule.__new__(Schedule)
        copy.__dict__.update(
            (name, value)
            for name, value in self.__dict__.items()
            if not isinstance(getattr(Schedule, name, None), functools.cached_property)
        )
        copy.hash_seed = seed
        return copy

    @property
    def hashed(self) -> bool:
        """Whether :attr:`cron` uses ``H``."""
        return isinstance(self.cron, str) and has_hash(self.cron)

    @functools.cached_property
    def resolved_cron(self) -> str | None:
        """:attr:`cron` with each ``H`` replaced by its value (see :meth:`seeded`)."""
        if not self.hashed:
            return self.cron
        assert self.cron is not None
        try:
            return resolve_hashes(expand_cron_macro(self.cron), self.hash_seed)
        except HashError:
            return self.cron  # reported by problems(); never evaluated

    def __repr__(self) -> str:
        return self._written(self.cron, self.hash_seed if self.hashed else None)

    def _written(self, cron: str | None, seed: str | None) -> str:
        parts = [
            f"{name}={value!r}"
            for name, value in (
                ("run_every_mins", self.run_every_mins),
                ("run_at_times", list(self.run_at_times) or None),
                ("cron", cron),
                ("run_weekly_on_days", self.run_weekly_on_days),
                ("run_monthly_on_days", self.run_monthly_on_days),
                ("retry_after_failure_mins", self.retry_after_failure_mins),
                ("run_tolerance_seconds", self.run_tolerance_seconds or None),
                ("timezone", self.timezone),
                ("missed_slots", None if self.missed_slots == "latest" else self.missed_slots),
                ("starting_deadline_seconds", self.starting_deadline_seconds),
                ("hash_seed", seed),
            )
            if value is not None
        ]
        return f"Schedule({', '.join(parts)})"

    def describe(self) -> str:
        """This schedule in plain English: ``every day at 02:30 Europe/Berlin``."""
        if self.every_invocation:
            return "at every runcrons call"
        parts = []
        if self.run_every_mins:
            parts.append(_every(int(self.run_every_mins)))
        if self.run_at_times:
            times = [f"{at:%H:%M}" for at in sorted(self.at_times)]
            joined = ", ".join(times[:-1]) + " and " + times[-1] if len(times) > 1 else times[0]
            parts.append(f"every day at {joined} {self.zone}")
        if self.cron:
            cron = self.resolved_cron or self.cron
            described = describe_cron(cron, str(self.zone))
            parts.append(described or f'cron "{" ".join(cron.split())}" {self.zone}')
        text = ", and ".join(parts)
        if self.run_weekly_on_days is not None:
            text += f", on {day_ranges(sorted(set(self.run_weekly_on_days)))}"
        if self.run_monthly_on_days is not None:
            days = ", ".join(str(day) for day in sorted(set(self.run_monthly_on_days)))
            text += f", on day {days} of the month"
        if self.retry_after_failure_mins:
            retry = _duration(int(self.retry_after_failure_mins))
            text += f"; a failed run is retried {retry} later"
        return text

    # -- validation ---------------------------------------------------------

    def problems(self) -> list[ScheduleProblem]:
        """Everything wrong with this schedule; empty when it is usable.

        Worked out once per Schedule: every tick asks again.
        """
        return list(self._problems)

    @functools.cached_property
    def _problems(self) -> list[ScheduleProblem]:
        found: list[ScheduleProblem] = []
        found += minutes_problems(self.run_every_mins, "run_every_mins", allow_zero=True)
        found += minutes_problems(
            self.retry_after_failure_mins, "retry_after_failure_mins", allow_zero=False
        )
        if not is_seconds_within_a_day(self.run_tolerance_seconds):
            found.append(
                ScheduleProblem(
                    E011.id,
                    "run_tolerance_seconds must be a number of seconds from 0 to "
                    f"{MAX_SECONDS}, not {self.run_tolerance_seconds!r}.",
                )
            )
        found += missed_problems(self)
        found += times_problems(self.run_at_times)
        found += cron_problems(self.cron, self.hash_seed)
        found += days_problems(self.run_weekly_on_days, "run_weekly_on_days", range(7))
        found += days_problems(self.run_monthly_on_days, "run_monthly_on_days", range(1, 32))
        if self.timezone is not None and not isinstance(self.timezone, tzinfo):
            try:
                _zone(self.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
                found.append(
                    ScheduleProblem(
                        E013.id,
                        f"Unknown time zone {self.timezone!r}.",
                        "Use an IANA name such as 'Europe/Berlin'.",
                    )
                )
        if self.run_every_mins is None and not self.run_at_times and not self.cron:
            found.append(
                ScheduleProblem(
                    E010.id,
                    "The schedule has nothing to run on.",
                    "Give run_every_mins, run_at_times or cron.",
                )
            )
        if not found and self._filtered and not self.next_slots(FAR_PAST, 1):
            found.append(
                ScheduleProblem(
                    E008.id,
                    "The schedule never fires on the days its day filters allow.",
                    "Day filters count 0 as Monday; cron's weekday field counts 0 as Sunday.",
                )
            )
        return found

    @property
    def _filtered(self) -> bool:
        return self.run_weekly_on_days is not None or self.run_monthly_on_days is not None

    # -- evaluation (valid schedules only) ------------------------------------

    @property
    def every_invocation(self) -> bool:
        """True for ``run_every_mins=0``: each runcrons call is its own run."""
        return self.run_every_mins == 0

    @property
    def zone(self) -> tzinfo:
        """The zone in which this schedule reads local times and days."""
        if isinstance(self.timezone, tzinfo):
            return self.timezone
        if self.timezone:
            return _zone(self.timezone)
        return django_timezone.get_default_timezone()

    @functools.cached_property
    def _days(self) -> DayFilter:
        weekly, monthly = self.run_weekly_on_days, self.run_monthly_on_days
        return DayFilter(
            weekdays=None if weekly is None else frozenset(weekly),
            monthdays=None if monthly is None else frozenset(monthly),
        )

    @functools.cached_property
    def at_times(self) -> list[time]:
        """``run_at_times`` as times of day."""
        return [_parse_hh_mm(text) for text in self.run_at_times]

    @functools.cached_property
    def _interval(self) -> IntervalRule | None:
        if self.run_every_mins:
            return IntervalRule(int(self.run_every_mins))
        return None

    @property
    def wall_clock_rules(self) -> list[WallClockRule]:
        """The rules of ``run_at_times`` and ``cron``, on the zone's wall clock."""
        return self._wall_clock_rules

    @property
    def day_filter(self) -> DayFilter:
        """The weekdays and days of the month the schedule runs on."""
        return self._days

    @functools.cached_property
    def _wall_clock_rules(self) -> list[WallClockRule]:
        rules: list[WallClockRule] = []
        if self.run_at_times:
            rules.append(AtTimesRule(self.at_times))
        if self.resolved_cron:
            rules.append(cron_rule(self.resolved_cron))
        return rules

    def plan(
        self,
        previous_slot: datetime | None,
        now: datetime,
        *,
        first_seen: datetime | None = None,
        failed_at: datetime | None = None,
    ) -> SlotPlan:
        """Which slots to run at ``now`` and which ones were missed.

        ``previous_slot`` is the job's last claimed slot (None if it never
        ran). A job that never ran is due at once under ``run_every_mins`` and
        otherwise at its first wall-clock time after ``first_seen`` (it does
        not backfill history). ``failed_at`` is the start of the last run if
        that run did not succeed: with ``retry_after_failure_mins`` the next
        run is the retry, that many minutes after it, and the regular slots
        before it wait. Slots that passed while runcrons did not run are
        handled by ``missed_slots`` (see the class docstring).
        """
        horizon = now + timedelta(seconds=self.run_tolerance_seconds or 0)
        if self.every_invocation:
            return SlotPlan(run=[floor_minute(now)])
        wanted = MISSED_RECORD_LIMIT + self._runs_per_tick + CURRENT_SLOT_SECONDS // 60 + 2
        slots: set[datetime] = set()
        if self._interval is not None:
            if previous_slot is None:
                first = self._interval.latest(None, horizon, self._days, self.zone)
                slots.update([first] if first else [])
            else:
                slots.update(
                    self._interval.recent(previous_slot, horizon, self._days, self.zone, wanted)
                )
        since = previous_slot
        if since is None:
            since = floor_minute(first_seen or now) - MINUTE
        for rule in self._wall_clock_rules:
            slots.update(rule.recent(since, horizon, self._days, self.zone, wanted))
        latest_first = sorted(slots, reverse=True)
        more = len(latest_first) >= wanted
        retry = self.retry_slot(failed_at)
        if retry is not None and (previous_slot is None or retry > previous_slot):
            if retry > horizon:
                return SlotPlan()  # waiting for the retry holds the regular slots back
            # The regular slots the retry held back are not missed: they waited.
            latest_first = [slot for slot in latest_first if slot > retry] + [retry]
            more = False
        return self._apply_missed_policy(latest_first[: wanted - 1], now, more)

    def _apply_missed_policy(
        self, latest_first: list[datetime], now: datetime, more: bool
    ) -> SlotPlan:
        deadline = self.starting_deadline_seconds

        def age(slot: datetime) -> float:
            return (now - slot).total_seconds()

        current_age = (
            CURRENT_SLOT_SECONDS if deadline is None else min(deadline, CURRENT_SLOT_SECONDS)
        )
        current = [slot for slot in latest_first if age(slot) <= current_age]
        late = [
            slot
            for slot in latest_first
            if slot not in current and (deadline is None or age(slot) <= deadline)
        ]
        if self.missed_slots == MissedSlots.SKIP:
            run = current
        elif self.missed_slots == MissedSlots.REPLAY:
            run = (current + late)[: max(self.replay_limit, len(current))]
        else:
            run = current or late[:1]
        missed = [slot for slot in latest_first if slot not in run]
        if len(missed) > MISSED_RECORD_LIMIT:
            missed, more = missed[:MISSED_RECORD_LIMIT], True
        return SlotPlan(run=sorted(run), missed=sorted(missed), more_missed=more)

    @property
    def _runs_per_tick(self) -> int:
        return self.replay_limit if self.missed_slots == MissedSlots.REPLAY else 1

    def due_slot(
        self,
        previous_slot: datetime | None,
        now: datetime,
        *,
        first_seen: datetime | None = None,
        failed_at: datetime | None = None,
    ) -> datetime | None:
        """The latest slot :meth:`plan` runs at ``now``, or None."""
        plan = self.plan(previous_slot, now, first_seen=first_seen, failed_at=failed_at)
        return plan.run[-1] if plan.run else None

    def plan_from(self, history: JobHistory, now: datetime) -> SlotPlan:
        """:meth:`plan` for a job with this past: its last slot, first sighting and failure."""
        return self.plan(
            history.last_slot, now, first_seen=history.first_seen, failed_at=history.failed_at
        )

    def next_due_from(self, history: JobHistory) -> datetime | None:
        """:meth:`next_due` for a job with this past."""
        return self.next_due(
            history.last_slot, first_seen=history.first_seen, failed_at=history.failed_at
        )

    def next_due(
        self,
        previous_slot: datetime | None,
        *,
        first_seen: datetime | None = None,
        failed_at: datetime | None = None,
    ) -> datetime | None:
        """The first moment at which :meth:`plan` (same arguments) returns anything.

        Before it, every tick would find nothing to run and nothing missed.
        None when that moment cannot be known ahead: a job that runs at every
        invocation, or an interval job that never ran.
        """
        if self.every_invocation:
            return None
        key = (self.slot_key, str(self.zone), previous_slot, first_seen, failed_at)
        if key in _next_due_cache:
            return _next_due_cache[key]
        if len(_next_due_cache) >= NEXT_DUE_KEPT:
            _next_due_cache.clear()
        found = _next_due_cache[key] = self._next_due(previous_slot, first_seen, failed_at)
        return found

    def _next_due(
        self,
        previous_slot: datetime | None,
        first_seen: datetime | None,
        failed_at: datetime | None,
    ) -> datetime | None:
        tolerance = timedelta(seconds=self.run_tolerance_seconds or 0)
        retry = self.retry_slot(failed_at)
        if retry is not None and (previous_slot is None or retry > previous_slot):
            return retry - tolerance  # the retry holds the regular slots back
        if previous_slot is not None:
            after = previous_slot
        elif self._interval is None and first_seen is not None:
            after = floor_minute(first_seen) - MINUTE
        else:
            return None
        upcoming = self.next_slots(after, 1, previous_slot=previous_slot)
        return upcoming[0] - tolerance if upcoming else None

    @functools.cached_property
    def fingerprint(self) -> str:
        """Everything that decides the slots, but the zone (see :attr:`zone`)."""
        return f"{PLAN_VERSION}|{self!r}"

    @functools.cached_property
    def slot_key(self) -> str:
        """:attr:`fingerprint` with ``H`` worked out instead of its seed: schedules
        with equal slots have equal keys, whatever their seeds."""
        if not self.hashed:
            return self.fingerprint
        return f"{PLAN_VERSION}|{self._written(self.resolved_cron, None)}"

    def retry_slot(self, failed_at: datetime | None) -> datetime | None:
        """When a run that failed at ``failed_at`` is retried, if it is."""
        if failed_at is None or not self.retry_after_failure_mins:
            return None
        return floor_minute(failed_at) + timedelta(minutes=self.retry_after_failure_mins)

    def next_slots(
        self, after: datetime, count: int = 5, *, previous_slot: datetime | None = None
    ) -> list[datetime]:
        """The next ``count`` slots after ``after``.

        ``run_every_mins`` slots follow ``previous_slot`` (default: ``after``).
        """
        if self.every_invocation:
            return []
        found: set[datetime] = set()
        if self._interval is not None:
            anchor = previous_slot or after
            for slot in self._interval.following(after, anchor, self._days, self.zone):
                found.add(slot)
                if len(found) >= count:
                    break
        for rule in self._wall_clock_rules:
            mine: list[datetime] = []
            for instant in rule.following(after, self._days, self.zone):
                mine.append(instant)
                # Near a DST change instants come a little out of order: stop
                # only when no later local time can give an earlier instant.
                if len(mine) >= count:
                    last_needed = sorted(mine)[count - 1]
                    if local_wall_time(instant, self.zone) > (
                        local_wall_time(last_needed, self.zone) + DST_MARGIN
                    ):
                        break
            found.update(mine)
        return sorted(found)[:count]


# Next due moments worked out before, by schedule, zone and history: entries
# written in bulk share a few thousand schedules, and a tick's jobs share many.
NEXT_DUE_KEPT = 65536
_next_due_cache: dict[tuple[Any, ...], datetime | None] = {}


class EntriesOnly(Schedule):
    """The schedule of a job that runs only through its entries (``schedule = None``)."""

    def __init__(self) -> None:
        super().__init__()

    def __repr__(self) -> str:
        return "EntriesOnly()"

    def describe(self) -> str:
        return "only through its entries"

    @functools.cached_property
    def _problems(self) -> list[ScheduleProblem]:
        return []

    def plan(
        self,
        previous_slot: datetime | None,
        now: datetime,
        *,
        first_seen: datetime | None = None,
        failed_at: datetime | None = None,
    ) -> SlotPlan:
        return SlotPlan()

    def next_due(
        self,
        previous_slot: datetime | None,
        *,
        first_seen: datetime | None = None,
        failed_at: datetime | None = None,
    ) -> datetime | None:
        return None

    def next_slots(
        self, after: datetime, count: int = 5, *, previous_slot: datetime | None = None
    ) -> list[datetime]:
        return []


ENTRIES_ONLY = EntriesOnly()
"""What ``schedule = None`` on a job class becomes: no slots of its own."""


def _span(minutes: int) -> tuple[int, str]:
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes % size == 0:
            return minutes // size, unit
    return minutes, "minute"


def _every(minutes: int) -> str:
    """``every minute``, ``every 5 minutes``, ``every 2 hours``, ``every day``."""
    count, unit = _span(minutes)
    return f"every {unit}" if count == 1 else f"every {count} {unit}s"


def _duration(minutes: int) -> str:
    """``1 minute``, ``5 minutes``, ``2 hours``."""
    count, unit = _span(minutes)
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _zone(name: Any) -> tzinfo:
    return zoneinfo.ZoneInfo(name)


def _parse_hh_mm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
