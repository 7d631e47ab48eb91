"""Timeouts that really stop a job, and jobs of one tick running side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from django_cronjobs.engine import isolation
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from tests.conftest import command_line_env

pytestmark = pytest.mark.django_db(transaction=True)

NEXT = "tests.jobs.EveryMinuteJob"


def outcomes(report) -> dict[str, str]:
    return {result.code: result.outcome for result in report.results}


def test_a_job_past_its_timeout_is_stopped_and_recorded():
    started = time.monotonic()
    report = Runner().run(["tests.jobs.TimeoutJob", NEXT])
    assert time.monotonic() - started < 30
    assert outcomes(report) == {
        "tests.timeout": RunStatus.TIMED_OUT,
        "tests.every_minute": RunStatus.SUCCEEDED,
    }
    run = CronJobLog.objects.get(code="tests.timeout")
    assert run.message == "Timed out after 1 s: stopped with SIGTERM."
    assert not run.is_success
    assert not CronJobState.objects.filter(locked=True).exists()
    assert report.failed


def test_a_job_that_ignores_sigterm_gets_sigkill(monkeypatch):
    monkeypatch.setattr(isolation, "TERMINATE_GRACE_SECONDS", 0.5)
    report = Runner().run(["tests.jobs.StubbornJob"])
    assert outcomes(report) == {"tests.stubborn": RunStatus.TIMED_OUT}
    assert "SIGKILL" in CronJobLog.objects.get().message


def test_processes_a_timed_out_job_started_are_stopped_with_it(tmp_path, monkeypatch):
    pid_file = tmp_path / "sleeper.pid"
    monkeypatch.setenv("CRONJOBS_TEST_PID_FILE", str(pid_file))
    report = Runner().run(["tests.jobs.SpawningJob"])
    assert outcomes(report) == {"tests.spawning": RunStatus.TIMED_OUT}
    sleeper = int(pid_file.read_text())
    for _ in range(100):  # the kernel reaps it shortly after the signal
        if not process_exists(sleeper):
            break
        time.sleep(0.05)
    assert not process_exists(sleeper)


def process_exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"  # a zombie is gone but unreaped
    except FileNotFoundError:
        return False


def test_the_default_timeout_setting(settings):
    settings.CRONJOBS_DEFAULT_TIMEOUT_SECONDS = 0.5
    report = Runner().run(["tests.jobs.SleepingJob"])
    assert outcomes(report) == {"tests.sleeping": RunStatus.TIMED_OUT}


def test_a_timed_job_runs_in_a_child_that_reports_back():
    report = Runner().run(["tests.jobs.QuickTimedJob", "tests.jobs.FailingTimedJob"])
    assert outcomes(report) == {
        "tests.quick_timed": RunStatus.SUCCEEDED,
        "tests.failing_timed": RunStatus.FAILED,
    }
    # The child saw the database (its own running row) and sent its result back.
    assert CronJobLog.objects.get(code="tests.quick_timed").message == "{'runs': 1}"
    failed = CronJobLog.objects.get(code="tests.failing_timed").message
    assert "ValueError: inside the child" in failed


def test_a_slow_job_does_not_delay_the_others():
    report = Runner(concurrency=2).run(["tests.jobs.SlowJob", NEXT, "tests.jobs.DailyJob"])
    assert outcomes(report)["tests.slow"] == RunStatus.SUCCEEDED
    assert outcomes(report)["tests.every_minute"] == RunStatus.SUCCEEDED
    slow = CronJobLog.objects.get(code="tests.slow")
    quick = CronJobLog.objects.get(code="tests.every_minute")
    assert quick.start_time < slow.end_time
    assert quick.end_time < slow.end_time


def test_one_job_at_a_time_by_default():
    Runner().run(["tests.jobs.SlowJob", NEXT])
    slow = CronJobLog.objects.get(code="tests.slow")
    quick = CronJobLog.objects.get(code="tests.every_minute")
    assert quick.start_time >= slow.end_time


def test_sigterm_stops_every_concurrent_job_and_records_it():
    env = command_line_env(CRONJOBS_TEST_SLEEP="60")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django",
            "runcrons",
            "tests.jobs.SleepingJob",
            "tests.jobs.SlowJob",
            "--concurrency",
            "2",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while CronJobLog.objects.running().count() < 2:
        assert time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    time.sleep(0.5)  # both children started
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    statuses = dict(CronJobLog.objects.values_list("code", "status"))
    assert statuses == {
        "tests.sleeping": RunStatus.INTERRUPTED,
        "tests.slow": RunStatus.INTERRUPTED,
    }
    assert not CronJobState.objects.filter(locked=True).exists()
    # No child is left behind.
    leftovers = subprocess.run(
        ["pgrep", "-f", "multiprocessing.spawn"], capture_output=True, text=True, check=False
    ).stdout.split()
    assert str(os.getpid()) not in leftovers


def process_is_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] in ("Z", "X")  # zombie: dead
    except FileNotFoundError:
        return True


def test_a_job_in_a_child_dies_with_a_killed_runcrons(tmp_path):
    pid_file = tmp_path / "pid"
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runcrons", "tests.jobs.PidWritingJob"],
        env=command_line_env(CRONJOBS_TEST_PID_FILE=str(pid_file)),
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while not process_is_gone(child):
        assert time.monotonic() < deadline, "the job outlived runcrons: it could run twice"
        time.sleep(0.05)


def test_a_thread_the_job_leaves_behind_does_not_hang_runcrons(monkeypatch):
    monkeypatch.setattr(isolation, "TERMINATE_GRACE_SECONDS", 0.5)
    started = time.monotonic()
    report = Runner().run(["tests.jobs.ThreadLeavingJob", NEXT])
    assert time.monotonic() - started < 20
    assert outcomes(report) == {
        "tests.thread_leaving": RunStatus.SUCCEEDED,
        "tests.every_minute": RunStatus.SUCCEEDED,
    }


def test_an_error_in_a_worker_thread_is_raised(monkeypatch):
    from django.db import OperationalError

    from django_cronjobs.store import claims

    def broken_claim(*args, **kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(claims, "claim", broken_claim)
    with pytest.raises(OperationalError):
        Runner(concurrency=2).run([NEXT, "tests.jobs.DailyJob"])


@pytest.mark.django_db(transaction=False)
def test_concurrency_inside_a_callers_transaction_runs_one_job_after_the_other():
    report = Runner(concurrency=2).run([NEXT, "tests.jobs.EveryFiveMinutesJob"])
    assert outcomes(report) == {
        "tests.every_minute": RunStatus.SUCCEEDED,
        "tests.every_five_minutes": RunStatus.SUCCEEDED,
    }
