"""Daylight saving time through entries: the rules of code schedules, per entry.

Each entry is ticked every five minutes, a little late, across the days its
zone skips and repeats an hour: a fixed time runs once per local day (in the
skipped hour right after the jump, in the repeated hour at its first pass),
an hourly cron follows elapsed time.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest

from django_cronjobs import Schedule
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronEntry, CronJobLog
from django_cronjobs.schedules.slots import local_midnight
from tests.jobs import ReportJob

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SPRING = date(2025, 3, 30)  # 02:00 becomes 03:00
AUTUMN = date(2025, 10, 26)  # 03:00 becomes 02:00 again
ENTRIES = {
    "cron-0230": Schedule(cron="30 2 * * *", timezone="Europe/Berlin"),
    "times-0230": Schedule(run_at_times=["02:30"], timezone="Europe/Berlin"),
    "cron-0200": Schedule(cron="0 2 * * *", timezone="Europe/Berlin"),
    "hourly": Schedule(cron="0 * * * *", timezone="Europe/Berlin"),
    "hashed": Schedule(cron="H 2 * * *", timezone="Europe/Berlin"),
}


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.CRON_CLASSES = ["tests.jobs.ReportJob"]
    settings.TIME_ZONE = "UTC"


def run_day(clock, day: date) -> dict[str, list[datetime]]:
    """Tick every five minutes from the evening before to the morning after ``day``;
    the slots each entry ran on ``day``, local."""
    start, end = local_midnight(day, BERLIN), local_midnight(day + timedelta(days=1), BERLIN)
    clock.at(start - timedelta(hours=2))
    for key, schedule in ENTRIES.items():
        CronEntry.objects.schedule(ReportJob, key=key, schedule=schedule)
    now = start - timedelta(hours=2) + timedelta(seconds=17)
    while now < end + timedelta(hours=2):
        clock.at(now)
        Runner(silent=True).run()
        now += timedelta(minutes=5)
    ran: dict[str, list[datetime]] = {key: [] for key in ENTRIES}
    runs = CronJobLog.objects.filter(code="tests.report", slot__gte=start, slot__lt=end)
    for run in runs.exclude(entry="").order_by("slot"):
        ran[run.entry].append(run.slot.astimezone(BERLIN))
    return ran


def test_the_day_that_skips_an_hour(clock):
    ran = run_day(clock, SPRING)
    # 02:30 does not exist: the run comes right after the jump, once.
    assert [slot.strftime("%H:%M %Z") for slot in ran["cron-0230"]] == ["03:00 CEST"]
    assert [slot.strftime("%H:%M %Z") for slot in ran["times-0230"]] == ["03:00 CEST"]
    assert [slot.strftime("%H:%M %Z") for slot in ran["cron-0200"]] == ["03:00 CEST"]
    assert len(ran["hashed"]) == 1
    assert len(ran["hourly"]) == 23  # the day is 23 hours long


def test_the_day_that_repeats_an_hour(clock):
    ran = run_day(clock, AUTUMN)
    # 02:30 happens twice: the run is at its first pass, summer time.
    assert [slot.strftime("%H:%M %Z") for slot in ran["cron-0230"]] == ["02:30 CEST"]
    assert [slot.strftime("%H:%M %Z") for slot in ran["times-0230"]] == ["02:30 CEST"]
    assert [slot.strftime("%H:%M %Z") for slot in ran["cron-0200"]] == ["02:00 CEST"]
    assert len(ran["hashed"]) == 1
    assert len(ran["hourly"]) == 25  # the day is 25 hours long


def test_every_entry_ran_each_slot_once(clock):
    run_day(clock, AUTUMN)
    runs = CronJobLog.objects.filter(code="tests.report").exclude(entry="")
    slots = list(runs.values_list("entry", "slot"))
    assert len(slots) == len(set(slots))
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
