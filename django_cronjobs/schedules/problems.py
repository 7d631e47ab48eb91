"""What can be wrong with a Schedule: one function per argument, each giving
the system check id and message that reports it."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from ..check_ids import E007, E008, E009, E011, E012, E017
from .hashed_cron import HashError, has_hash, resolve_hashes
from .slots import expand_cron_macro

# "06:30" and, as django-cron's own examples write it, "6:30".
_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class MissedSlots(models.TextChoices):
    LATEST = "latest"
    SKIP = "skip"
    REPLAY = "replay"


@dataclass(frozen=True)
class ScheduleProblem:
    """One thing wrong with a schedule, with the system check id that reports it."""

    check_id: str
    message: str
    hint: str = ""


# Ten years: longer intervals are typos, and datetime arithmetic overflows.
MAX_MINUTES = 10 * 366 * 24 * 60
MAX_SECONDS = 24 * 60 * 60


def minutes_problems(value: Any, name: str, *, allow_zero: bool) -> list[ScheduleProblem]:
    if value is None:
        return []
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_MINUTES:
        return [
            ScheduleProblem(
                E011.id,
                f"{name} must be a whole number of minutes from {low} to {MAX_MINUTES}, "
                f"not {value!r}.",
            )
        ]
    return []


def is_seconds_between(value: Any, low: float, high: float, *, above_low: bool = False) -> bool:
    """Whether ``value`` is a number of seconds (an int or a float, not a bool)
    from ``low`` (or above it, with ``above_low``) to ``high``.

    The bounds are compared, nothing is converted: NaN, which compares false,
    never passes; infinity passes only an infinite ``high``; and an int too
    large for a float is refused by a finite ``high`` instead of overflowing.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (low < value if above_low else low <= value) and value <= high


def is_seconds_within_a_day(value: Any) -> bool:
    """A schedule's number of seconds: from 0 to a day (so finite)."""
    return is_seconds_between(value, 0, MAX_SECONDS)


def missed_problems(schedule: Any) -> list[ScheduleProblem]:
    found = []
    if schedule.missed_slots not in MissedSlots.values:
        found.append(
            ScheduleProblem(
                E017.id,
                f"missed_slots must be one of {', '.join(MissedSlots.values)}, "
                f"not {schedule.missed_slots!r}.",
            )
        )
    limit = schedule.replay_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        found.append(
            ScheduleProblem(E017.id, f"replay_limit must be from 1 to 1000, not {limit!r}.")
        )
    deadline = schedule.starting_deadline_seconds
    if deadline is not None and not is_seconds_within_a_day(deadline):
        found.append(
            ScheduleProblem(
                E017.id,
                "starting_deadline_seconds must be a number of seconds from 0 to "
                f"{MAX_SECONDS}, not {deadline!r}.",
            )
        )
    return found


def times_problems(times: Any) -> list[ScheduleProblem]:
    if isinstance(times, str) or not isinstance(times, Iterable):
        return [
            ScheduleProblem(
                E009.id,
                f"run_at_times must be a list of 'HH:MM' strings, not {times!r}.",
            )
        ]
    bad = [text for text in times if not isinstance(text, str) or not _HH_MM.match(text)]
    if bad:
        return [
            ScheduleProblem(
                E009.id,
                f"run_at_times has invalid times: {', '.join(map(repr, bad))}.",
                "Write each time as 'HH:MM' (or 'H:MM'), 00:00 to 23:59.",
            )
        ]
    return []


def cron_problems(expression: Any, seed: str = "") -> list[ScheduleProblem]:
    """What is wrong with a cron expression, its ``H`` fields resolved with ``seed``."""
    if expression is None:
        return []
    if not isinstance(expression, str):
        return [ScheduleProblem(E007.id, f"cron must be a string: {expression!r}.")]
    expanded = expand_cron_macro(expression)
    if has_hash(expanded):
        try:
            expanded = resolve_hashes(expanded, seed)
        except HashError as error:
            return [
                ScheduleProblem(
                    E007.id,
                    f"Invalid cron expression {expression!r}: {error}.",
                    "H takes a range inside the field, H(0-29), and a step, H/15.",
                )
            ]
    return list(_expanded_cron_problems(expanded, expression))


@functools.lru_cache(maxsize=4096)
def _expanded_cron_problems(expanded: str, expression: str) -> tuple[ScheduleProblem, ...]:
    """What croniter says of ``expanded`` (``expression`` as written, H worked out).

    Worked out once per expression: a million entries written in bulk share
    a few thousand of them at most.
    """
    from croniter import CroniterBadCronError, CroniterBadDateError, croniter

    if len(expanded.split()) != 5 or not croniter.is_valid(expanded):
        return (
            ScheduleProblem(
                E007.id,
                f"Invalid cron expression {expression!r}.",
                "Use five fields (minute hour day month weekday) or a macro such as @daily.",
            ),
        )
    try:
        croniter(expanded, datetime(2000, 1, 1)).get_next(datetime)
    except (CroniterBadDateError, CroniterBadCronError):
        return (
            ScheduleProblem(
                E008.id,
                f"The cron expression {expression!r} never fires.",
            ),
        )
    return ()


def days_problems(days: Any, name: str, allowed: range) -> list[ScheduleProblem]:
    if days is None:
        return []
    if isinstance(days, str) or not isinstance(days, Iterable):
        return [ScheduleProblem(E012.id, f"{name} must be a list: {days!r}.")]
    days = list(days)
    bad = [day for day in days if isinstance(day, bool) or day not in allowed]
    if bad or not days:
        return [
            ScheduleProblem(
                E012.id,
                f"{name} has invalid days: {days!r}.",
                f"Use whole numbers from {allowed.start} to {allowed.stop - 1}.",
            )
        ]
    return []
