"""Ping monitors, against a small HTTP server that records what it is sent."""

from __future__ import annotations

import http.server
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.engine.runner import Runner
from django_cronjobs.integrations import pings
from django_cronjobs.models import CronEntry, CronJobLog
from tests.conftest import http_server
from tests.jobs import DigestJob

pytestmark = pytest.mark.django_db


@dataclass
class Monitor:
    """What a healthchecks.io-like monitor received: (method, path with query, body)."""

    url: str
    received: list[tuple[str, str, str]] = field(default_factory=list)
    delay: float = 0
    status: int = 200

    def paths(self) -> list[str]:
        return [path.split("?")[0] for _, path, _ in self.received]


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    state = Monitor("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            time.sleep(state.delay)
            state.received.append((self.command, self.path, body))
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"OK")

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    with http_server(Handler) as state.url:
        yield state


class Pinged(CronJobBase):
    code = "tests.pinged"
    schedule = Schedule(run_every_mins=1)
    PING_URL = ""  # set by the tests
    fail = False

    def do(self) -> str:
        if Pinged.fail:
            raise RuntimeError("the backup disk is full")
        return "ok"


HERE = "tests.test_pings.Pinged"


@pytest.fixture(autouse=True)
def _pinged(monitor, monkeypatch, settings):
    monkeypatch.setattr(Pinged, "PING_URL", f"{monitor.url}/ping/abc")
    monkeypatch.setattr(Pinged, "fail", False)
    settings.CRON_CLASSES = [HERE]


def test_a_run_pings_start_then_success_with_one_run_id(monitor):
    Runner(silent=True).run()
    assert pings.flush(5)
    assert monitor.paths() == ["/ping/abc/start", "/ping/abc"]
    (start_rid,), (end_rid,) = (path.split("rid=")[1:] for _, path, _ in monitor.received)
    assert start_rid == end_rid
    uuid.UUID(start_rid)  # healthchecks.io wants a UUID
    run = CronJobLog.objects.get()
    assert start_rid == pings.run_id(run)


def test_a_failed_run_pings_fail_with_its_reason(monitor):
    Pinged.fail = True
    Runner(silent=True).run()
    assert pings.flush(5)
    method, path, body = monitor.received[-1]
    assert (method, path.split("?")[0]) == ("POST", "/ping/abc/fail")
    assert body.splitlines()[0] == "RuntimeError: the backup disk is full"
    assert "Traceback" in body


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(pings, "RETRY_PAUSES", (0.01, 0.01))


def test_a_ping_the_monitor_refuses_is_retried(monitor, quick_retries, caplog):
    monitor.status = 503
    Runner(silent=True).run()
    assert pings.flush(10)
    assert monitor.paths() == ["/ping/abc/start"] * 3 + ["/ping/abc"] * 3
    assert caplog.text.count("Could not ping") == 2


def test_a_slow_or_down_monitor_neither_delays_nor_fails_the_run(
    monitor, settings, caplog, quick_retries
):
    settings.CRONJOBS_PING_TIMEOUT = 0.2
    monitor.delay = 1.5
    started = time.monotonic()
    report = Runner(silent=True).run()
    assert time.monotonic() - started < 1.0
    assert [result.outcome for result in report.results] == ["succeeded"]
    pings.flush(20)
    assert "Could not ping" in caplog.text
    assert f"{monitor.url}/ping/abc/start" in caplog.text
    assert "rid=" not in caplog.text  # the URL without its query


def test_the_setting_names_a_url_per_job_and_a_job_may_opt_out(monitor, settings, monkeypatch):
    settings.CRONJOBS_PING_URL = monitor.url + "/key/{code}"
    settings.CRON_CLASSES = [HERE, "tests.jobs.EveryMinuteJob"]
    monkeypatch.setattr(Pinged, "PING_URL", False)
    Runner(silent=True).run()
    assert pings.flush(5)
    assert monitor.paths() == ["/key/tests.every_minute/start", "/key/tests.every_minute"]


def test_an_entry_pings_the_url_with_its_key(monitor, settings, clock):
    settings.CRONJOBS_PING_URL = monitor.url + "/key/{code}-{entry}"
    settings.CRON_CLASSES = ["tests.jobs.DigestJob"]
    CronEntry.objects.schedule(
        DigestJob, key="customer 7", kwargs={"customer_id": 7}, schedule=Schedule(run_every_mins=1)
    )
    clock.at(datetime(2025, 1, 6, 0, 1, 5, tzinfo=UTC))
    Runner(silent=True).run()
    assert pings.flush(5)
    assert monitor.paths() == [
        "/key/tests.digest-customer%207/start",
        "/key/tests.digest-customer%207",
    ]


def test_no_url_no_ping(monitor, monkeypatch):
    monkeypatch.setattr(Pinged, "PING_URL", None)
    Runner(silent=True).run()
    assert pings.flush(5)
    assert monitor.received == []


def test_a_run_found_dead_pings_fail_at_once(monitor, settings, clock):
    from django_cronjobs.store import claims
    from tests.test_recovery import crashed_run, dead_pid

    settings.CRONJOBS_PING_URL = monitor.url + "/key/{code}"
    settings.CRON_CLASSES = ["tests.jobs.EveryMinuteJob"]
    crashed = crashed_run(claims.hostname(), dead_pid(), datetime(2025, 1, 6, 0, 2, tzinfo=UTC))
    Runner(silent=True).run()
    assert pings.flush(5)
    method, path, body = monitor.received[0]
    assert (method, path.split("?")[0]) == ("POST", "/key/tests.every_minute/fail")
    assert f"rid={pings.run_id(crashed)}" in path
    assert body.startswith("Abandoned: process")
    assert monitor.paths()[1:] == ["/key/tests.every_minute/start", "/key/tests.every_minute"]
