"""Jobs that misbehave: runcrons stays up, records the truth, runs the next jobs."""

from __future__ import annotations

import os
import subprocess

import pytest
from django.db import connection

from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from tests.conftest import refusing_non_ascii, runcrons_command

pytestmark = pytest.mark.django_db(transaction=True)

NEXT = "tests.jobs.EveryMinuteJob"


def outcomes(*names: str) -> dict[str, str]:
    """Force-run ``names`` and then the job after them; their outcomes."""
    report = Runner(force=True).run([*names, NEXT])
    return {result.code: result.outcome for result in report.results}


def test_megabytes_and_bytes_on_stdout_and_stderr():
    process = runcrons_command("tests.jobs.LoudJob", NEXT, text=False)
    assert process.returncode == 0, process.stderr[-2000:]
    assert len(process.stdout) > 3_000_000
    assert "[✔] tests.every_minute".encode() in process.stdout
    assert CronJobLog.objects.get(code="tests.loud").message == "loud"


def test_sys_exit_fails_the_run_only():
    assert outcomes("tests.jobs.ExitingJob") == {
        "tests.exiting": RunStatus.FAILED,
        "tests.every_minute": RunStatus.SUCCEEDED,
    }
    assert "SystemExit: 3" in CronJobLog.objects.get(code="tests.exiting").message


def test_a_job_raising_keyboard_interrupt_on_the_command_line_is_a_failed_run():
    process = runcrons_command("tests.jobs.KeyboardInterruptJob", NEXT)
    assert process.returncode == 1, process.stderr
    assert "[✘] tests.keyboard_interrupt" in process.stdout
    assert "[✔] tests.every_minute" in process.stdout
    run = CronJobLog.objects.get(code="tests.keyboard_interrupt")
    assert run.status == RunStatus.FAILED
    assert "KeyboardInterrupt" in run.message


@pytest.mark.parametrize("job", ["LeakyTransactionJob", "AutocommitOffJob"])
def test_a_leaked_transaction_is_rolled_back_and_the_outcome_committed(job):
    result = outcomes(f"tests.jobs.{job}")
    assert result["tests.every_minute"] == RunStatus.SUCCEEDED
    run = CronJobLog.objects.exclude(code="tests.every_minute").get()
    assert run.status == RunStatus.SUCCEEDED
    assert "rolled back" in run.message
    assert not CronJobLog.objects.filter(code="tests.leaked_write").exists()
    assert not CronJobState.objects.filter(locked=True).exists()
    assert connection.get_autocommit()


def test_a_job_that_closes_the_connection():
    assert outcomes("tests.jobs.ConnectionClosingJob") == {
        "tests.connection_closing": RunStatus.SUCCEEDED,
        "tests.every_minute": RunStatus.SUCCEEDED,
    }


def test_a_connection_killed_mid_job_still_gets_its_outcome_recorded():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no server connection to kill")
    assert outcomes("tests.jobs.ConnectionKilledJob") == {
        "tests.connection_killed": RunStatus.SUCCEEDED,
        "tests.every_minute": RunStatus.SUCCEEDED,
    }
    run = CronJobLog.objects.get(code="tests.connection_killed")
    assert run.message == "survived"
    assert not CronJobState.objects.filter(locked=True).exists()


def test_a_message_the_database_refuses_is_stored_escaped(monkeypatch, caplog):
    from django_cronjobs.store import claims
    from tests.jobs import ReturnsJob

    monkeypatch.setattr(ReturnsJob, "value", "emoji \N{PARTY POPPER} ok")
    monkeypatch.setattr(claims, "finish_run", refusing_non_ascii(claims.finish_run))
    assert outcomes("tests.jobs.ReturnsJob")["tests.returns"] == "succeeded"
    run = CronJobLog.objects.get(code="tests.returns")
    assert (run.status, run.message) == (RunStatus.SUCCEEDED, "emoji \\U0001f389 ok")
    assert CronJobState.objects.get(job_name="tests.returns").locked is False
    assert (
        'Storing the outcome of tests.returns failed (DataError: (1366, "Incorrect string '
        "value: '\\xF0\\x9F\\x8E\\x89'\")); retrying"
    ) in caplog.messages


def test_database_down_at_tick_start_is_one_line_and_exit_status_3(tmp_path):
    process = runcrons_command(
        CRONJOBS_TEST_DATABASE_NAME="",
        DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3",
    )
    assert process.returncode == 3
    assert "Traceback" not in process.stderr
    assert process.stderr.strip().splitlines() == [
        "CommandError: database unavailable: unable to open database file"
    ]


def test_lock_backend_down_fails_closed_and_resumes(settings):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    settings.CRONJOBS_LOCK_BACKEND = "cache"
    settings.CRONJOBS_CACHE = "down"
    lines: list[str] = []
    report = Runner(write=lines.append).run([NEXT])
    assert [result.outcome for result in report.results] == ["lock_backend_failed"]
    assert report.failed
    assert any("cache lock backend failed" in line for line in lines)
    assert not CronJobLog.objects.exists()
    # Back up (here: another cache); runs resume.
    settings.CRONJOBS_CACHE = "default"
    report = Runner().run([NEXT])
    assert [result.outcome for result in report.results] == [RunStatus.SUCCEEDED]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, on a free port, that the test may stop."""
    import shutil
    import socket
    import time

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CRONJOBS_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp_path),
                ],
                stdout=subprocess.DEVNULL,
            )
            client = redis.Redis.from_url(self.url)
            for _ in range(100):
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            raise RuntimeError("redis-server did not start")

        def stop(self):
            self.process.terminate()
            self.process.wait()

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_redis_stopped_under_the_cache_lock(settings, own_redis):
    settings.CACHES = {
        **settings.CACHES,
        "own": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": own_redis.url,
        },
    }
    settings.CRONJOBS_LOCK_BACKEND = "cache"
    settings.CRONJOBS_CACHE = "own"
    assert outcomes() == {"tests.every_minute": RunStatus.SUCCEEDED}
    own_redis.stop()
    lines: list[str] = []
    report = Runner(force=True, write=lines.append).run([NEXT])
    assert [result.outcome for result in report.results] == ["lock_backend_failed"]
    assert CronJobLog.objects.count() == 1
    process = runcrons_command(NEXT, "--force", CRONJOBS_TEST_CACHE_URL=own_redis.url)
    assert process.returncode == 1, process.stderr
    assert "cache lock backend failed" in process.stdout
    own_redis.start()
    assert outcomes() == {"tests.every_minute": RunStatus.SUCCEEDED}
    assert CronJobLog.objects.count() == 2
