"""The tick's plan phase: a pure function of a job's class, its state and now.

No test here may touch the database (pytest-django refuses without the
``django_db`` mark) or fake the clock: ``now`` is an argument.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.engine.plan import JobPlan, batchable, plan_job, requested_run
from django_cronjobs.models import RunStatus
from django_cronjobs.store.due_times import note_not_due
from django_cronjobs.store.job_states import JobState
from tests import jobs

T0 = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def state(code: str = "tests.every_minute", **fields) -> JobState:
    moments = {name: fields.pop(name) for name in list(fields) if name not in JobState.__slots__}
    return JobState(1, code, **fields, **moments)


class BrokenSchedule(Schedule):
    def plan(self, *args, **kwargs):
        raise ZeroDivisionError("no slots today")


class BrokenScheduleJob(CronJobBase):
    code = "tests.broken_schedule"
    schedule = BrokenSchedule(run_every_mins=1)

    def do(self) -> None:
        pass


def test_a_job_that_never_ran_on_an_interval_is_due_at_once():
    plan = plan_job(jobs.EveryFiveMinutesJob, state(first_seen=T0), T0)
    assert plan.slots == (T0,)
    assert plan.missed == []


def test_a_job_is_due_at_its_next_slot_and_not_before():
    last = state(last_slot=T0, first_seen=T0)
    assert plan_job(jobs.EveryFiveMinutesJob, last, T0 + 4 * MINUTE).slots == ()
    assert plan_job(jobs.EveryFiveMinutesJob, last, T0 + 5 * MINUTE).slots == (T0 + 5 * MINUTE,)


def test_slots_passed_long_ago_are_missed_and_the_current_one_runs():
    plan = plan_job(jobs.EveryFiveMinutesJob, state(last_slot=T0, first_seen=T0), T0 + 30 * MINUTE)
    assert plan.slots == (T0 + 30 * MINUTE,)
    assert plan.missed[0] == T0 + 5 * MINUTE
    assert plan.slot_plan.missed == plan.missed


def test_a_failed_run_is_retried_from_the_state_alone():
    failed = state(
        "tests.retrying",
        last_slot=T0,
        first_seen=T0,
        last_status=RunStatus.FAILED,
        last_started_at=T0,
    )
    assert plan_job(jobs.RetryingJob, failed, T0 + 4 * MINUTE).slots == ()
    assert plan_job(jobs.RetryingJob, failed, T0 + 5 * MINUTE).slots == (T0 + 5 * MINUTE,)


def test_a_paused_job_plans_nothing_unless_forced():
    paused = state(paused=True, first_seen=T0)
    assert plan_job(jobs.EveryMinuteJob, paused, T0) == JobPlan(paused=True)
    assert plan_job(jobs.EveryMinuteJob, paused, T0, force=True).slots == (None,)


def test_forced_and_every_invocation_runs_have_no_slot():
    assert plan_job(jobs.DailyJob, state(first_seen=T0), T0, force=True).slots == (None,)
    assert plan_job(jobs.EveryInvocationJob, state(), T0).slots == (None,)


def test_a_stored_due_moment_skips_the_schedule_until_it_comes():
    # The job's next due moment, as a tick that found it not due stores it.
    last = state("tests.broken_schedule", last_slot=T0, first_seen=T0)
    assert note_not_due(jobs.EveryFiveMinutesJob, last)
    assert last.next_due == T0 + 5 * MINUTE
    # Its digest is of EveryFiveMinutesJob's schedule: valid for it, not for another.
    assert plan_job(jobs.EveryFiveMinutesJob, last, T0 + MINUTE) == JobPlan(known_not_due=True)
    assert plan_job(jobs.EveryFiveMinutesJob, last, T0 + 5 * MINUTE).slots == (T0 + 5 * MINUTE,)
    assert plan_job(jobs.EveryMinuteJob, last, T0 + MINUTE).slots == (T0 + MINUTE,)


def test_a_schedule_that_fails_is_a_broken_plan_not_an_error():
    plan = plan_job(BrokenScheduleJob, state("tests.broken_schedule", first_seen=T0), T0)
    assert plan.slots == ()
    assert plan.broken is not None
    assert plan.broken.check_id == "django_cronjobs.E011"
    assert "no slots today" in plan.broken.message
    assert isinstance(plan.error, ZeroDivisionError)


def test_a_requested_run_comes_unless_forced():
    asked = state(run_requested_at=T0)
    assert requested_run(asked, force=False) == T0
    assert requested_run(asked, force=True) is None
    assert requested_run(state(), force=False) is None


@pytest.mark.parametrize(
    ("plan", "requested", "force", "joins"),
    [
        (JobPlan(slots=(T0,)), False, False, True),
        (JobPlan(slots=(T0,)), True, False, False),
        (JobPlan(slots=(T0,)), False, True, False),
        (JobPlan(slots=(None,)), False, False, False),
        (JobPlan(slots=(T0, T0 + MINUTE)), False, False, False),
        (JobPlan(slots=()), False, False, False),
    ],
)
def test_only_one_plain_slot_may_join_a_batch(plan, requested, force, joins):
    assert (batchable(plan, requested=requested, force=force) == T0) is joins


def test_a_plan_with_missed_slots_takes_the_one_run_path():
    plan = plan_job(jobs.EveryFiveMinutesJob, state(last_slot=T0, first_seen=T0), T0 + 30 * MINUTE)
    assert len(plan.slots) == 1
    assert batchable(plan, requested=False, force=False) is None
