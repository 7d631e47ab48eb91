"""Pause, resume and run-now: flags that the next runcrons honours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.monitoring import controls
from django_cronjobs.store import claims
from tests.conftest import run_crons

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
EVERY_MINUTE = "tests.every_minute"
EVERY_FIVE = "tests.every_five_minutes"


def results(**options: object) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for result in Runner(**options).run().results:  # type: ignore[arg-type]
        found.setdefault(result.code, []).append(result.outcome)
    return found


def test_a_paused_job_does_not_run_and_the_others_do(clock):
    assert controls.pause(EVERY_MINUTE)
    out = run_crons()
    assert "[ ] tests.every_minute (paused)" in out.splitlines()
    assert "[✔] tests.every_five_minutes 00:00 0.000 s" in out.splitlines()
    assert not CronJobLog.objects.filter(code=EVERY_MINUTE).exists()


def test_slots_passed_while_paused_are_skipped_not_missed_nor_caught_up(clock):
    run_crons()
    controls.pause(EVERY_FIVE)
    for minute in range(1, 23):
        clock.at(T0 + timedelta(minutes=minute, seconds=5))
        assert results()[EVERY_FIVE] == ["paused"]
    assert controls.resume(EVERY_FIVE)
    clock.at(T0 + timedelta(minutes=23, seconds=5))
    assert results()[EVERY_FIVE] == ["not_due"]  # 23:00's slot 20 passed while paused
    clock.at(T0 + timedelta(minutes=25, seconds=5))
    assert results()[EVERY_FIVE] == ["succeeded"]
    runs = CronJobLog.objects.filter(code=EVERY_FIVE).order_by("start_time")
    assert [(run.slot, run.status) for run in runs] == [
        (T0, RunStatus.SUCCEEDED),
        (T0 + timedelta(minutes=25), RunStatus.SUCCEEDED),
    ]


def test_pausing_twice_and_resuming_a_running_job_report_no_change(clock):
    assert controls.pause(EVERY_MINUTE)
    assert not controls.pause(EVERY_MINUTE)
    state = CronJobState.objects.get(job_name=EVERY_MINUTE)
    assert state.paused
    assert state.paused_at == T0
    assert controls.resume(EVERY_MINUTE)
    assert not controls.resume(EVERY_MINUTE)
    state.refresh_from_db()
    assert not state.paused
    assert state.paused_at is None


def test_a_requested_run_runs_once_without_a_slot_at_the_next_tick(clock):
    run_crons()
    clock.at(T0 + timedelta(minutes=1, seconds=30))
    assert controls.request_run("tests.daily")
    assert not controls.request_run("tests.daily")  # one request at a time
    assert results()["tests.daily"] == ["succeeded"]
    run = CronJobLog.objects.get(code="tests.daily")
    assert run.slot is None
    assert CronJobState.objects.get(job_name="tests.daily").run_requested_at is None
    clock.at(T0 + timedelta(minutes=2, seconds=30))
    assert results()["tests.daily"] == ["not_due"]
    assert CronJobLog.objects.filter(code="tests.daily").count() == 1


def test_a_paused_job_runs_when_a_run_is_requested(clock):
    controls.pause("tests.daily")
    controls.request_run("tests.daily")
    assert results()["tests.daily"] == ["succeeded", "paused"]
    assert CronJobLog.objects.get(code="tests.daily").status == RunStatus.SUCCEEDED


def test_a_requested_run_of_a_paused_job_prints_one_line(clock):
    controls.pause("tests.daily")
    controls.request_run("tests.daily")
    out = run_crons("tests.jobs.DailyJob")
    assert out.splitlines()[2:] == ["[✔] tests.daily 0.000 s"]


def test_dry_run_tells_what_would_happen_and_keeps_the_request(clock):
    controls.pause(EVERY_MINUTE)
    controls.request_run("tests.daily")
    found = results(dry_run=True)
    assert found[EVERY_MINUTE] == ["paused"]
    assert found["tests.daily"] == ["would_run"]
    assert CronJobState.objects.get(job_name="tests.daily").run_requested_at == T0
    assert not CronJobLog.objects.exists()


def test_a_request_taken_by_another_host_is_not_run_again(clock):
    controls.request_run("tests.daily")
    requested = CronJobState.objects.get(job_name="tests.daily").run_requested_at
    assert claims.claim("tests.daily", None, None, request=requested)
    assert not claims.claim("tests.daily", None, None, request=requested)


def test_a_request_read_through_another_time_zone_is_still_claimed(clock):
    controls.request_run("tests.daily")
    # The value a host read back may differ from the stored one (a database
    # TIME_ZONE, a driver rounding): clearing the flag is what claims it.
    assert claims.claim("tests.daily", None, None, request=T0 + timedelta(hours=1))
    assert CronJobState.objects.get(job_name="tests.daily").run_requested_at is None


def test_resuming_skips_the_slots_that_passed_even_without_a_tick_meanwhile(clock):
    run_crons()
    controls.pause(EVERY_FIVE)
    clock.at(T0 + timedelta(minutes=22, seconds=5))  # runcrons did not run at all
    assert controls.resume(EVERY_FIVE)
    assert results()[EVERY_FIVE] == ["not_due"]
    clock.at(T0 + timedelta(minutes=25, seconds=5))
    assert results()[EVERY_FIVE] == ["succeeded"]
    assert not CronJobLog.objects.filter(code=EVERY_FIVE, status=RunStatus.MISSED).exists()


def test_a_request_waits_while_the_job_runs_elsewhere(clock, settings):
    settings.CRONJOBS_LOCK_BACKEND = "database"
    run_crons("tests.jobs.DailyJob")
    CronJobState.objects.filter(job_name="tests.daily").update(
        locked=True, lock_expires_at=T0 + timedelta(minutes=10)
    )
    controls.request_run("tests.daily")
    assert results()["tests.daily"] == ["locked"]
    assert CronJobState.objects.get(job_name="tests.daily").run_requested_at == T0
    CronJobState.objects.filter(job_name="tests.daily").update(locked=False)
    clock.at(T0 + timedelta(minutes=1))
    assert results()["tests.daily"] == ["succeeded"]


def test_idle_ticks_with_paused_jobs_stay_one_query(clock):
    for code in (EVERY_MINUTE, EVERY_FIVE, "tests.daily"):
        controls.pause(code)
    run_crons()
    clock.at(T0 + timedelta(minutes=1, seconds=10))
    run_crons()  # skips 00:01 and stores when each job is next due
    clock.at(T0 + timedelta(minutes=1, seconds=40))
    with CaptureQueriesContext(connection) as queries:
        out = run_crons()
    assert out.count("(paused)") == 3
    assert len(queries) == 1, [q["sql"] for q in queries]
