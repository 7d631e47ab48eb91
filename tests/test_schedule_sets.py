"""A silent tick reads only the states of the jobs that need it, whatever their number."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.engine import runner as runner_module
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronEntry, CronJobLog, CronJobState, RunStatus, ScheduleSet
from django_cronjobs.monitoring import controls
from tests import jobs

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
MANY = [f"tests.many_jobs.Job{number}" for number in range(50)]


def tick(*names: str) -> Runner:
    runner = Runner(silent=True)
    runner.run(list(names) or None)
    return runner


def outcomes(runner: Runner) -> dict[str, str]:
    return {result.code: result.outcome for result in runner.report.results}


@pytest.fixture
def planned(monkeypatch) -> list[str]:
    """The codes of the jobs the ticks planned (whose state they looked at)."""
    codes: list[str] = []
    original = runner_module.plan_job

    def counting(job_class, *args, **kwargs):
        codes.append(job_class.code)
        return original(job_class, *args, **kwargs)

    monkeypatch.setattr(runner_module, "plan_job", counting)
    return codes


def settle(clock, settings, classes: list[str]) -> None:
    """Run the jobs once, then tick again: each one's next due moment is stored
    and the set recorded."""
    settings.CRON_CLASSES = classes
    tick()
    clock.at(T0 + timedelta(seconds=20))
    tick()
    clock.at(T0 + timedelta(seconds=30))


def test_an_idle_silent_tick_is_one_query_and_looks_at_no_job(clock, settings, planned):
    settle(clock, settings, MANY)
    assert ScheduleSet.objects.count() == 1
    planned.clear()
    with CaptureQueriesContext(connection) as queries:
        runner = tick()
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert planned == []
    assert set(outcomes(runner).values()) == {"not_due"}
    assert len(outcomes(runner)) == 50


def test_only_the_due_job_is_looked_at(clock, settings, planned):
    settle(clock, settings, MANY)
    planned.clear()
    # Job0 runs every 60 minutes, Job1 every 61: at 01:00 only Job0 is due.
    clock.at(T0 + timedelta(hours=1, seconds=2))
    runner = tick()
    assert planned == ["tests.many.0"]
    assert outcomes(runner)["tests.many.0"] == "succeeded"
    assert outcomes(runner)["tests.many.1"] == "not_due"


class Hourly(CronJobBase):
    code = "tests.deployed"
    schedule = Schedule(run_every_mins=60)

    def do(self) -> None:
        pass


class EveryFiveMinutes(Hourly):
    schedule = Schedule(run_every_mins=5)


def test_a_deploy_that_changes_a_schedule_is_read_at_the_next_tick(clock, settings, planned):
    here = "tests.test_schedule_sets"
    settle(clock, settings, [f"{here}.Hourly", *MANY])
    settings.CRON_CLASSES = [f"{here}.EveryFiveMinutes", *MANY]
    clock.at(T0 + timedelta(minutes=5, seconds=3))
    planned.clear()
    with CaptureQueriesContext(connection) as queries:
        runner = tick()
    # The set's record differs: every state is read again, by a second query.
    assert len(planned) == 51
    assert outcomes(runner)["tests.deployed"] == "succeeded"
    assert len([q for q in queries if "cronjobstate" in q["sql"].lower()]) >= 2
    clock.at(T0 + timedelta(minutes=5, seconds=40))
    tick()  # stores the moments, records the set anew
    planned.clear()
    clock.at(T0 + timedelta(minutes=6))
    with CaptureQueriesContext(connection) as queries:
        tick()
    assert planned == []
    assert len(queries) == 1


def test_a_new_job_is_seen_at_once(clock, settings):
    settle(clock, settings, MANY)
    settings.CRON_CLASSES = [*MANY, "tests.jobs.EveryMinuteJob"]
    clock.at(T0 + timedelta(minutes=1, seconds=1))
    assert outcomes(tick())["tests.every_minute"] == "succeeded"


def test_a_deleted_state_row_is_created_again_and_its_job_runs(clock, settings):
    settle(clock, settings, ["tests.jobs.EveryFiveMinutesJob", *MANY])
    CronJobState.objects.filter(job_name="tests.every_five_minutes").delete()
    clock.at(T0 + timedelta(minutes=5, seconds=1))
    assert outcomes(tick())["tests.every_five_minutes"] == "succeeded"
    assert CronJobState.objects.filter(job_name="tests.every_five_minutes").exists()


def test_a_requested_run_is_read_at_the_next_tick(clock, settings):
    settle(clock, settings, MANY)
    assert controls.request_run("tests.many.7")
    runner = tick()
    assert outcomes(runner)["tests.many.7"] == "succeeded"
    assert CronJobLog.objects.filter(code="tests.many.7", slot__isnull=True).exists()


def test_a_paused_job_holds_its_entries(clock, settings):
    # The job's own schedule is daily: its state row is not due.
    settings.CRON_CLASSES = ["tests.jobs.ReportJob", *MANY]
    CronEntry.objects.schedule(jobs.ReportJob, key="a", schedule=Schedule(run_every_mins=1))
    settle(clock, settings, settings.CRON_CLASSES)
    assert controls.pause(jobs.ReportJob.code)
    clock.at(T0 + timedelta(minutes=3, seconds=1))
    runner = tick()
    assert outcomes(runner)["tests.report[a]"] == "paused"
    assert not CronJobLog.objects.filter(code="tests.report").exists()


class FailsWhileAnotherHostTicks(CronJobBase):
    """Fails once; meanwhile another host's tick stores the job's next due moment."""

    code = "tests.fails_meanwhile"
    schedule = Schedule(run_every_mins=60, retry_after_failure_mins=5)
    runs = 0

    def do(self) -> None:
        type(self).runs += 1
        if type(self).runs == 1:
            other_host = threading.Thread(target=tick)
            other_host.start()
            other_host.join()
            raise RuntimeError("first run fails")


@pytest.mark.django_db(transaction=True)
def test_a_failure_brings_the_retry_forward_though_another_tick_stored_a_later_moment(
    clock, settings
):
    here = "tests.test_schedule_sets"
    FailsWhileAnotherHostTicks.runs = 0
    settings.CRON_CLASSES = [f"{here}.FailsWhileAnotherHostTicks", *MANY]
    clock.at(T0 + timedelta(seconds=10))
    tick()
    clock.at(T0 + timedelta(seconds=40))
    tick()
    assert FailsWhileAnotherHostTicks.runs == 1
    state = CronJobState.objects.get(job_name="tests.fails_meanwhile")
    assert state.last_status == RunStatus.FAILED
    clock.at(T0 + timedelta(minutes=5, seconds=2))
    assert outcomes(tick())["tests.fails_meanwhile"] == "succeeded"
    assert FailsWhileAnotherHostTicks.runs == 2


def test_a_tick_that_prints_reads_every_job(clock, settings, planned):
    settle(clock, settings, MANY)
    planned.clear()
    Runner(write=lambda line: None).run()
    assert len(planned) == 50


def test_a_broken_schedule_keeps_the_set_unrecorded(clock, settings, monkeypatch):
    settle(clock, settings, ["tests.jobs.EveryFiveMinutesJob"])
    ScheduleSet.objects.all().delete()

    def broken(*args, **kwargs):
        raise ValueError("cannot evaluate")

    monkeypatch.setattr(Schedule, "plan_from", broken)
    monkeypatch.setattr(jobs.EveryFiveMinutesJob, "schedule", Schedule(run_every_mins=7))
    clock.at(T0 + timedelta(minutes=1))
    assert outcomes(tick())["tests.every_five_minutes"] == "broken"
    assert not ScheduleSet.objects.exists()


def test_a_slot_stored_far_ahead_is_taken_back(clock, settings):
    settle(clock, settings, ["tests.jobs.EveryFiveMinutesJob", *MANY])
    # What a host with a wrong clock leaves: a last slot and a due moment in 2100.
    ahead = datetime(2100, 1, 1, tzinfo=UTC)
    CronJobState.objects.filter(job_name="tests.every_five_minutes").update(
        last_slot=ahead, next_due=ahead
    )
    clock.at(T0 + timedelta(minutes=5, seconds=1))
    tick()
    # Taken back: the job counts from now.
    state = CronJobState.objects.get(job_name="tests.every_five_minutes")
    assert state.last_slot == T0 + timedelta(minutes=4)
    clock.at(T0 + timedelta(minutes=9, seconds=1))
    assert outcomes(tick())["tests.every_five_minutes"] == "succeeded"


def test_a_moment_worked_out_from_a_row_that_changed_since_is_not_stored(clock, settings):
    """Another host read the row while the job ran; the run failed meanwhile: the
    moment that host worked out must not replace the one the failure cleared."""
    from django_cronjobs.store import due_times
    from django_cronjobs.store.job_states import read_states

    settle(clock, settings, ["tests.jobs.RetryingJob"])
    CronJobState.objects.update(last_status=RunStatus.RUNNING, next_due=None)
    other_host = read_states(timezone_now()).states["tests.retrying"]
    due_times.note_not_due(jobs.RetryingJob, other_host)
    assert other_host.next_due is not None
    # The run fails and its outcome is stored.
    CronJobState.objects.update(last_status=RunStatus.FAILED, next_due=None)
    due_times.store_next_due([other_host])
    assert CronJobState.objects.get().next_due is None


def timezone_now():
    from django.utils import timezone

    return timezone.now()


class FailsWhenAsked(CronJobBase):
    """Succeeds on its schedule; its requested run fails."""

    code = "tests.fails_when_asked"
    schedule = Schedule(run_every_mins=60, retry_after_failure_mins=5)
    fail = False

    def do(self) -> None:
        if FailsWhenAsked.fail:
            raise RuntimeError("asked at a bad time")


def test_a_failed_requested_run_is_retried(clock, settings):
    FailsWhenAsked.fail = False
    settings.CRON_CLASSES = ["tests.test_schedule_sets.FailsWhenAsked", *MANY]
    clock.at(T0 + timedelta(seconds=10))
    tick()
    clock.at(T0 + timedelta(seconds=40))
    assert controls.request_run("tests.fails_when_asked")
    FailsWhenAsked.fail = True
    clock.at(T0 + timedelta(minutes=1, seconds=2))
    assert outcomes(tick())["tests.fails_when_asked"] == "failed"
    FailsWhenAsked.fail = False
    for minute in (2, 3, 4, 5):
        clock.at(T0 + timedelta(minutes=minute, seconds=2))
        tick()
    clock.at(T0 + timedelta(minutes=6, seconds=2))
    assert outcomes(tick())["tests.fails_when_asked"] == "succeeded"


def test_a_row_deleted_while_another_is_created_is_seen(clock, settings):
    settle(clock, settings, ["tests.jobs.EveryFiveMinutesJob", *MANY])
    CronJobState.objects.filter(job_name="tests.every_five_minutes").delete()
    CronJobState.objects.create(job_name="another.project.job")  # the count is unchanged
    clock.at(T0 + timedelta(minutes=5, seconds=1))
    assert outcomes(tick())["tests.every_five_minutes"] == "succeeded"


def test_a_broken_class_path_outside_the_set_does_not_keep_it_unrecorded(clock, settings):
    settle(clock, settings, [*MANY, "tests.jobs.Missing"])
    assert ScheduleSet.objects.count() == 1
    with CaptureQueriesContext(connection) as queries:
        tick()
    assert len(queries) == 1


def test_a_dead_run_of_a_parallel_job_not_due_is_counted(clock, settings):
    from django_cronjobs.store import claims
    from tests.test_recovery import dead_pid

    settle(clock, settings, ["tests.jobs.ParallelJob", *MANY])
    # A run of it whose process died; the job itself is not due.
    CronJobLog.objects.create(
        code="tests.parallel",
        slot=T0 - timedelta(minutes=1),
        start_time=T0 - timedelta(minutes=1),
        status=RunStatus.RUNNING,
        hostname=claims.hostname(),
        host_id=claims.host_id(),
        pid=dead_pid(),
        lease_expires_at=T0 + timedelta(minutes=2),
    )
    clock.at(T0 + timedelta(seconds=40))
    runner = tick()
    assert outcomes(runner)["tests.parallel"] == RunStatus.ABANDONED
    assert runner.report.failed
