"""Cron expressions in plain English, for the admin and ``manage.py cronjobs``.

``0 6 * * 1-5`` reads "every Monday to Friday at 06:00". The common shapes
are described; for anything else (steps in odd places, ``L``, ``#``)
:func:`describe_cron` returns None and the caller shows the expression.
"""

from __future__ import annotations

from .slots import expand_cron_macro

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
CRON_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
CRON_MONTHS = [name[:3].lower() for name in MONTH_NAMES]
# More fixed times than this read better as the expression itself.
MAX_TIMES = 6


def describe_cron(expression: str, zone: str) -> str | None:
    """``expression`` in plain English in ``zone``, or None when it is not a common shape."""
    fields = expand_cron_macro(expression).split()
    if len(fields) != 5:
        return None
    minute, hour, day_of_month, month, day_of_week = fields
    try:
        days = _days(
            _numbers(day_of_month, 1, 31),
            _numbers(day_of_week, 0, 7, CRON_DAYS),
        )
        months = _numbers(month, 1, 12, CRON_MONTHS)
        in_months = f" in {_join([MONTH_NAMES[m - 1] for m in months])}" if months else ""
        times = _fixed_times(minute, hour)
        if times is not None:
            on = days or "every day"
            return f"{on} at {_join(times)}{in_months} {zone}"
        repeat = _repeating(minute, hour)
    except (ValueError, IndexError):
        return None
    if repeat is None:
        return None
    text, zoned = repeat
    if days:
        text += f", {days}"
    text += in_months
    return f"{text} {zone}" if zoned or days or in_months else text


def _numbers(field: str, low: int, high: int, names: list[str] | None = None) -> list[int] | None:
    """The values a field lists (None for ``*``); ValueError for other syntax."""
    if field == "*":
        return None
    found: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = low, high
        else:
            start, _, end = span.partition("-")
            first = _number(start, names)
            last = _number(end, names) if end else (high if step_text else first)
        if not low <= first <= last <= high or step < 1:
            raise ValueError(item)
        found.update(range(first, last + 1, step))
    return sorted(found)


def _number(text: str, names: list[str] | None) -> int:
    lowered = text.lower()
    if names and lowered in names:
        return names.index(lowered) + (1 if names is CRON_MONTHS else 0)
    return int(text)


def _days(days_of_month: list[int] | None, days_of_week: list[int] | None) -> str:
    """``every Monday to Friday``, ``on day 1 of the month``; empty for every day.

    As in cron, when both are restricted a day matching either one counts.
    """
    parts = []
    if days_of_month is not None:
        parts.append(f"on day {_join([str(day) for day in days_of_month])} of the month")
    if days_of_week is not None:
        weekdays = sorted({(day - 1) % 7 for day in days_of_week})  # cron: 0 and 7 are Sunday
        if len(weekdays) < 7:
            parts.append(f"every {day_ranges(weekdays)}")
    return " or ".join(parts)


def _fixed_times(minute: str, hour: str) -> list[str] | None:
    """``["06:00", "18:30"]`` when both fields list numbers, else None."""
    try:
        minutes = _numbers(minute, 0, 59)
        hours = _numbers(hour, 0, 23)
    except ValueError:
        return None
    if minutes is None or hours is None or len(minutes) * len(hours) > MAX_TIMES:
        return None
    return [f"{h:02d}:{m:02d}" for h in hours for m in minutes]


def _repeating(minute: str, hour: str) -> tuple[str, bool] | None:
    """The shapes that repeat within a day, and whether they depend on the zone."""
    if hour == "*":
        if minute == "*":
            return "every minute", False
        if minute.startswith("*/") and 60 % int(minute[2:]) == 0:
            return f"every {int(minute[2:])} minutes", False
        if minute.isdigit() and int(minute) < 60:
            return f"every hour at minute {int(minute)}", False
        return None
    if minute.isdigit() and int(minute) < 60:
        if hour.startswith("*/") and 24 % int(hour[2:]) == 0:
            return f"every {int(hour[2:])} hours at minute {int(minute)}", True
        start, dash, end = hour.partition("-")
        if dash and start.isdigit() and end.isdigit() and int(start) < int(end) < 24:
            first, last = f"{int(start):02d}:{int(minute):02d}", f"{int(end):02d}:{int(minute):02d}"
            return f"every hour from {first} to {last}", True
    return None


def _join(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def day_ranges(days: list[int]) -> str:
    """``Monday to Friday``, ``Monday, Wednesday``, ``Saturday, Sunday`` (0 is Monday)."""
    groups: list[list[int]] = []
    for day in days:
        if groups and day == groups[-1][-1] + 1:
            groups[-1].append(day)
        else:
            groups.append([day])
    return ", ".join(
        f"{DAY_NAMES[group[0]]} to {DAY_NAMES[group[-1]]}"
        if len(group) > 2
        else ", ".join(DAY_NAMES[day] for day in group)
        for group in groups
    )
