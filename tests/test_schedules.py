"""Slot arithmetic: pure functions, no database and no clock faking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from django_cronjobs import Schedule

T0 = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)  # a Monday


def ticks(schedule: Schedule, moments: list[datetime], previous: datetime | None = None):
    """Feed ``moments`` to the schedule as runcrons would; return the slots run."""
    ran = []
    for now in moments:
        slot = schedule.due_slot(previous, now, first_seen=moments[0])
        if slot is not None:
            ran.append(slot)
            previous = slot
    return ran


def late_minutes(count: int, lateness) -> list[datetime]:
    return [T0 + timedelta(minutes=i, seconds=lateness(i)) for i in range(count)]


@pytest.mark.parametrize("lateness", [lambda i: 0, lambda i: 10, lambda i: (i * 7) % 11])
def test_every_minute_runs_on_every_tick_when_cron_fires_late(lateness):
    ran = ticks(Schedule(run_every_mins=1), late_minutes(120, lateness))
    assert ran == [T0 + timedelta(minutes=i) for i in range(120)]


@pytest.mark.parametrize("lateness", [lambda i: 0, lambda i: 10, lambda i: (i * 7) % 11])
def test_every_five_minutes_runs_on_every_fifth_tick_without_drift(lateness):
    ran = ticks(Schedule(run_every_mins=5), late_minutes(120, lateness))
    assert ran == [T0 + timedelta(minutes=5 * i) for i in range(24)]


def test_new_interval_job_is_due_at_once_and_slots_are_whole_minutes():
    now = T0 + timedelta(minutes=3, seconds=41)
    assert Schedule(run_every_mins=60).due_slot(None, now) == T0 + timedelta(minutes=3)


def test_interval_slot_is_not_due_a_second_early():
    schedule = Schedule(run_every_mins=5)
    assert schedule.due_slot(T0, T0 + timedelta(minutes=4, seconds=59)) is None
    assert schedule.due_slot(T0, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=5)


def test_missed_interval_slots_run_once_for_the_latest():
    schedule = Schedule(run_every_mins=10)
    now = T0 + timedelta(hours=5, minutes=3)
    assert schedule.due_slot(T0, now) == T0 + timedelta(hours=5)


def test_tolerance_lets_a_slot_start_early():
    schedule = Schedule(run_every_mins=5, run_tolerance_seconds=30)
    assert schedule.due_slot(T0, T0 + timedelta(minutes=4, seconds=29)) is None
    assert schedule.due_slot(T0, T0 + timedelta(minutes=4, seconds=31)) == T0 + timedelta(minutes=5)


def test_run_at_times_in_the_schedule_timezone():
    schedule = Schedule(run_at_times=["02:30"], timezone="Europe/Berlin")
    # 02:30 in Berlin in January is 01:30 UTC.
    moments = [T0 + timedelta(minutes=i) for i in range(0, 48 * 60)]
    ran = ticks(schedule, moments)
    assert ran == [
        datetime(2025, 1, 6, 1, 30, tzinfo=UTC),
        datetime(2025, 1, 7, 1, 30, tzinfo=UTC),
    ]


def test_run_at_times_uses_settings_time_zone_by_default(settings):
    settings.TIME_ZONE = "America/New_York"
    schedule = Schedule(run_at_times=["09:00"])
    now = datetime(2025, 1, 6, 14, 0, 30, tzinfo=UTC)
    assert schedule.due_slot(datetime(2025, 1, 5, 14, 0, tzinfo=UTC), now) == datetime(
        2025, 1, 6, 14, 0, tzinfo=UTC
    )


def test_new_wall_clock_job_does_not_backfill():
    schedule = Schedule(run_at_times=["00:00"])
    first_seen = T0 + timedelta(hours=10)
    assert schedule.due_slot(None, first_seen, first_seen=first_seen) is None
    tomorrow = T0 + timedelta(days=1, seconds=5)
    assert schedule.due_slot(None, tomorrow, first_seen=first_seen) == T0 + timedelta(days=1)


def test_cron_expression_every_fifteen_minutes():
    ran = ticks(Schedule(cron="*/15 * * * *"), late_minutes(60, lambda i: 9))
    assert ran == [T0 + timedelta(minutes=m) for m in (0, 15, 30, 45)]


@pytest.mark.parametrize(
    ("macro", "runs_in_a_week"), [("@hourly", 168), ("@daily", 7), ("@weekly", 1)]
)
def test_cron_macros(macro, runs_in_a_week):
    start = T0 + timedelta(minutes=1)
    moments = [start + timedelta(minutes=i) for i in range(7 * 24 * 60)]
    assert len(ticks(Schedule(cron=macro), moments, previous=T0)) == runs_in_a_week


def test_weekly_day_filter_restricts_intervals():
    # Mondays only (0 = Monday), every 6 hours.
    schedule = Schedule(run_every_mins=360, run_weekly_on_days=[0])
    moments = [T0 + timedelta(minutes=i) for i in range(7 * 24 * 60)]
    ran = ticks(schedule, moments)
    assert ran == [T0 + timedelta(hours=h) for h in (0, 6, 12, 18)]


def test_run_on_days_is_the_old_name_of_run_weekly_on_days():
    assert Schedule(run_every_mins=1, run_on_days=[5]).run_weekly_on_days == [5]


def test_monthly_day_filter_restricts_times():
    schedule = Schedule(run_at_times=["08:00"], run_monthly_on_days=[1, 15])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(minutes=30 * i) for i in range(59 * 48)]
    ran = ticks(schedule, moments)
    assert [slot.date().isoformat() for slot in ran] == [
        "2025-01-01",
        "2025-01-15",
        "2025-02-01",
        "2025-02-15",
    ]


def test_retry_after_failure_waits_then_retries():
    schedule = Schedule(run_every_mins=60, retry_after_failure_mins=5)
    failed_at = T0 + timedelta(seconds=3)
    assert schedule.due_slot(T0, T0 + timedelta(minutes=4), failed_at=failed_at) is None
    assert schedule.due_slot(T0, T0 + timedelta(minutes=5, seconds=2), failed_at=failed_at) == (
        T0 + timedelta(minutes=5)
    )


def test_retry_holds_back_more_frequent_regular_slots():
    schedule = Schedule(run_every_mins=1, retry_after_failure_mins=5)
    assert schedule.due_slot(T0, T0 + timedelta(minutes=2), failed_at=T0) is None


def test_without_retry_a_failed_job_waits_for_its_next_slot():
    schedule = Schedule(run_every_mins=60)
    assert schedule.due_slot(T0, T0 + timedelta(minutes=5), failed_at=T0) is None


def test_every_invocation_is_always_due():
    schedule = Schedule(run_every_mins=0)
    assert schedule.every_invocation
    assert schedule.due_slot(T0, T0) is not None


def test_next_slots_for_display():
    schedule = Schedule(run_at_times=["02:30", "14:00"], timezone="Europe/Berlin")
    assert schedule.next_slots(T0, 3) == [
        datetime(2025, 1, 6, 1, 30, tzinfo=UTC),
        datetime(2025, 1, 6, 13, 0, tzinfo=UTC),
        datetime(2025, 1, 7, 1, 30, tzinfo=UTC),
    ]
    assert Schedule(run_every_mins=90).next_slots(T0, 2) == [
        T0 + timedelta(minutes=90),
        T0 + timedelta(minutes=180),
    ]


def test_next_slots_skip_filtered_days():
    schedule = Schedule(run_every_mins=720, run_weekly_on_days=[2])  # Wednesdays
    assert schedule.next_slots(T0, 3) == [
        datetime(2025, 1, 8, 0, 0, tzinfo=UTC),
        datetime(2025, 1, 8, 12, 0, tzinfo=UTC),
        datetime(2025, 1, 15, 0, 0, tzinfo=UTC),
    ]


BERLIN = ZoneInfo("Europe/Berlin")


def day_runs(schedule: Schedule, day: datetime) -> list[datetime]:
    """Every slot run while cron ticks each minute over one local day, and a bit."""
    start = day.replace(tzinfo=BERLIN).astimezone(UTC)
    previous = start - timedelta(minutes=1)
    moments = [start + timedelta(minutes=i, seconds=5) for i in range(25 * 60)]
    end = (day + timedelta(days=1)).replace(tzinfo=BERLIN).astimezone(UTC)
    return [slot for slot in ticks(schedule, moments, previous=previous) if slot < end]


@pytest.mark.parametrize(
    ("day", "hourly_runs"),
    [(datetime(2025, 10, 26), 25), (datetime(2025, 3, 30), 23), (datetime(2025, 6, 1), 24)],
)
def test_hourly_cron_follows_elapsed_time_over_dst(day, hourly_runs):
    schedule = Schedule(cron="0 * * * *", timezone="Europe/Berlin")
    assert len(day_runs(schedule, day)) == hourly_runs


@pytest.mark.parametrize("day", [datetime(2025, 10, 26), datetime(2025, 3, 30)])
@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(cron="30 2 * * *", timezone="Europe/Berlin"),
        Schedule(run_at_times=["02:30"], timezone="Europe/Berlin"),
    ],
    ids=["cron", "run_at_times"],
)
def test_fixed_time_in_the_dst_hour_runs_exactly_once(day, schedule):
    runs = day_runs(schedule, day)
    assert len(runs) == 1
    if day.month == 3:
        # 02:30 does not exist: it runs right after the jump, at 03:00 CEST.
        assert runs[0] == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    else:
        # 02:30 happens twice: it runs at the first, 02:30 CEST.
        assert runs[0] == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)


def test_rare_days_are_found_quickly_and_correctly():
    # Every minute, but only on a Friday the 13th.
    schedule = Schedule(cron="* * * * *", run_weekly_on_days=[4], run_monthly_on_days=[13])
    assert schedule.due_slot(
        datetime(2024, 12, 13, 12, 0, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    ) == datetime(2024, 12, 13, 23, 59, tzinfo=UTC)
    assert schedule.next_slots(datetime(2025, 8, 1, tzinfo=UTC), 1) == [
        datetime(2026, 2, 13, 0, 0, tzinfo=UTC)
    ]


def test_next_slots_stay_in_order_across_fall_back():
    schedule = Schedule(cron="* * * * *", timezone="Europe/Berlin")
    start = datetime(2025, 10, 25, 23, 59, 30, tzinfo=UTC)
    assert schedule.next_slots(start, 6) == [
        datetime(2025, 10, 26, 0, m, tzinfo=UTC) for m in range(6)
    ]


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("0 6 * * 1", "every Monday at 06:00 Europe/Berlin"),
        ("30 7 * * mon-fri", "every Monday to Friday at 07:30 Europe/Berlin"),
        ("0 0 * * 0,6", "every Saturday, Sunday at 00:00 Europe/Berlin"),
        ("0 6,18 * * *", "every day at 06:00 and 18:00 Europe/Berlin"),
        ("15 2 1,15 * *", "on day 1 and 15 of the month at 02:15 Europe/Berlin"),
        ("0 9 1 * 1", "on day 1 of the month or every Monday at 09:00 Europe/Berlin"),
        ("0 4 1 jan,jul *", "on day 1 of the month at 04:00 in January and July Europe/Berlin"),
        ("@daily", "every day at 00:00 Europe/Berlin"),
        ("@hourly", "every hour at minute 0"),
        ("* * * * *", "every minute"),
        ("*/15 * * * *", "every 15 minutes"),
        ("*/10 * * * 1-5", "every 10 minutes, every Monday to Friday Europe/Berlin"),
        ("5 */2 * * *", "every 2 hours at minute 5 Europe/Berlin"),
        ("0 9-17 * * 1-5", "every hour from 09:00 to 17:00, every Monday to Friday Europe/Berlin"),
        ("0 0 * * 0-7", "every day at 00:00 Europe/Berlin"),
        # Shapes without a good sentence show the expression.
        ("*/7 * * * *", 'cron "*/7 * * * *" Europe/Berlin'),
        ("0 0 L * *", 'cron "0 0 L * *" Europe/Berlin'),
        ("0 9 * * 1#2", 'cron "0 9 * * 1#2" Europe/Berlin'),
        ("*/5 9 * * *", 'cron "*/5 9 * * *" Europe/Berlin'),
        ("0,10,20,30,40,50 6,18 * * *", 'cron "0,10,20,30,40,50 6,18 * * *" Europe/Berlin'),
    ],
)
def test_cron_expressions_read_as_plain_english(expression, text):
    assert Schedule(cron=expression, timezone="Europe/Berlin").describe() == text
