"""Daylight saving time, the cronie way, over three zones and four years.

Fixed-time schedules run exactly once per local day (in the skipped hour,
right after the jump; in the repeated hour, at the first pass). Hourly and
more frequent schedules follow real elapsed time. The expected counts come
from an oracle that walks every real minute of the day.
"""

from __future__ import annotations

import os
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from django_cronjobs import Schedule
from django_cronjobs.schedules.slots import local_midnight

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
YEARS = [2025, 2026, 2027, 2028]
TICK = timedelta(minutes=5)


def transition_days(zone_name: str, year: int) -> list[date]:
    """The local dates on which the zone changes its UTC offset."""
    zone = zoneinfo.ZoneInfo(zone_name)
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        start = local_midnight(day, zone)
        end = local_midnight(day + timedelta(days=1), zone)
        if (
            start.astimezone(zone).utcoffset()
            != (end - timedelta(minutes=1)).astimezone(zone).utcoffset()
        ):
            days.append(day)
        day += timedelta(days=1)
    return days


def runs_on(schedule: Schedule, day: date) -> list[datetime]:
    """Slots run on local ``day`` when runcrons ticks every five minutes, a bit late."""
    zone = schedule.zone
    start = local_midnight(day, zone)
    end = local_midnight(day + timedelta(days=1), zone)
    first_seen = start - timedelta(hours=1)
    previous = None
    ran = []
    now = first_seen + timedelta(seconds=17)
    while now < end + timedelta(hours=1):
        plan = schedule.plan(previous, now, first_seen=first_seen)
        assert plan.missed == [], (now, plan)
        for slot in plan.run:
            ran.append(slot)
            previous = slot
        now += TICK
    return [slot for slot in ran if start <= slot < end]


def real_minutes(day: date, zone_name: str):
    zone = zoneinfo.ZoneInfo(zone_name)
    minute = local_midnight(day, zone)
    end = local_midnight(day + timedelta(days=1), zone)
    while minute < end:
        yield minute.astimezone(zone)
        minute += timedelta(minutes=1)


CASES = [(zone, day) for zone in ZONES for year in YEARS for day in transition_days(zone, year)]


def test_each_zone_has_two_transitions_a_year():
    assert len(CASES) == len(ZONES) * len(YEARS) * 2


@pytest.mark.parametrize(("zone", "day"), CASES, ids=[f"{z}-{d}" for z, d in CASES])
def test_wildcard_schedules_follow_elapsed_time(zone, day):
    minutes = list(real_minutes(day, zone))
    hourly = runs_on(Schedule(cron="0 * * * *", timezone=zone), day)
    assert len(hourly) == sum(1 for m in minutes if m.minute == 0)
    quarterly = runs_on(Schedule(cron="*/15 * * * *", timezone=zone), day)
    assert len(quarterly) == sum(1 for m in minutes if m.minute % 15 == 0)
    assert len(set(quarterly)) == len(quarterly)


@pytest.mark.parametrize(("zone", "day"), CASES, ids=[f"{z}-{d}" for z, d in CASES])
@pytest.mark.parametrize("at", ["00:00", "01:30", "02:00", "02:15", "02:30", "03:00", "12:00"])
def test_fixed_times_run_exactly_once_a_day(zone, day, at):
    hours, minutes = map(int, at.split(":"))
    for schedule in (
        Schedule(run_at_times=[at], timezone=zone),
        Schedule(cron=f"{minutes} {hours} * * *", timezone=zone),
        Schedule(cron=f"{minutes} {hours} * * {day.isoweekday() % 7}", timezone=zone),
    ):
        ran = runs_on(schedule, day)
        assert len(ran) == 1, (schedule, ran)
        local = ran[0].astimezone(zoneinfo.ZoneInfo(zone))
        # Its own time, or the first minute after the jump when it was skipped.
        assert local.time() >= time(hours, minutes) or local.date() == day


@pytest.mark.parametrize(("zone", "day"), CASES, ids=[f"{z}-{d}" for z, d in CASES])
def test_intervals_follow_elapsed_time(zone, day):
    zone_info = zoneinfo.ZoneInfo(zone)
    length = local_midnight(day + timedelta(days=1), zone_info) - local_midnight(day, zone_info)
    ran = runs_on(Schedule(run_every_mins=30, timezone=zone), day)
    assert len(ran) == length // timedelta(minutes=30)


@pytest.mark.parametrize(
    ("zone", "day", "hourly", "quarterly"),
    [
        ("Europe/Berlin", date(2025, 10, 26), 25, 100),
        ("Europe/Berlin", date(2025, 3, 30), 23, 92),
        ("America/New_York", date(2025, 11, 2), 25, 100),
        ("America/New_York", date(2025, 3, 9), 23, 92),
        # A 30-minute shift: no o'clock repeats or vanishes in the fall.
        ("Australia/Lord_Howe", date(2025, 4, 6), 24, 98),
        ("Australia/Lord_Howe", date(2025, 10, 5), 23, 94),
    ],
)
def test_exact_counts(zone, day, hourly, quarterly):
    assert len(runs_on(Schedule(cron="0 * * * *", timezone=zone), day)) == hourly
    assert len(runs_on(Schedule(cron="*/15 * * * *", timezone=zone), day)) == quarterly
    assert len(runs_on(Schedule(cron="30 2 * * *", timezone=zone), day)) == 1


def loadable_zones() -> list[str]:
    zones = []
    for name in sorted(zoneinfo.available_timezones()):
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        zones.append(name)
    return zones


@st.composite
def zone_and_day(draw: st.DrawFn) -> tuple[str, date]:
    """A zone and, mostly, one of its transition days (else any day)."""
    zone = draw(st.sampled_from(loadable_zones()))
    year = draw(st.integers(min_value=2024, max_value=2030))
    transitions = transition_days(zone, year)
    if transitions and draw(st.integers(0, 9)) > 0:
        return zone, draw(st.sampled_from(transitions))
    return zone, draw(st.dates(min_value=date(year, 1, 1), max_value=date(year, 12, 31)))


@settings(
    max_examples=int(os.environ.get("CRONJOBS_DST_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    zone_day=zone_and_day(),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_a_fixed_time_job_runs_once_per_local_date(zone_day, at):
    zone, day = zone_day
    zone_info = zoneinfo.ZoneInfo(zone)
    start = local_midnight(day, zone_info)
    end = local_midnight(day + timedelta(days=1), zone_info)
    # A day that a zone skips whole, or whose gap crosses midnight, has no
    # "once on that date" to speak of.
    assume(start.astimezone(zone_info).date() == day)
    assume((end - timedelta(minutes=1)).astimezone(zone_info).date() == day)
    schedule = Schedule(run_at_times=[f"{at:%H:%M}"], timezone=zone)
    assert len(runs_on(schedule, day)) == 1
