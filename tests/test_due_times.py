"""Stored next due moments: idle ticks skip schedule evaluation, never a due slot."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from django_cronjobs import Schedule
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.store.job_states import EpochMicroseconds, read_states
from tests import jobs
from tests.conftest import run_crons

T0 = datetime(2025, 1, 6, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
CRON_EXPRESSIONS = ["*/15 * * * *", "30 2 * * *", "0 9 * * 1-5", "0 0 1 * *", "@hourly"]


def wall_times() -> st.SearchStrategy[str]:
    return st.builds(
        "{:02d}:{:02d}".format, st.integers(0, 23), st.sampled_from([0, 1, 15, 30, 59])
    )


def day_filters() -> st.SearchStrategy[dict[str, object]]:
    return st.one_of(
        st.just({}),
        st.builds(
            lambda days: {"run_weekly_on_days": days},
            st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True),
        ),
        st.builds(
            lambda days: {"run_monthly_on_days": days},
            st.lists(st.sampled_from([1, 15, 28, 31]), min_size=1, max_size=2, unique=True),
        ),
    )


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kind = draw(st.sampled_from(["interval", "times", "cron"]))
    arguments: dict[str, object] = dict(draw(day_filters()))
    if kind == "interval":
        arguments["run_every_mins"] = draw(st.sampled_from([1, 5, 7, 60, 90, 1440, 2880]))
    elif kind == "times":
        arguments["run_at_times"] = draw(st.lists(wall_times(), min_size=1, max_size=3))
    else:
        arguments["cron"] = draw(st.sampled_from(CRON_EXPRESSIONS))
    if kind != "interval" or draw(st.booleans()):
        arguments["timezone"] = draw(st.sampled_from(ZONES))
    arguments["retry_after_failure_mins"] = draw(st.sampled_from([None, 1, 5, 120]))
    arguments["run_tolerance_seconds"] = draw(st.sampled_from([0, 30, 90]))
    schedule = Schedule(**arguments)  # type: ignore[arg-type]
    assume(not schedule.problems())
    return schedule


def minutes() -> st.SearchStrategy[datetime]:
    # 2025 and 2026 hold every DST change of the zones above, twice.
    return st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)).map(
        lambda moment: moment.replace(second=0, microsecond=0, tzinfo=UTC)
    )


def is_empty(schedule: Schedule, previous, now, failed_at) -> bool:
    plan = schedule.plan(previous, now, first_seen=previous, failed_at=failed_at)
    return not plan.run and not plan.missed


@settings(
    max_examples=int(os.environ.get("CRONJOBS_DST_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    schedule=schedules(),
    previous=minutes(),
    failed_after=st.one_of(st.none(), st.integers(0, 3600)),
    fractions=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=4),
)
def test_plan_finds_nothing_before_next_due_and_something_at_it(
    schedule, previous, failed_after, fractions
):
    failed_at = None if failed_after is None else previous + timedelta(seconds=failed_after)
    due = schedule.next_due(previous, first_seen=previous, failed_at=failed_at)
    assume(due is not None)
    start = max(previous, failed_at or previous)
    assert not is_empty(schedule, previous, due, failed_at)
    if due <= start:
        return
    for fraction in [0, *fractions]:
        now = min(start + (due - start) * fraction, due - timedelta(microseconds=1))
        assert is_empty(schedule, previous, now, failed_at), now
    assert is_empty(schedule, previous, due - timedelta(microseconds=1), failed_at)


def test_a_job_that_never_ran_on_an_interval_has_no_stored_moment():
    assert Schedule(run_every_mins=5).next_due(None, first_seen=T0) is None
    assert Schedule(run_every_mins=0).next_due(T0) is None
    assert Schedule(run_at_times=["02:30"], timezone="UTC").next_due(
        None, first_seen=T0
    ) == T0.replace(hour=2, minute=30)


def settle(clock, *paths: str) -> None:
    """Run once, then tick once more so that the next due moments are stored."""
    run_crons(*paths)
    clock.at(T0 + timedelta(seconds=30))
    run_crons(*paths)


@pytest.fixture
def plan_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = Schedule.plan

    def counting_plan(self, *args, **kwargs):
        calls.append(repr(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Schedule, "plan", counting_plan)
    return calls


@pytest.mark.django_db
def test_idle_ticks_do_not_evaluate_schedules_until_a_job_is_due(clock, plan_calls):
    settle(clock)
    plan_calls.clear()
    clock.at(T0 + timedelta(seconds=50))
    out = run_crons()
    assert plan_calls == []
    assert out.count("[ ]") == 3
    clock.at(T0 + timedelta(minutes=1, seconds=1))
    assert "[✔] tests.every_minute" in run_crons()
    assert plan_calls == [repr(jobs.EveryMinuteJob.schedule)]


@pytest.mark.django_db
def test_a_changed_schedule_is_evaluated_again(clock, monkeypatch):
    settle(clock, "tests.jobs.DailyJob")
    assert CronJobState.objects.get().next_due == T0.replace(hour=2, minute=30)
    monkeypatch.setattr(jobs.DailyJob, "schedule", Schedule(run_at_times=["00:01"]))
    clock.at(T0 + timedelta(minutes=1, seconds=5))
    assert "[✔] tests.daily" in run_crons("tests.jobs.DailyJob")


@pytest.mark.django_db
def test_a_failure_recorded_by_another_host_brings_the_retry_forward(clock):
    jobs.RetryingJob.fail = False
    settle(clock, "tests.jobs.RetryingJob")
    assert CronJobState.objects.get().next_due == T0 + timedelta(hours=1)
    # Another host with an older view ran the slot again and it failed.
    CronJobState.objects.update(
        last_status=RunStatus.FAILED, last_started_at=T0 + timedelta(minutes=2)
    )
    clock.at(T0 + timedelta(minutes=7, seconds=3))
    assert "[✔] tests.retrying" in run_crons("tests.jobs.RetryingJob")
    assert CronJobLog.objects.filter(slot=T0 + timedelta(minutes=7)).exists()


@pytest.mark.django_db
def test_a_changed_time_zone_is_evaluated_again(clock, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    settle(clock, "tests.jobs.DailyJob")
    # 14:00 in Kolkata is 08:30 UTC.
    assert CronJobState.objects.get().next_due == T0.replace(hour=8, minute=30)
    settings.TIME_ZONE = "UTC"
    clock.at(T0.replace(hour=2, minute=30, second=4))
    assert "[✔] tests.daily" in run_crons("tests.jobs.DailyJob")


@pytest.mark.django_db
def test_dry_run_stores_nothing(clock):
    run_crons("tests.jobs.DailyJob")
    run_crons("tests.jobs.DailyJob", dry_run=True)
    assert CronJobState.objects.get().next_due is None
    run_crons("tests.jobs.DailyJob")
    assert CronJobState.objects.get().next_due == T0.replace(hour=2, minute=30)


@pytest.mark.django_db
def test_the_portable_read_of_states_gives_the_same_moments(clock, monkeypatch):
    """Other databases (or USE_TZ = False) read datetimes through the ORM instead."""
    clock.at(T0 + timedelta(seconds=1, microseconds=250))
    settle(clock)
    CronJobState.objects.filter(job_name="tests.every_minute").update(
        lock_expires_at=T0 + timedelta(microseconds=7), locked=True
    )
    fast = read_states()
    monkeypatch.setattr(EpochMicroseconds, "VENDORS", ())
    portable = read_states()
    assert (
        sorted(fast.states)
        == sorted(portable.states)
        == sorted(CronJobState.objects.values_list("job_name", flat=True))
    )
    for code, state in fast.states.items():
        other = portable.states[code]
        assert (state.pk, state.locked, state.last_status, state.due_key) == (
            other.pk,
            other.locked,
            other.last_status,
            other.due_key,
        )
        assert state.microseconds == other.microseconds
        assert state.next_due == CronJobState.objects.get(job_name=code).next_due
    assert fast.states["tests.every_minute"].lock_expires_at == T0 + timedelta(microseconds=7)
    assert abs((fast.database_now - portable.database_now).total_seconds()) < 5
