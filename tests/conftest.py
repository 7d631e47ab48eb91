from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from tests import jobs


def run_crons(*args: str, **options: object) -> str:
    """``call_command("runcrons", ...)`` and what it printed."""
    out = StringIO()
    call_command("runcrons", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Simulated wall clock: ``clock.at(datetime)`` moves it; starts 2025-01-06 00:00 UTC."""
    with time_machine.travel(datetime(2025, 1, 6, tzinfo=UTC), tick=False) as traveller:
        yield Clock(traveller)


class Clock:
    def __init__(self, traveller: time_machine.Coordinates) -> None:
        self.traveller = traveller

    def at(self, moment: datetime) -> None:
        self.traveller.move_to(moment)


@contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A server on a free port of 127.0.0.1 answering with ``handler`` from a thread
    (a stand-in monitor or Pushgateway); its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def without_module(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``importlib.util.find_spec`` say that ``name`` is not installed."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda wanted, *a: None if wanted == name else real(wanted, *a)
    )


@pytest.fixture
def finished_runs() -> Iterator[list[tuple[str, str, str]]]:
    """What ``cron_job_finished`` told its receivers: (code, entry, status) per run."""
    from django_cronjobs.signals import cron_job_finished

    heard: list[tuple[str, str, str]] = []

    def finished(sender: type, *, code: str, entry: str, status: str, **_: object) -> None:
        heard.append((code, entry, str(status)))

    cron_job_finished.connect(finished, dispatch_uid="tests.finished_runs")
    yield heard
    cron_job_finished.disconnect(dispatch_uid="tests.finished_runs")


@pytest.fixture(autouse=True)
def _reset_job_flags() -> Iterator[None]:
    yield
    jobs.RetryingJob.fail = True
    jobs.ReturnsJob.value = None
    jobs.DigestJob.calls.clear()
    jobs.DigestJob.failing.clear()
    jobs.ReportJob.calls.clear()


def redis_available() -> bool:
    """Whether the Redis of ``settings.REDIS_URL`` answers.

    With CRONJOBS_REQUIRE_SERVICES=1 (as in CI) a missing Redis fails the
    tests that need it instead of skipping them.
    """
    import os

    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("CRONJOBS_REQUIRE_SERVICES") == "1":
            raise
        return False
    return True


@pytest.fixture
def redis_cache(settings) -> Iterator[None]:
    """The cache lock on the real Redis."""
    if not redis_available():
        pytest.skip("Redis is not running")
    from django.core.cache import caches

    settings.CRONJOBS_LOCK_BACKEND = "cache"
    settings.CRONJOBS_CACHE = "redis"
    caches["redis"].clear()
    yield
    caches["redis"].clear()


def command_line_env(**extra: str) -> dict[str, str]:
    """The environment for a ``manage.py``-style child process on the test database."""
    import os

    from django.conf import settings

    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["PYTHONPATH"] = os.getcwd()
    env["CRONJOBS_TEST_DATABASE_NAME"] = settings.DATABASES["default"]["NAME"]
    env.update(extra)
    return env


def runcrons_command(*args: str, text: bool = True, **env: str):
    """``python -m django runcrons ARGS`` in a child process; its CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "django", "runcrons", *args],
        env=command_line_env(**env),
        capture_output=True,
        text=text,
        check=False,
    )


def refusing_non_ascii(store):
    """``store`` (an outcome's or a batch's), on a database whose message column
    cannot hold what is not ASCII (MySQL's utf8mb3 and an emoji)."""
    from django.db import DataError

    def refusing(runs, *args, **kwargs):
        if any(not run.message.isascii() for run in (runs if isinstance(runs, list) else [runs])):
            raise DataError("(1366, \"Incorrect string value: '\\xF0\\x9F\\x8E\\x89'\")\nmore")
        return store(runs, *args, **kwargs)

    return refusing
