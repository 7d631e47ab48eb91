"""Local wall-clock times to instants, with cronie's daylight-saving rule.

A schedule names local times ("02:30 in Europe/Berlin"); a run happens at an
instant. Twice a year the two disagree:

* in the skipped hour a local time does not exist. A *fixed-time* schedule runs
  once, right after the jump; a *wildcard* schedule (hourly or more often) has
  nothing to run, because that wall-clock minute never happened;
* in the repeated hour a local time happens twice. A fixed-time schedule runs
  once, at the first occurrence; a wildcard schedule follows real elapsed time
  and runs at both.

That is what cronie does, and what people expect from cron.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

MINUTE = timedelta(minutes=1)


def floor_minute(moment: datetime) -> datetime:
    """``moment`` without its seconds and microseconds."""
    return moment.replace(second=0, microsecond=0)


def local_wall_time(moment: datetime, zone: tzinfo) -> datetime:
    """The naive local time that a clock in ``zone`` shows at ``moment``."""
    return moment.astimezone(zone).replace(tzinfo=None)


def instants_of(wall_time: datetime, zone: tzinfo, *, fixed_time: bool) -> list[datetime]:
    """The UTC instants at which a schedule due at local ``wall_time`` runs.

    ``wall_time`` is naive and in whole minutes. The result has no entry for a
    wildcard schedule in the skipped hour, two for a wildcard schedule in the
    repeated hour, and one otherwise.
    """
    earlier = wall_time.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later = wall_time.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if earlier == later:
        return [earlier]
    exists = local_wall_time(earlier, zone) == wall_time
    if exists:
        # The repeated hour: ``earlier`` is the first pass, ``later`` the second.
        return [earlier] if fixed_time else [earlier, later]
    if not fixed_time:
        return []
    return [_end_of_gap(wall_time, zone, min(earlier, later), max(earlier, later))]


def _end_of_gap(wall_time: datetime, zone: tzinfo, low: datetime, high: datetime) -> datetime:
    """The first minute in [low, high] whose local time is at or past ``wall_time``.

    For a local time in the skipped hour that minute is the moment of the jump.
    """
    low, high = floor_minute(low), floor_minute(high)
    while low < high:
        middle = low + MINUTE * ((high - low) // MINUTE // 2)
        if local_wall_time(middle, zone) >= wall_time:
            high = middle
        else:
            low = middle + MINUTE
    return low
