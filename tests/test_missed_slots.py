"""Slots that passed while runcrons did not run: policies, deadline, records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from django_cronjobs import Schedule
from django_cronjobs.models import CronJobLog, RunStatus
from tests.conftest import run_crons

T0 = datetime(2025, 1, 6, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_latest_runs_the_latest_missed_slot_and_lists_the_others():
    plan = Schedule(run_every_mins=60).plan(T0, T0 + 5 * HOUR + timedelta(minutes=3))
    assert plan.run == [T0 + 5 * HOUR]
    assert plan.missed == [T0 + n * HOUR for n in (1, 2, 3, 4)]
    assert not plan.more_missed


def test_skip_runs_nothing_late_and_resumes_at_the_next_slot():
    schedule = Schedule(run_every_mins=60, missed_slots="skip")
    plan = schedule.plan(T0, T0 + 5 * HOUR + timedelta(minutes=3))
    assert plan.run == []
    assert plan.missed == [T0 + n * HOUR for n in (1, 2, 3, 4, 5)]
    on_time = schedule.plan(T0 + 5 * HOUR, T0 + 6 * HOUR + timedelta(seconds=20))
    assert on_time.run == [T0 + 6 * HOUR]
    assert on_time.missed == []


def test_replay_runs_each_missed_slot_up_to_the_limit():
    schedule = Schedule(run_every_mins=60, missed_slots="replay", replay_limit=3)
    plan = schedule.plan(T0, T0 + 5 * HOUR + timedelta(minutes=3))
    assert plan.run == [T0 + n * HOUR for n in (3, 4, 5)]
    assert plan.missed == [T0 + n * HOUR for n in (1, 2)]


def test_starting_deadline_makes_late_slots_missed():
    schedule = Schedule(cron="0 * * * *", timezone="UTC", starting_deadline_seconds=300)
    assert schedule.plan(T0, T0 + HOUR + timedelta(minutes=4)).run == [T0 + HOUR]
    late = schedule.plan(T0, T0 + HOUR + timedelta(minutes=6))
    assert late.run == []
    assert late.missed == [T0 + HOUR]


def test_a_long_outage_records_the_latest_hundred_and_says_there_were_more():
    back = T0 + timedelta(days=3)
    plan = Schedule(run_every_mins=1).plan(T0, back)
    # The slots of the last two minutes are current: they run, oldest first.
    assert plan.run == [back - timedelta(minutes=2), back - timedelta(minutes=1), back]
    assert len(plan.missed) == 100
    assert plan.missed[-1] == back - timedelta(minutes=3)
    assert plan.more_missed


def test_hosts_with_skewed_clocks_run_recent_slots_instead_of_missing_them():
    # A host whose clock is 90 s ahead sees minute 6 while minute 5 is unclaimed.
    plan = Schedule(run_every_mins=1).plan(at(4), at(6) + timedelta(seconds=30))
    assert plan.run == [at(5), at(6)]
    assert plan.missed == []


def test_a_clock_stepped_back_does_not_rerun_a_slot():
    schedule = Schedule(run_every_mins=1, run_at_times=["00:07"], timezone="UTC")
    assert schedule.plan(at(10), at(5)).run == []
    assert schedule.plan(at(10), at(10) + timedelta(seconds=59)).run == []


def test_on_a_punctual_crontab_nothing_is_missed():
    schedule = Schedule(run_every_mins=1)
    for minute in range(1, 30):
        plan = schedule.plan(at(minute - 1), at(minute) + timedelta(seconds=9))
        assert plan.run == [at(minute)]
        assert plan.missed == []


def test_a_new_job_does_not_backfill():
    schedule = Schedule(cron="*/5 * * * *", timezone="UTC")
    added = T0 + 3 * HOUR + timedelta(minutes=2)
    plan = schedule.plan(None, added, first_seen=added)
    assert plan.run == []
    assert plan.missed == []
    # Its first slot after it was added runs, even when cron fires it late.
    later = schedule.plan(None, added + timedelta(minutes=4), first_seen=added)
    assert later.run == [T0 + 3 * HOUR + timedelta(minutes=5)]
    assert later.missed == []


@pytest.mark.django_db
def test_runcrons_records_missed_slots(clock):
    run_crons("tests.jobs.EveryFiveMinutesJob")
    clock.at(T0 + timedelta(minutes=21))  # cron was down for 20 minutes
    run_crons("tests.jobs.EveryFiveMinutesJob")
    rows = CronJobLog.objects.order_by("slot")
    assert [(row.slot - T0, row.status) for row in rows] == [
        (timedelta(minutes=0), RunStatus.SUCCEEDED),
        (timedelta(minutes=5), RunStatus.MISSED),
        (timedelta(minutes=10), RunStatus.MISSED),
        (timedelta(minutes=15), RunStatus.MISSED),
        (timedelta(minutes=20), RunStatus.SUCCEEDED),
    ]
    assert all(not row.is_success for row in rows if row.status == RunStatus.MISSED)


@pytest.mark.django_db
def test_runcrons_replays(clock, settings):
    settings.CRON_CLASSES = ["tests.jobs.ReplayingJob"]
    run_crons()
    clock.at(T0 + timedelta(hours=4, minutes=1))
    out = run_crons()
    assert out.count("[✔] tests.replaying") == 4
    assert [row.slot for row in CronJobLog.objects.order_by("slot")] == [
        T0 + n * HOUR for n in range(5)
    ]


@pytest.mark.django_db
def test_runcrons_with_only_missed_slots_records_them_and_runs_nothing(clock, settings):
    settings.CRON_CLASSES = ["tests.jobs.SkippingJob"]
    run_crons()
    clock.at(T0 + timedelta(hours=2, minutes=30))
    # The line names the slots that passed unrun.
    assert "[ ] tests.skipping: missed 01:00, 02:00" in run_crons().splitlines()
    assert list(CronJobLog.objects.order_by("slot").values_list("status", flat=True)) == [
        RunStatus.SUCCEEDED,
        RunStatus.MISSED,
        RunStatus.MISSED,
    ]
    # A second process in the same minute records nothing twice.
    run_crons()
    assert CronJobLog.objects.count() == 3
    clock.at(T0 + timedelta(hours=3))
    assert "[✔] tests.skipping" in run_crons()


def test_a_missed_slot_line_names_days_when_the_slots_span_them():
    from django_cronjobs.schedules.schedule import SlotPlan
    from django_cronjobs.store.job_states import JobState
    from django_cronjobs.text.console_lines import not_due_line
    from tests import jobs

    state = JobState(None, "tests.daily")
    days = [T0 + timedelta(days=n, hours=2, minutes=30) for n in range(3)]
    line = not_due_line("tests.daily", SlotPlan(missed=days), jobs.DailyJob, state)
    assert line == ("[ ] tests.daily: missed 2025-01-06 02:30, 2025-01-07 02:30, 2025-01-08 02:30")
    hours = [T0 + timedelta(hours=n) for n in range(8)]
    line = not_due_line(
        "tests.daily", SlotPlan(missed=hours, more_missed=True), jobs.DailyJob, state
    )
    assert line == (
        "[ ] tests.daily: missed 03:00, 04:00, 05:00, 06:00, 07:00 (and more than 3 earlier)"
    )
